package notifier

import (
	"context"
	"errors"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/cscs-dev/cscs/sdk/internal/convert"
	notifierv1 "github.com/cscs-dev/cscs/sdk/proto/notifier/v1"
)

// GRPCPlugin carries a Notifier over go-plugin's gRPC transport. A plugin
// binary serves one with Impl set (sdk/plugin.Serve does that); a host
// dispenses one with Impl unset and gets a Notifier that calls the plugin.
// The protocol is cscs.notifier.v1 (sdk/proto/notifier/v1).
type GRPCPlugin struct {
	goplugin.NetRPCUnsupportedPlugin
	// Impl is the implementation served; unused on the host side.
	Impl Notifier
}

// GRPCServer registers the notifier service for p.Impl on s.
func (p *GRPCPlugin) GRPCServer(_ *goplugin.GRPCBroker, s *grpc.Server) error {
	notifierv1.RegisterNotifierServer(s, &grpcServer{impl: p.Impl})
	return nil
}

// GRPCClient returns a Notifier that calls the plugin over c.
func (p *GRPCPlugin) GRPCClient(_ context.Context, _ *goplugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return &grpcClient{stub: notifierv1.NewNotifierClient(c)}, nil
}

// grpcServer answers the notifier service by calling a Notifier.
type grpcServer struct {
	notifierv1.UnimplementedNotifierServer
	impl Notifier
}

func (s *grpcServer) Describe(ctx context.Context, _ *notifierv1.DescribeRequest) (*notifierv1.DescribeResponse, error) {
	d, err := s.impl.Describe(ctx)
	return convert.Reply(&notifierv1.DescribeResponse{Description: &notifierv1.Description{
		Name:         d.Name,
		Version:      d.Version,
		ConfigSchema: convert.Schema(d.Config),
	}}, err)
}

func (s *grpcServer) Configure(ctx context.Context, req *notifierv1.ConfigureRequest) (*notifierv1.ConfigureResponse, error) {
	return convert.Reply(&notifierv1.ConfigureResponse{}, s.impl.Configure(ctx, req.GetConfig()))
}

// Send answers a delivery failure in the response, not as a gRPC error, so
// that the host learns whether it may retry.
func (s *grpcServer) Send(ctx context.Context, req *notifierv1.SendRequest) (*notifierv1.SendResponse, error) {
	err := s.impl.Send(ctx, notificationFromProto(req.GetNotification()))
	if err == nil {
		return &notifierv1.SendResponse{}, nil
	}
	return &notifierv1.SendResponse{Failure: &notifierv1.Failure{
		Message:     err.Error(),
		Temporary:   IsTemporary(err),
		Unavailable: IsUnavailable(err),
	}}, nil
}

// grpcClient is a Notifier whose methods call a plugin's notifier service.
type grpcClient struct {
	stub notifierv1.NotifierClient
}

var _ Notifier = (*grpcClient)(nil)

func (c *grpcClient) Describe(ctx context.Context) (Description, error) {
	resp, err := c.stub.Describe(ctx, &notifierv1.DescribeRequest{})
	d := resp.GetDescription()
	return convert.Result(Description{Name: d.GetName(), Version: d.GetVersion(), Config: convert.FromSchema(d.GetConfigSchema())}, err)
}

func (c *grpcClient) Configure(ctx context.Context, config []byte) error {
	_, err := c.stub.Configure(ctx, &notifierv1.ConfigureRequest{Config: config})
	return convert.FromStatus(err)
}

// Send returns the plugin's failure marked Temporary or Unavailable when
// the plugin said so. A failure of the call itself (the plugin unreachable, a deadline) is
// returned as is; the host decides what it means.
func (c *grpcClient) Send(ctx context.Context, n Notification) error {
	resp, err := c.stub.Send(ctx, &notifierv1.SendRequest{Notification: notificationToProto(n)})
	if err != nil {
		return convert.FromStatus(err)
	}
	f := resp.GetFailure()
	if f == nil {
		return nil
	}
	msg := f.GetMessage()
	if msg == "" {
		msg = "notifier plugin reported a failure without a message"
	}
	if f.GetUnavailable() {
		return Unavailable(errors.New(msg))
	}
	if f.GetTemporary() {
		return Temporary(errors.New(msg))
	}
	return errors.New(msg)
}

func notificationToProto(n Notification) *notifierv1.Notification {
	return &notifierv1.Notification{
		Id:        n.ID,
		Kind:      n.Kind,
		To:        convert.Strings(n.To),
		Subject:   n.Subject,
		Body:      n.Body,
		Host:      n.Host,
		CreatedAt: convert.Timestamp(n.CreatedAt),
	}
}

func notificationFromProto(pn *notifierv1.Notification) Notification {
	return Notification{
		ID:        pn.GetId(),
		Kind:      pn.GetKind(),
		To:        convert.Strings(pn.GetTo()),
		Subject:   pn.GetSubject(),
		Body:      pn.GetBody(),
		Host:      pn.GetHost(),
		CreatedAt: convert.Time(pn.GetCreatedAt()),
	}
}
