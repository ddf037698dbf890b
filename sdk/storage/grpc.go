package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cscs-dev/cscs/sdk/internal/convert"
	storagev1 "github.com/cscs-dev/cscs/sdk/proto/storage/v1"
)

// GRPCPlugin carries a Storage over go-plugin's gRPC transport. A plugin
// binary serves one with Impl set (sdk/plugin.Serve does that); a host
// dispenses one with Impl unset and gets a Storage that calls the plugin.
// The protocol is cscs.storage.v1 (sdk/proto/storage/v1).
type GRPCPlugin struct {
	goplugin.NetRPCUnsupportedPlugin
	// Impl is the implementation served; unused on the host side.
	Impl Storage
}

// GRPCServer registers the storage service for p.Impl on s.
func (p *GRPCPlugin) GRPCServer(_ *goplugin.GRPCBroker, s *grpc.Server) error {
	storagev1.RegisterStorageServer(s, &grpcServer{impl: p.Impl})
	return nil
}

// GRPCClient returns a Storage that calls the plugin over c.
func (p *GRPCPlugin) GRPCClient(_ context.Context, _ *goplugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return &grpcClient{stub: storagev1.NewStorageClient(c)}, nil
}

// grpcServer answers the storage service by calling a Storage.
type grpcServer struct {
	storagev1.UnimplementedStorageServer
	impl Storage
}

func (s *grpcServer) Describe(ctx context.Context, _ *storagev1.DescribeRequest) (*storagev1.DescribeResponse, error) {
	d, err := s.impl.Describe(ctx)
	return convert.Reply(&storagev1.DescribeResponse{Description: &storagev1.Description{
		Name:         d.Name,
		Version:      d.Version,
		ConfigSchema: convert.Schema(d.Config),
		Labels:       d.Labels,
	}}, err)
}

func (s *grpcServer) Open(ctx context.Context, req *storagev1.OpenRequest) (*storagev1.OpenResponse, error) {
	return convert.Reply(&storagev1.OpenResponse{}, s.impl.Open(ctx, req.GetConfig()))
}

func (s *grpcServer) WriteBatch(ctx context.Context, req *storagev1.WriteBatchRequest) (*storagev1.WriteBatchResponse, error) {
	b := batchFromProto(req.GetBatch())
	return convert.Reply(&storagev1.WriteBatchResponse{}, s.impl.WriteBatch(ctx, &b))
}

// WriteBatchStream puts the parts of a batch together and writes it as
// WriteBatch does, once the core has sent the last.
func (s *grpcServer) WriteBatchStream(stream storagev1.Storage_WriteBatchStreamServer) error {
	var (
		b     Batch
		parts int
	)
	for ; ; parts++ {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if parts == 0 {
			b = batchFromProto(req.GetBatch())
			continue
		}
		b.Collections = append(b.Collections, convert.Slice(req.GetBatch().GetCollections(), collectionFromProto)...)
	}
	if parts == 0 {
		return status.Error(codes.InvalidArgument, "write batch: the stream ended before the batch's first part")
	}
	if err := s.impl.WriteBatch(stream.Context(), &b); err != nil {
		return convert.ToStatus(err)
	}
	return stream.SendAndClose(&storagev1.WriteBatchResponse{})
}

func (s *grpcServer) Close(ctx context.Context, _ *storagev1.CloseRequest) (*storagev1.CloseResponse, error) {
	return convert.Reply(&storagev1.CloseResponse{}, s.impl.Close(ctx))
}

func (s *grpcServer) Migrate(ctx context.Context, req *storagev1.MigrateRequest) (*storagev1.MigrateResponse, error) {
	m, ok := s.impl.(Migrator)
	if !ok {
		return nil, convert.Unsupported(ErrUnsupported)
	}
	res, err := m.Migrate(ctx, req.GetConfig())
	return convert.Reply(&storagev1.MigrateResponse{Target: res.Target, SchemaVersion: int64(res.SchemaVersion)}, err)
}

func (s *grpcServer) Prune(ctx context.Context, req *storagev1.PruneRequest) (*storagev1.PruneResponse, error) {
	p, ok := s.impl.(Pruner)
	if !ok {
		return nil, convert.Unsupported(ErrUnsupported)
	}
	res, err := p.Prune(ctx, req.GetConfig(), convert.Time(req.GetOlderThan()))
	return convert.Reply(prunedToProto(res), err)
}

func (s *grpcServer) PrunePreview(ctx context.Context, req *storagev1.PruneRequest) (*storagev1.PruneResponse, error) {
	p, ok := s.impl.(PrunePreviewer)
	if !ok {
		return nil, convert.Unsupported(ErrUnsupported)
	}
	res, err := p.PrunePreview(ctx, req.GetConfig(), convert.Time(req.GetOlderThan()))
	return convert.Reply(prunedToProto(res), err)
}

func prunedToProto(p Pruned) *storagev1.PruneResponse {
	return &storagev1.PruneResponse{Target: p.Target, Collections: p.Collections, Events: p.Events, Notifications: p.Notifications, Alerts: p.Alerts}
}

