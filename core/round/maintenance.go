package round

import (
	"fmt"
	"time"

	"github.com/cscs-dev/cscs/plugins"
)

// StorageTarget is a storage that `cscs db init`, `cscs db prune` and
// `cscs spool replay` act on: an overlay's storage block, or the built-in
// storage of --db.
type StorageTarget struct {
	// Label prefixes its lines ("storage sqlite a: "); empty for --db.
	Label string
	// Name is the storage block's name; empty for --db.
	Name   string
	Plugin string
	Config []byte
}

// Storage names t in JSON output: the block ("sqlite local") or "--db".
func (t StorageTarget) Storage() string {
	if t.Name == "" {
		return "--db"
	}
	return t.Plugin + " " + t.Name
}

// HasStorageBlocks reports whether the overlays say where rounds go (then
// --db is not used).
func (c *Config) HasStorageBlocks() bool { return c.Overlay != nil && len(c.Overlay.Storages) > 0 }

// StorageTargets are c's storage blocks or, without any, the built-in
// storage of the database db (a SQLite path or a postgres:// DSN).
func (c *Config) StorageTargets(db string) ([]StorageTarget, error) {
	instances, err := c.StorageInstances()
	if err != nil {
		return nil, err
	}
	var targets []StorageTarget
	for _, in := range instances {
		targets = append(targets, StorageTarget{Label: "storage " + in.Plugin + " " + in.Name + ": ", Name: in.Name, Plugin: in.Plugin, Config: in.Config})
	}
	if len(targets) > 0 {
		return targets, nil
	}
	d, err := plugins.DatabaseStorage(db)
	if err != nil {
		return nil, fmt.Errorf("--db: %w", err)
	}
	return []StorageTarget{{Plugin: d.Plugin, Config: d.Config}}, nil
}

// Maintenance is what `cscs db init` or `cscs db prune` did, storage by
// storage (schemas cscs/db-init/v1 and cscs/db-prune/v1, docs/json.md).
type Maintenance struct {
	Schema string `json:"schema"`
	// OlderThan is the prune's cutoff (db prune).
	OlderThan *time.Time `json:"older_than,omitempty"`
	// DryRun is set by db prune --dry-run: the counts are what would be
	// deleted, and nothing was.
	DryRun   bool                `json:"dry_run,omitempty"`
	Storages []MaintenanceResult `json:"storages"`
}

// MaintenanceResult is what one storage did.
type MaintenanceResult struct {
	// Storage is the storage block ("sqlite local") or "--db".
	Storage string `json:"storage"`
	// Target is the database as the storage names it, credentials left
	// out.
	Target        string `json:"target,omitempty"`
	SchemaVersion int    `json:"schema_version,omitempty"`
	Collections   int64  `json:"collections_deleted,omitempty"`
	Events        int64  `json:"events_deleted,omitempty"`
	Notifications int64  `json:"notifications_deleted,omitempty"`
	Alerts        int64  `json:"alerts_deleted,omitempty"`
	Skipped       bool   `json:"skipped,omitempty"`
	Error         string `json:"error,omitempty"`
}
