package plugin

import (
	"context"
	"maps"
	"slices"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/cscs-dev/cscs/sdk/internal/convert"
	infov1 "github.com/cscs-dev/cscs/sdk/proto/info/v1"
)

// Info tells which plugins a plugin binary serves. A host dispenses it
// under KindInfo.
type Info interface {
	// Served returns the kinds served, in the order of Kinds(), and, for a
	// binary serving several sources (ServeConfig.Sources), their names,
	// sorted: the host names one in each call (CallFor). A binary built
	// with an SDK older than source names reports none.
	Served(ctx context.Context) (kinds, sourceNames []string, err error)
}

// infoGRPCPlugin carries the info service: served with what a binary
// serves (it answers the service itself), dispensed as an Info.
type infoGRPCPlugin struct {
	goplugin.NetRPCUnsupportedPlugin
	infov1.UnimplementedInfoServer
	kinds, sourceNames []string
}

// newInfoPlugin is the info service of what cfg serves.
func newInfoPlugin(cfg ServeConfig) *infoGRPCPlugin {
	return &infoGRPCPlugin{kinds: cfg.kinds(), sourceNames: slices.Sorted(maps.Keys(cfg.Sources))}
}

func (p *infoGRPCPlugin) GRPCServer(_ *goplugin.GRPCBroker, s *grpc.Server) error {
	infov1.RegisterInfoServer(s, p)
	return nil
}

func (p *infoGRPCPlugin) GRPCClient(_ context.Context, _ *goplugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return &infoClient{stub: infov1.NewInfoClient(c)}, nil
}

func (p *infoGRPCPlugin) Kinds(context.Context, *infov1.KindsRequest) (*infov1.KindsResponse, error) {
	return &infov1.KindsResponse{Kinds: p.kinds, SourceNames: p.sourceNames}, nil
}

type infoClient struct {
	stub infov1.InfoClient
}

var _ Info = (*infoClient)(nil)

func (c *infoClient) Served(ctx context.Context) (kinds, sourceNames []string, err error) {
	resp, err := c.stub.Kinds(ctx, &infov1.KindsRequest{})
	if err != nil {
		return nil, nil, convert.FromStatus(err)
	}
	return resp.GetKinds(), resp.GetSourceNames(), nil
}
