package sqlite

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/cscs-dev/cscs/sdk/storage"
)

// Name is the plugin's name in configuration and the plugin catalog.
const Name = "sqlite"

// Config is the plugin's configuration, a JSON object.
type Config struct {
	// Path is the database file; created with its directory's permissions.
	Path string `json:"path"`
}

// Plugin serves a Store through the SDK's storage contract.
type Plugin struct {
	// Version is reported by Describe.
	Version string

	mu    sync.Mutex
	store *Store
}

var _ storage.Storage = (*Plugin)(nil)

// Describe names the plugin.
func (p *Plugin) Describe(context.Context) (storage.Description, error) {
	return storage.Description{Name: Name, Version: p.Version}, nil
}

// Open opens the database named by the configuration and migrates it.
func (p *Plugin) Open(ctx context.Context, config []byte) error {
	var cfg Config
	if err := json.Unmarshal(config, &cfg); err != nil {
		return fmt.Errorf("sqlite configuration: %w", err)
	}
	if cfg.Path == "" {
		return errors.New(`sqlite configuration: "path" is required`)
	}
	st, err := New(cfg.Path)
	if err != nil {
		return err
	}
	if err := st.Migrate(ctx); err != nil {
		_ = st.Close()
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.store != nil {
		_ = p.store.Close()
	}
	p.store = st
	return nil
}

// WriteBatch stores one round.
func (p *Plugin) WriteBatch(ctx context.Context, b *storage.Batch) error {
	p.mu.Lock()
	st := p.store
	p.mu.Unlock()
	if st == nil {
		return errors.New("sqlite: WriteBatch before Open")
	}
	return st.WriteBatch(ctx, b)
}

// Close closes the database; safe without Open and more than once.
func (p *Plugin) Close(context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.store == nil {
		return nil
	}
	err := p.store.Close()
	p.store = nil
	return err
}
