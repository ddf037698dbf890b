package sqlite

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/cscs-dev/cscs/plugins/storage/internal/retained"
	sdkplugin "github.com/cscs-dev/cscs/sdk/plugin"
	"github.com/cscs-dev/cscs/sdk/schema"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// Name is the plugin's name in configuration and the plugin catalog.
const Name = "sqlite"

// Config is the plugin's configuration, a JSON object.
type Config struct {
	// Path is the database file; created with its directory's permissions.
	Path string `json:"path"`
	// Retention, when set, is how long collections, events, done
	// notification records and resolved alert states are kept:
	// "90d" or a Go duration. After a write, older ones are pruned (see
	// Store.PruneAll). Empty keeps everything.
	Retention string `json:"retention,omitempty"`
}

// configSchema declares Config to the core, which checks an operator's
// block against it; Open still checks the values itself.
func configSchema() schema.Schema {
	return schema.Schema{Attributes: []schema.Attribute{
		{Name: "path", Type: schema.String, Required: true,
			Description: "database file; created, with its directory's permissions, when absent"},
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
		return Config{}, 0, fmt.Errorf("sqlite configuration: %w", err)
	}
	if cfg.Path == "" {
		return Config{}, 0, errors.New(`sqlite configuration: "path" is required`)
	}
	retention, err := retained.ParseRetention(cfg.Retention)
	if err != nil {
		return Config{}, 0, fmt.Errorf(`sqlite configuration: "retention": %w`, err)
	}
	return cfg, retention, nil
}

// Open opens the database named by the configuration and migrates it.
func (p *Plugin) Open(ctx context.Context, config []byte) error {
	cfg, retention, err := parseConfig(config)
	if err != nil {
		return err
	}
	st, err := New(cfg.Path)
	if err != nil {
		return err
	}
	if err := st.Migrate(ctx); err != nil {
		_ = st.Close()
		return err
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

// Migrate creates the database file the configuration names, or
// upgrades its schema, and reports the schema's version.
func (p *Plugin) Migrate(ctx context.Context, config []byte) (storage.Migration, error) {
	cfg, _, err := parseConfig(config)
	if err != nil {
		return storage.Migration{}, err
	}
	st, err := New(cfg.Path)
	if err != nil {
		return storage.Migration{}, fmt.Errorf("opening database %s: %w", cfg.Path, err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		return storage.Migration{}, fmt.Errorf("preparing database %s: %w", cfg.Path, err)
	}
	v, err := st.SchemaVersion(ctx)
	return storage.Migration{Target: cfg.Path, SchemaVersion: v}, err
}

// Prune deletes old collections, events, notification records and alert
// states from the database file the configuration names (see
// Store.PruneAll). It neither creates nor migrates the file.
func (p *Plugin) Prune(ctx context.Context, config []byte, olderThan time.Time) (storage.Pruned, error) {
	st, err := openExisting(config)
	if err != nil {
		return storage.Pruned{}, err
	}
	defer st.Close()
	return st.PruneAll(ctx, olderThan)
}

// PrunePreview counts what Prune would delete from the database file the
// configuration names, deleting nothing (see Store.PreviewAll).
func (p *Plugin) PrunePreview(ctx context.Context, config []byte, olderThan time.Time) (storage.Pruned, error) {
	st, err := openExisting(config)
	if err != nil {
		return storage.Pruned{}, err
	}
	defer st.Close()
	return st.PreviewAll(ctx, olderThan)
}

// openExisting opens the database file the configuration names, which
// must exist; it neither creates nor migrates it.
func openExisting(config []byte) (*Store, error) {
	cfg, _, err := parseConfig(config)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(cfg.Path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("no database at %s; check the path, or create it with `cscs db init`", cfg.Path)
		}
		return nil, fmt.Errorf("database %s: %w", cfg.Path, err)
	}
	return New(cfg.Path)
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
