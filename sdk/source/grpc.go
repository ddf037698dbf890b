package source

import (
	"context"
	"errors"
	"fmt"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/cscs-dev/cscs/sdk/internal/convert"
	"github.com/cscs-dev/cscs/sdk/internal/member"
	sourcev1 "github.com/cscs-dev/cscs/sdk/proto/source/v1"
)

// ErrNoDecoder is returned by Decode on a source that does not decode raw
// module output (its Description.Decodes is false).
var ErrNoDecoder = errors.New("source does not decode module output (its description says decodes=false)")

// GRPCPlugin carries a Source over go-plugin's gRPC transport. A plugin
// binary serves one with Impl set (sdk/plugin.Serve does that); a host
// dispenses one with Impl unset and gets a Source that calls the plugin.
// The Source a host gets also implements Decoder; its Decode returns an
// error wrapping ErrNoDecoder when the plugin does not decode.
// The protocol is cscs.source.v1 (sdk/proto/source/v1).
type GRPCPlugin struct {
	goplugin.NetRPCUnsupportedPlugin
	// Impl is the implementation served; unused on the host side. When it
	// also implements Decoder, Decode calls are served too.
	Impl Source
	// Set, instead of Impl, serves several sources from one process: each
	// call is answered by the source the host names in it (the host side
	// names one with sdk/plugin.CallFor). Unused on the host side.
	Set map[string]Source
}

// GRPCServer registers the source service for p.Impl on s.
func (p *GRPCPlugin) GRPCServer(_ *goplugin.GRPCBroker, s *grpc.Server) error {
	sourcev1.RegisterSourceServer(s, &grpcServer{impl: p.Impl, set: p.Set})
	return nil
}

// GRPCClient returns a Source (and Decoder) that calls the plugin over c.
func (p *GRPCPlugin) GRPCClient(_ context.Context, _ *goplugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return &grpcClient{stub: sourcev1.NewSourceClient(c)}, nil
}

// grpcServer answers the source service by calling a Source.
type grpcServer struct {
	sourcev1.UnimplementedSourceServer
	impl Source
	set  map[string]Source
}

func (s *grpcServer) Describe(ctx context.Context, _ *sourcev1.DescribeRequest) (*sourcev1.DescribeResponse, error) {
	impl, err := member.Pick(ctx, "source", s.impl, s.set)
	if err != nil {
		return nil, err
	}
	d, err := impl.Describe(ctx)
	return convert.Reply(&sourcev1.DescribeResponse{Description: descriptionToProto(d)}, err)
}

func (s *grpcServer) Module(ctx context.Context, req *sourcev1.ModuleRequest) (*sourcev1.ModuleResponse, error) {
	impl, err := member.Pick(ctx, "source", s.impl, s.set)
	if err != nil {
		return nil, err
	}
	m, err := impl.Module(ctx, platformFromProto(req.GetPlatform()))
	return convert.Reply(&sourcev1.ModuleResponse{Module: moduleToProto(m)}, err)
}

// Decode answers UNIMPLEMENTED when the implementation is no Decoder.
func (s *grpcServer) Decode(ctx context.Context, req *sourcev1.DecodeRequest) (*sourcev1.DecodeResponse, error) {
	impl, err := member.Pick(ctx, "source", s.impl, s.set)
	if err != nil {
		return nil, err
	}
	dec, ok := impl.(Decoder)
	if !ok {
		return nil, convert.Unsupported(ErrNoDecoder)
	}
	d, err := dec.Decode(ctx, platformFromProto(req.GetPlatform()), req.GetRaw())
	return convert.Reply(&sourcev1.DecodeResponse{Decoded: decodedToProto(d)}, err)
}

// grpcClient is a Source and Decoder whose methods call a plugin's source
// service.
type grpcClient struct {
	stub sourcev1.SourceClient
}

var (
	_ Source  = (*grpcClient)(nil)
	_ Decoder = (*grpcClient)(nil)
)

func (c *grpcClient) Describe(ctx context.Context) (Description, error) {
	resp, err := c.stub.Describe(ctx, &sourcev1.DescribeRequest{})
	return convert.Result(descriptionFromProto(resp.GetDescription()), err)
}

func (c *grpcClient) Module(ctx context.Context, p Platform) (Module, error) {
	resp, err := c.stub.Module(ctx, &sourcev1.ModuleRequest{Platform: platformToProto(p)})
	return convert.Result(moduleFromProto(resp.GetModule()), err)
}

// Decode returns an error wrapping ErrNoDecoder when the plugin does not
// decode raw output.
func (c *grpcClient) Decode(ctx context.Context, p Platform, raw []byte) (Decoded, error) {
	resp, err := c.stub.Decode(ctx, &sourcev1.DecodeRequest{Platform: platformToProto(p), Raw: raw})
	if convert.IsUnimplemented(err) {
		return Decoded{}, fmt.Errorf("decode: %w", ErrNoDecoder)
	}
	return convert.Result(decodedFromProto(resp.GetDecoded()), err)
}
