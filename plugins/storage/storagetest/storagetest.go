// Package storagetest is the contract suite every CSCS database backend
// runs: the same batches, the same SQL and the same expected rows on
// SQLite and on PostgreSQL, so that an application reading the database
// (docs/schema.md) sees the same data whichever backend wrote it.
//
// The suite imports only the SDK, the standard library, database/sql and
// hclog; its SQL is written to run unchanged on every backend, with literals
// instead of placeholders.
package storagetest

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/sdk/storage"
)

// Database is one empty database of the backend under test.
type Database struct {
	// SQL is a connection to the same database, for the suite's queries.
	// The backend's test closes it.
	SQL *sql.DB
	// Open returns a Storage opened on the database, and so migrated to
	// the newest version, with a retention setting ("" keeps everything,
	// else "90d" or a Go duration). It must be safe to call from several
	// goroutines. The suite closes the Storage. Nil skips what needs it.
	Open func(ctx context.Context, retention string) (storage.Storage, error)
	// Versions is the number of migrations the backend knows.
	Versions int
	// MigrateTo applies the backend's migrations up to and including
	// version, and no further.
	MigrateTo func(ctx context.Context, version int) error
}

// Pruner is what a backend's opened Storage offers for retention.
// PruneAll deletes from the open database what storage.Pruner's Prune
// deletes: the events logged and the collections started before
// olderThan, except each host's latest ok collection, and the
// notification records sent or failed and the alert states not firing
// last updated before it; it says how many rows of each kind went.
// PreviewAll counts what PruneAll would delete, deleting nothing.
type Pruner interface {
	PruneAll(ctx context.Context, olderThan time.Time) (storage.Pruned, error)
	PreviewAll(ctx context.Context, olderThan time.Time) (storage.Pruned, error)
}

// Run checks the database contract on the backend: every subtest gets a
// fresh database from newDatabase.
func Run(t *testing.T, newDatabase func(t *testing.T) Database) {
	tests := map[string]func(t *testing.T, d Database){
		"migrations are idempotent":                      testMigrationsIdempotent,
		"cores opening at once migrate once":             testConcurrentOpen,
		"newer schema is refused":                        testNewerSchemaRefused,
		"mixed round":                                    testMixedRound,
		"same batch twice changes nothing":               testSameBatchTwice,
		"invalid batch writes nothing":                   testInvalidBatch,
		"invalid batch is refused with its reason":       testInvalidBatchReason,
		"a repeated metric keeps its last value":         testRepeatedMetric,
		"labelled samples":                               testLabelledSamples,
		"schema accepts the SDK's statuses":              testStatusChecks,
		"schema accepts the SDK's notification kinds":    testNotificationChecks,
		"latest_stats":                                   testLatestStats,
		"latest_stats keeps a failed host's last values": testFailedHostKeepsValues,
		"alerts and notifications updates":               testStateUpdates,
		"notification channels":                          testNotificationChannels,
		"alerts and notifications name hosts":            testStateHosts,
		"firing_alerts":                                  testFiringAlerts,
		"notification text is cleaned":                   testNotificationText,
		"concurrent writers":                             testConcurrentWriters,
		"host text is cleaned":                           testHostText,
		"events":                                         testEvents,
		"duplicate events are stored once":               testEventDuplicates,
		"a record id reused after a clear is stored":     testEventRecordReused,
		"event text is cleaned":                          testEventText,
		"prune events":                                   testPruneEvents,
		"prune":                                          testPrune,
		"prune notifications and alerts":                 testPruneState,
		"prune preview counts what prune deletes":        testPrunePreview,
		"retention":                                      testRetention,
	}
	for name, test := range tests {
		t.Run(name, func(t *testing.T) { test(t, newDatabase(t)) })
	}
	t.Run("upgrades", func(t *testing.T) { RunUpgrades(t, newDatabase) })
}

// open opens a Storage on d and closes it when the test ends.
func open(t *testing.T, d Database, retention string) storage.Storage {
	t.Helper()
	if d.Open == nil {
		t.Fatal("Database.Open is nil; the contract needs it")
	}
	s, err := d.Open(context.Background(), retention)
	if err != nil {
		t.Fatalf("open storage (retention %q): %v", retention, err)
	}
	t.Cleanup(func() {
		if err := s.Close(context.Background()); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func write(t *testing.T, s storage.Storage, b *storage.Batch) {
	t.Helper()
	if err := s.WriteBatch(context.Background(), b); err != nil {
		t.Fatalf("WriteBatch %s: %v", b.RoundID, err)
	}
}

func pruner(t *testing.T, s storage.Storage) Pruner {
	t.Helper()
	p, ok := s.(Pruner)
	if !ok {
		t.Fatalf("%T has no PruneAll and PreviewAll(ctx, olderThan) (storage.Pruned, error) methods", s)
	}
	return p
}

// pruneCollections prunes s and returns how many collections went.
func pruneCollections(ctx context.Context, t *testing.T, s storage.Storage, olderThan time.Time) (int64, error) {
	t.Helper()
	p, err := pruner(t, s).PruneAll(ctx, olderThan)
	return p.Collections, err
}
