package storage_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/sdk/internal/oldplugin"
	storagev1 "github.com/cscs-dev/cscs/sdk/proto/storage/v1"
	"github.com/cscs-dev/cscs/sdk/sdktest"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// previewing is a maintained storage that can also preview a prune.
type previewing struct {
	*maintained
	previewed time.Time
}

func (p *previewing) PrunePreview(_ context.Context, config []byte, olderThan time.Time) (storage.Pruned, error) {
	p.config, p.previewed = config, olderThan
	return storage.Pruned{Target: "db.example/cscs", Collections: 2, Events: 5, Notifications: 7, Alerts: 1}, p.err
}

// TestPrunePreview: PrunePreview reaches a plugin that implements it with
// its configuration and cutoff and brings back every count; a storage
// without it answers ErrUnsupported, over gRPC as in process, and is never
// pruned instead; the plugin's error comes back with its message.
func TestPrunePreview(t *testing.T) {
	t.Parallel()
	cutoff := time.Date(2026, 9, 1, 12, 30, 0, 5, time.UTC)
	config := []byte(`{"dsn":"x"}`)
	want := storage.Pruned{Target: "db.example/cscs", Collections: 2, Events: 5, Notifications: 7, Alerts: 1}
	tests := map[string]struct {
		impl    storage.Storage
		wrap    func(storage.Storage) storage.Storage
		want    storage.Pruned
		wantErr error
	}{
		"over gRPC":                       {impl: &previewing{maintained: &maintained{recorder: &recorder{}}}, wrap: func(s storage.Storage) storage.Storage { return sdktest.Storage(t, s) }, want: want},
		"in process":                      {impl: &previewing{maintained: &maintained{recorder: &recorder{}}}, want: want},
		"a pruner without it, over gRPC":  {impl: &maintained{recorder: &recorder{}}, wrap: func(s storage.Storage) storage.Storage { return sdktest.Storage(t, s) }, wantErr: storage.ErrUnsupported},
		"a pruner without it, in process": {impl: &maintained{recorder: &recorder{}}, wantErr: storage.ErrUnsupported},
		"a plain storage, over gRPC":      {impl: &recorder{}, wrap: func(s storage.Storage) storage.Storage { return sdktest.Storage(t, s) }, wantErr: storage.ErrUnsupported},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s := tc.impl
			if tc.wrap != nil {
				s = tc.wrap(s)
			}
			got, err := storage.PrunePreview(t.Context(), s, config, cutoff)
			if !errors.Is(err, tc.wantErr) || got != tc.want {
				t.Fatalf("PrunePreview = %+v, %v; want %+v, %v", got, err, tc.want, tc.wantErr)
			}
			switch impl := tc.impl.(type) {
			case *previewing:
				if !impl.previewed.Equal(cutoff) || string(impl.config) != string(config) || !impl.olderThan.IsZero() {
					t.Errorf("plugin previewed %v with %q, pruned at %v; want a preview at %v only", impl.previewed, impl.config, impl.olderThan, cutoff)
				}
			case *maintained:
				if !impl.olderThan.IsZero() {
					t.Errorf("a storage without PrunePreview was pruned (at %v)", impl.olderThan)
				}
			}
		})
	}

	failing := &previewing{maintained: &maintained{recorder: &recorder{err: errors.New("no database at x; create it with `cscs db init`")}}}
	if _, err := storage.PrunePreview(t.Context(), sdktest.Storage(t, failing), config, cutoff); err == nil || err.Error() != failing.err.Error() {
		t.Errorf("PrunePreview error = %v; want the plugin's message %q", err, failing.err)
	}
}

// TestPruneCountsOverGRPC: every count of Pruned, the new ones too,
// crosses the wire.
func TestPruneCountsOverGRPC(t *testing.T) {
	t.Parallel()
	impl := &previewing{maintained: &maintained{recorder: &recorder{}}}
	got, err := storage.Prune(t.Context(), sdktest.Storage(t, &allCounts{impl}), nil, time.Now())
	want := storage.Pruned{Target: "t", Collections: 1, Events: 2, Notifications: 3, Alerts: 4}
	if err != nil || got != want {
		t.Errorf("Prune = %+v, %v; want %+v", got, err, want)
	}
}

