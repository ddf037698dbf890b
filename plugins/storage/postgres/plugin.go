package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/cscs-dev/cscs/plugins/storage/internal/retained"
	sdkplugin "github.com/cscs-dev/cscs/sdk/plugin"
	"github.com/cscs-dev/cscs/sdk/schema"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// Name is the plugin's name in configuration and the plugin catalog.
const Name = "postgres"

// Config is the plugin's configuration, a JSON object.
type Config struct {
	// DSN names the database: postgres://user:password@host:5432/db?sslmode=...
	// or key=value pairs. It may hold a password; no message repeats it.
	DSN string `json:"dsn"`
	// Retention, when set, is how long collections, events, done
	// notification records and resolved alert states are kept:
	// "90d" or a Go duration. After a write, older ones are pruned (see
	// Store.PruneAll). Empty keeps everything.
	Retention string `json:"retention,omitempty"`
}

// configSchema declares Config to the core, which checks an operator's
// block against it (and masks the DSN); Open still checks the values
// itself.
func configSchema() schema.Schema {
	return schema.Schema{Attributes: []schema.Attribute{
		{Name: "dsn", Type: schema.String, Required: true, Sensitive: true,
			Description: "the database, postgres://user:password@host:5432/db?sslmode=... or key=value pairs; may hold a password"},
		{Name: "retention", Type: schema.String,
			Description: `how long collections, events, sent or failed notifications and alert states not firing are kept: "90d" or a Go duration such as "720h"; empty keeps everything`},
	}}
}

// Plugin serves a Store through the SDK's storage contract.
type Plugin struct {
	// Version is reported by Describe.
	Version string
	// Logger receives what happens outside a call's result: a failed
	// automatic prune after a stored round. Nil means
	// sdkplugin.NewLogger(Name).
	Logger hclog.Logger

	store retained.Holder[*Store]
}

var _ storage.Storage = (*Plugin)(nil)

// Describe names the plugin and declares its configuration.
func (p *Plugin) Describe(context.Context) (storage.Description, error) {
	return storage.Description{Name: Name, Version: p.Version, Config: configSchema(), Labels: true}, nil
}

var (
	_ storage.Migrator       = (*Plugin)(nil)
	_ storage.Pruner         = (*Plugin)(nil)
	_ storage.PrunePreviewer = (*Plugin)(nil)
)

// parseConfig reads and checks the plugin's configuration.
func parseConfig(config []byte) (Config, time.Duration, error) {
	var cfg Config
	if err := json.Unmarshal(config, &cfg); err != nil {
		// json errors quote offending values only by type and offset, never
		// the DSN itself.
		return Config{}, 0, fmt.Errorf("postgres configuration: %w", err)
	}
	if cfg.DSN == "" {
		return Config{}, 0, errors.New(`postgres configuration: "dsn" is required, such as "postgres://cscs@db.example:5432/cscs"`)
	}
	retention, err := retained.ParseRetention(cfg.Retention)
	if err != nil {
		return Config{}, 0, fmt.Errorf(`postgres configuration: "retention": %w`, err)
	}
	return cfg, retention, nil
}

// openConfig connects to the database the configuration names, without
// migrating it, and returns it with the configured retention.
func openConfig(ctx context.Context, config []byte) (*Store, time.Duration, error) {
	cfg, retention, err := parseConfig(config)
	if err != nil {
		return nil, 0, err
	}
	st, err := New(ctx, cfg.DSN)
	return st, retention, err
}

// Open connects to the database named by the configuration and migrates
// it. Opening again replaces the earlier connection.
func (p *Plugin) Open(ctx context.Context, config []byte) error {
	st, retention, err := openConfig(ctx, config)
	if err != nil {
		return err
	}
	if err := st.Migrate(ctx); err != nil {
		_ = st.Close()
		return fmt.Errorf("prepare %s: %w", st.Database(), err)
	}
	p.store.Set(st, retention)
	return nil
}

// WriteBatch stores one round, then prunes what is older than the
// configured retention (collections, events, done notification records
// and resolved alert states, as Prune does) when a prune is due (see package
// retained). A failed prune is logged, not returned: the round is stored.
func (p *Plugin) WriteBatch(ctx context.Context, b *storage.Batch) error {
	return p.store.WriteBatch(ctx, Name, b, p.logger())
}

// Migrate creates or upgrades the schema of the database the
// configuration names and reports its version.
func (p *Plugin) Migrate(ctx context.Context, config []byte) (storage.Migration, error) {
	st, _, err := openConfig(ctx, config)
	if err != nil {
		return storage.Migration{}, err
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		return storage.Migration{}, fmt.Errorf("preparing database %s: %w", st.Database(), err)
	}
	v, err := st.SchemaVersion(ctx)
	return storage.Migration{Target: st.Database(), SchemaVersion: v}, err
}

// Prune deletes old collections, events, notification records and alert
// states from the database the configuration names (see
// Store.PruneAll). It neither creates tables nor migrates them.
func (p *Plugin) Prune(ctx context.Context, config []byte, olderThan time.Time) (storage.Pruned, error) {
	st, _, err := openConfig(ctx, config)
	if err != nil {
		return storage.Pruned{}, err
	}
	defer st.Close()
	return st.PruneAll(ctx, olderThan)
}

// PrunePreview counts what Prune would delete from the database the
// configuration names, deleting nothing (see Store.PreviewAll).
func (p *Plugin) PrunePreview(ctx context.Context, config []byte, olderThan time.Time) (storage.Pruned, error) {
	st, _, err := openConfig(ctx, config)
	if err != nil {
		return storage.Pruned{}, err
	}
	defer st.Close()
	return st.PreviewAll(ctx, olderThan)
}

// PruneAll deletes what is older than olderThan and returns how many
// rows of each kind it deleted; see Store.PruneAll.
func (p *Plugin) PruneAll(ctx context.Context, olderThan time.Time) (storage.Pruned, error) {
	return p.store.PruneAll(ctx, Name, olderThan)
}

// PreviewAll counts what PruneAll would delete; see Store.PreviewAll.
func (p *Plugin) PreviewAll(ctx context.Context, olderThan time.Time) (storage.Pruned, error) {
	return p.store.PreviewAll(ctx, Name, olderThan)
}

// Close closes the database; safe without Open and more than once.
func (p *Plugin) Close(context.Context) error { return p.store.Close() }

func (p *Plugin) current() *Store {
	st, _ := p.store.Current()
	return st
}

func (p *Plugin) logger() hclog.Logger {
	if p.Logger != nil {
		return p.Logger
	}
	return sdkplugin.NewLogger(Name)
}
