package plugin

import (
	"context"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/cscs-dev/cscs/sdk/internal/convert"
	infov1 "github.com/cscs-dev/cscs/sdk/proto/info/v1"
)

// Info tells which plugin kinds a plugin binary serves. A host dispenses
// it under KindInfo.
type Info interface {
	// Kinds returns the kinds served, in the order of Kinds().
	Kinds(ctx context.Context) ([]string, error)
}

// infoGRPCPlugin carries the info service: served with the kinds of a
// binary, dispensed as an Info.
type infoGRPCPlugin struct {
	goplugin.NetRPCUnsupportedPlugin
	kinds []string
}

func (p *infoGRPCPlugin) GRPCServer(_ *goplugin.GRPCBroker, s *grpc.Server) error {
	infov1.RegisterInfoServer(s, &infoServer{kinds: p.kinds})
	return nil
}

func (p *infoGRPCPlugin) GRPCClient(_ context.Context, _ *goplugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return &infoClient{stub: infov1.NewInfoClient(c)}, nil
}

type infoServer struct {
	infov1.UnimplementedInfoServer
	kinds []string
}

func (s *infoServer) Kinds(context.Context, *infov1.KindsRequest) (*infov1.KindsResponse, error) {
	return &infov1.KindsResponse{Kinds: s.kinds}, nil
}

type infoClient struct {
	stub infov1.InfoClient
}

var _ Info = (*infoClient)(nil)

func (c *infoClient) Kinds(ctx context.Context) ([]string, error) {
	resp, err := c.stub.Kinds(ctx, &infov1.KindsRequest{})
	if err != nil {
		return nil, convert.FromStatus(err)
	}
	return resp.GetKinds(), nil
}