type allCounts struct{ *previewing }

func (allCounts) Prune(context.Context, []byte, time.Time) (storage.Pruned, error) {
	return storage.Pruned{Target: "t", Collections: 1, Events: 2, Notifications: 3, Alerts: 4}, nil
}

// oldServer is a plugin built before PrunePreview: its service has no
// such method, and its Prune counts collections and events only.
type oldServer struct {
	storagev1.UnimplementedStorageServer
	pruned atomic.Int32
}

func (s *oldServer) Prune(context.Context, *storagev1.PruneRequest) (*storagev1.PruneResponse, error) {
	s.pruned.Add(1)
	return &storagev1.PruneResponse{Target: "old.db", Collections: 3, Events: 4}, nil
}

// TestPrunePreviewOfAnOldPlugin: a plugin whose service predates
// PrunePreview answers UNIMPLEMENTED, which the client reports as
// ErrUnsupported, never pruning instead; its Prune reads as 0
// notifications and alerts.
func TestPrunePreviewOfAnOldPlugin(t *testing.T) {
	t.Parallel()
	old := &oldServer{}
	client := oldStorage(t, old, "PrunePreview")

	if _, err := storage.PrunePreview(t.Context(), client, nil, time.Now()); !errors.Is(err, storage.ErrUnsupported) {
		t.Errorf("PrunePreview of an old plugin: %v; want ErrUnsupported", err)
	}
	if n := old.pruned.Load(); n != 0 {
		t.Fatalf("the old plugin was pruned %d times by a preview", n)
	}
	p, err := storage.Prune(t.Context(), client, nil, time.Now())
	if want := (storage.Pruned{Target: "old.db", Collections: 3, Events: 4}); err != nil || p != want {
		t.Errorf("Prune of an old plugin = %+v, %v; want %+v", p, err, want)
	}
}

// wholeOnly serves the storage service as a plugin built before
// WriteBatchStream: WriteBatch only, counting the collections it gets.
type wholeOnly struct {
	storagev1.UnimplementedStorageServer
	calls, collections atomic.Int32
}

func (s *wholeOnly) WriteBatch(_ context.Context, req *storagev1.WriteBatchRequest) (*storagev1.WriteBatchResponse, error) {
	s.calls.Add(1)
	s.collections.Add(int32(len(req.GetBatch().GetCollections())))
	return &storagev1.WriteBatchResponse{}, nil
}

// TestWriteBatchToAnOldPlugin: a batch too big for one part goes whole
// to a plugin whose service predates WriteBatchStream.
func TestWriteBatchToAnOldPlugin(t *testing.T) {
	t.Parallel()
	old := &wholeOnly{}
	client := oldStorage(t, old, "WriteBatchStream")
	n := 3*storage.PartCollections + 1
	for round := int32(1); round <= 2; round++ {
		b := manyCollections(n)
		if err := client.WriteBatch(t.Context(), &b); err != nil {
			t.Fatalf("WriteBatch to an old plugin, round %d: %v", round, err)
		}
		if calls, got := old.calls.Load(), old.collections.Load(); calls != round || got != round*int32(n) {
			t.Errorf("round %d: the old plugin got %d WriteBatch calls with %d collections, want %d with %d", round, calls, got, round, round*int32(n))
		}
	}
}

// oldStorage is the storage client of impl served as a plugin built
// before the methods leftOut (see oldplugin.Conn).
func oldStorage(t *testing.T, impl storagev1.StorageServer, leftOut ...string) storage.Storage {
	t.Helper()
	c, err := (&storage.GRPCPlugin{}).GRPCClient(t.Context(), nil, oldplugin.Conn(t, storagev1.Storage_ServiceDesc, impl, leftOut...))
	if err != nil {
		t.Fatal(err)
	}
	return c.(storage.Storage)
}