func prunedFromProto(r *storagev1.PruneResponse) Pruned {
	return Pruned{Target: r.GetTarget(), Collections: r.GetCollections(), Events: r.GetEvents(), Notifications: r.GetNotifications(), Alerts: r.GetAlerts()}
}

// grpcClient is a Storage whose methods call a plugin's storage service.
type grpcClient struct {
	stub storagev1.StorageClient
	// whole is set once the plugin answered WriteBatchStream with
	// Unimplemented (built before it): its batches go whole.
	whole atomic.Bool
}

// partCollections is how many collections one part of a batch sent with
// WriteBatchStream carries: a batch of more goes in parts, so that the
// wire form of a 10,000-host round (some 70 MB of messages and 30 MB
// encoded) is never built at once.
const partCollections = 250

var (
	_ Storage        = (*grpcClient)(nil)
	_ Migrator       = (*grpcClient)(nil)
	_ Pruner         = (*grpcClient)(nil)
	_ PrunePreviewer = (*grpcClient)(nil)
)

func (c *grpcClient) Describe(ctx context.Context) (Description, error) {
	resp, err := c.stub.Describe(ctx, &storagev1.DescribeRequest{})
	d := resp.GetDescription()
	return convert.Result(Description{Name: d.GetName(), Version: d.GetVersion(), Config: convert.FromSchema(d.GetConfigSchema()), Labels: d.GetLabels()}, err)
}

func (c *grpcClient) Open(ctx context.Context, config []byte) error {
	_, err := c.stub.Open(ctx, &storagev1.OpenRequest{Config: config})
	return convert.FromStatus(err)
}

func (c *grpcClient) WriteBatch(ctx context.Context, b *Batch) error {
	if b == nil {
		return errors.New("write batch: the batch is nil")
	}
	if len(b.Collections) > partCollections && !c.whole.Load() {
		err := c.writeParts(ctx, b)
		if !convert.IsUnimplemented(err) {
			return convert.FromStatus(err)
		}
		c.whole.Store(true)
	}
	_, err := c.stub.WriteBatch(ctx, &storagev1.WriteBatchRequest{Batch: batchToProto(b)})
	return convert.FromStatus(err)
}

// writeParts sends b with WriteBatchStream, partCollections collections a
// part, the first with the rest of the batch.
func (c *grpcClient) writeParts(ctx context.Context, b *Batch) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.stub.WriteBatchStream(ctx)
	if err != nil {
		return err
	}
	for i := 0; i < len(b.Collections); i += partCollections {
		part := &Batch{Collections: b.Collections[i:min(i+partCollections, len(b.Collections))]}
		if i == 0 {
			part.RoundID, part.StartedAt, part.FinishedAt = b.RoundID, b.StartedAt, b.FinishedAt
			part.Alerts, part.Notifications = b.Alerts, b.Notifications
		}
		if err := stream.Send(&storagev1.WriteBatchRequest{Batch: batchToProto(part)}); err != nil {
			if errors.Is(err, io.EOF) {
				break // the plugin ended the call: CloseAndRecv says why
			}
			return err
		}
	}
	_, err = stream.CloseAndRecv()
	return err
}

func (c *grpcClient) Close(ctx context.Context) error {
	_, err := c.stub.Close(ctx, &storagev1.CloseRequest{})
	return convert.FromStatus(err)
}

// Migrate returns an error wrapping ErrUnsupported when the plugin does
// not implement Migrator.
func (c *grpcClient) Migrate(ctx context.Context, config []byte) (Migration, error) {
	resp, err := c.stub.Migrate(ctx, &storagev1.MigrateRequest{Config: config})
	if convert.IsUnimplemented(err) {
		return Migration{}, fmt.Errorf("migrate: %w", ErrUnsupported)
	}
	return convert.Result(Migration{Target: resp.GetTarget(), SchemaVersion: int(resp.GetSchemaVersion())}, err)
}

// Prune returns an error wrapping ErrUnsupported when the plugin does not
// implement Pruner.
func (c *grpcClient) Prune(ctx context.Context, config []byte, olderThan time.Time) (Pruned, error) {
	resp, err := c.stub.Prune(ctx, &storagev1.PruneRequest{Config: config, OlderThan: convert.Timestamp(olderThan)})
	if convert.IsUnimplemented(err) {
		return Pruned{}, fmt.Errorf("prune: %w", ErrUnsupported)
	}
	return convert.Result(prunedFromProto(resp), err)
}

// PrunePreview returns an error wrapping ErrUnsupported when the plugin
// does not implement PrunePreviewer, or was built before it (it answers
// UNIMPLEMENTED); it never falls back to Prune.
func (c *grpcClient) PrunePreview(ctx context.Context, config []byte, olderThan time.Time) (Pruned, error) {
	resp, err := c.stub.PrunePreview(ctx, &storagev1.PruneRequest{Config: config, OlderThan: convert.Timestamp(olderThan)})
	if convert.IsUnimplemented(err) {
		return Pruned{}, fmt.Errorf("prune preview: %w", ErrUnsupported)
	}
	return convert.Result(prunedFromProto(resp), err)
}
