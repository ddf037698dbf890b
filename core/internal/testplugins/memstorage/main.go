// Command memstorage is a minimal storage plugin for the plugins install
// and list tests: it keeps batches in memory and serves them through the
// public SDK exactly as a third-party plugin would.
package main

import (
	"context"
	"sync"

	sdkplugin "github.com/cscs-dev/cscs/sdk/plugin"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// version is set by the test with -ldflags "-X main.version=...".
var version = "0.1.0"

type memStore struct {
	mu      sync.Mutex
	batches map[string]*storage.Batch
}

var _ storage.Storage = (*memStore)(nil)

func (s *memStore) Describe(context.Context) (storage.Description, error) {
	return storage.Description{Name: "memstore", Version: version}, nil
}

func (s *memStore) Open(context.Context, []byte) error { return nil }

func (s *memStore) WriteBatch(_ context.Context, b *storage.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.batches[b.RoundID] = b
	return nil
}

func (s *memStore) Close(context.Context) error { return nil }

func main() {
	sdkplugin.Serve(sdkplugin.ServeConfig{Storage: &memStore{batches: map[string]*storage.Batch{}}})
}
