package notifier

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

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
	return &notifierv1.SendResponse{Failure: failureOf(err)}, nil
}

// SendBatch answers like Send: the failure of the notification it stopped
// at in the response.
func (s *grpcServer) SendBatch(ctx context.Context, req *notifierv1.SendBatchRequest) (*notifierv1.SendBatchResponse, error) {
	ns := make([]Notification, len(req.GetNotifications()))
	for i, pn := range req.GetNotifications() {
		ns[i] = notificationFromProto(pn)
	}
	sent, err := SendBatch(ctx, s.impl, ns)
	sent = max(0, min(sent, len(ns)))
	return &notifierv1.SendBatchResponse{Sent: int32(sent), Failure: failureOf(err)}, nil
}

// failureOf is err as the protocol's Failure; nil for nil.
func failureOf(err error) *notifierv1.Failure {
	if err == nil {
		return nil
	}
	return &notifierv1.Failure{
		Message:     err.Error(),
		Temporary:   IsTemporary(err),
		Unavailable: IsUnavailable(err),
	}
}

// grpcClient is a Notifier whose methods call a plugin's notifier service.
type grpcClient struct {
	stub notifierv1.NotifierClient
	// oneByOne is set once the plugin answered SendBatch with
	// Unimplemented (built before it): its batches go through Send.
	oneByOne atomic.Bool
}

var (
	_ Notifier    = (*grpcClient)(nil)
	_ BatchSender = (*grpcClient)(nil)
)

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
	return failureError(resp.GetFailure())
}

// SendBatch sends ns with one SendBatch call to the plugin, or, to a
// plugin built before the protocol had it, with one Send after another.
func (c *grpcClient) SendBatch(ctx context.Context, ns []Notification) (int, error) {
	if len(ns) == 0 {
		return 0, nil
	}
	if !c.oneByOne.Load() {
		req := &notifierv1.SendBatchRequest{Notifications: make([]*notifierv1.Notification, len(ns))}
		for i, n := range ns {
			req.Notifications[i] = notificationToProto(n)
		}
		resp, err := c.stub.SendBatch(ctx, req)
		switch {
		case status.Code(err) == codes.Unimplemented:
			c.oneByOne.Store(true)
		case err != nil:
			return 0, convert.FromStatus(err)
		default:
			sent := int(resp.GetSent())
			if sent < 0 || sent > len(ns) || (sent == len(ns) && resp.GetFailure() != nil) {
				return 0, fmt.Errorf("notifier plugin answered a batch of %d notifications with %d sent and failure %q: a bug in the plugin; nothing of the batch is counted as sent",
					len(ns), sent, resp.GetFailure().GetMessage())
			}
			return sent, failureError(resp.GetFailure())
		}
	}
	return sendEach(ctx, c.Send, ns)
}

// failureError is the error of a plugin's Failure, marked Temporary or
// Unavailable as the plugin said; nil for none.
func failureError(f *notifierv1.Failure) error {
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
