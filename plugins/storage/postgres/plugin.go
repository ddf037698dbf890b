package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	sdkplugin "github.com/cscs-dev/cscs/sdk/plugin"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// Name is the plugin's name in configuration and the plugin catalog.
const Name = "postgres"

// pruneEvery is the least time between two automatic prunes of one open
// Plugin: the first write after Open prunes, later writes only once this
// much time has passed (a long-running `cscs serve`).
const pruneEvery = time.Hour

// Config is the plugin's configuration, a JSON object.
type Config struct {
	// DSN names the database: postgres://user:password@host:5432/db?sslmode=...
	// or key=value pairs. It may hold a password; no message repeats it.
	DSN string `json:"dsn"`
	// Retention, when set, is how long collections and events are kept:
	// "90d" or a Go duration. After a write, older ones are pruned (see
	// Store.PruneAll). Empty keeps everything.
	Retention string `json:"retention,omitempty"`
}

// Plugin serves a Store through the SDK's storage contract.
type Plugin struct {
	// Version is reported by Describe.
	Version string
	// Logger receives what happens outside a call's result: a failed
	// automatic prune after a stored round. Nil means
	// sdkplugin.NewLogger(Name).
	Logger hclog.Logger

	mu        sync.Mutex
	store     *Store
	retention time.Duration
	lastPrune time.Time
	// now is the clock; nil means time.Now.
	now func() time.Time
}

var _ storage.Storage = (*Plugin)(nil)

// Describe names the plugin.
func (p *Plugin) Describe(context.Context) (storage.Description, error) {
	return storage.Description{Name: Name, Version: p.Version}, nil
}

// Open connects to the database named by the configuration and migrates
// it. Opening again replaces the earlier connection.
func (p *Plugin) Open(ctx context.Context, config []byte) error {
	var cfg Config
	if err := json.Unmarshal(config, &cfg); err != nil {
		// json errors quote offending values only by type and offset, never
		// the DSN itself.
		return fmt.Errorf("postgres configuration: %w", err)
	}
	if cfg.DSN == "" {
		return errors.New(`postgres configuration: "dsn" is required, such as "postgres://cscs@db.example:5432/cscs"`)
	}
	var retention time.Duration
	if cfg.Retention != "" {
		d, err := storage.ParseAge(cfg.Retention)
		if err != nil {
			return fmt.Errorf(`postgres configuration: "retention": %w`, err)
		}
		retention = d
	}
	st, err := New(ctx, cfg.DSN)
	if err != nil {
		return err
	}
	if err := st.Migrate(ctx); err != nil {
		_ = st.Close()
		return fmt.Errorf("prepare %s: %w", st.Database(), err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.store != nil {
		_ = p.store.Close()
	}
	p.store = st
	p.retention = retention
	p.lastPrune = time.Time{}
	return nil
}

// WriteBatch stores one round, then prunes collections and events older
// than the configured retention if this is the first write since Open or the last
// prune is pruneEvery old. A failed prune is logged, not returned: the
// round is stored.
func (p *Plugin) WriteBatch(ctx context.Context, b *storage.Batch) error {
	st := p.current()
	if st == nil {
		return errors.New("postgres: WriteBatch before Open")
	}
	if err := st.WriteBatch(ctx, b); err != nil {
		return err
	}
	if cutoff, ok := p.pruneDue(); ok {
		if _, _, err := st.PruneAll(ctx, cutoff); err != nil {
			p.logger().Warn("round stored, but pruning old collections and events failed; the next round tries again", "error", err.Error())
		}
	}
	return nil
}

// Prune deletes collections and events older than olderThan and returns
// how many collections it deleted; see Store.PruneAll.
func (p *Plugin) Prune(ctx context.Context, olderThan time.Time) (int64, error) {
	collections, _, err := p.PruneAll(ctx, olderThan)
	return collections, err
}

// PruneAll deletes collections and events older than olderThan and
// returns how many of each it deleted; see Store.PruneAll.
func (p *Plugin) PruneAll(ctx context.Context, olderThan time.Time) (collections, events int64, err error) {
	st := p.current()
	if st == nil {
		return 0, 0, errors.New("postgres: Prune before Open")
	}
	return st.PruneAll(ctx, olderThan)
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

func (p *Plugin) current() *Store {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.store
}

// pruneDue reports whether an automatic prune should run now, with its
// cutoff, and records it as done.
func (p *Plugin) pruneDue() (time.Time, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.retention <= 0 {
		return time.Time{}, false
	}
	now := time.Now()
	if p.now != nil {
		now = p.now()
	}
	if !p.lastPrune.IsZero() && now.Sub(p.lastPrune) < pruneEvery {
		return time.Time{}, false
	}
	p.lastPrune = now
	return now.Add(-p.retention), true
}

func (p *Plugin) logger() hclog.Logger {
	if p.Logger != nil {
		return p.Logger
	}
	return sdkplugin.NewLogger(Name)
}
