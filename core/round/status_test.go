package round

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/core/internal/testkey"
	"github.com/cscs-dev/cscs/core/round/pool"
	"github.com/cscs-dev/cscs/core/spool"
	"github.com/cscs-dev/cscs/core/state"
	"github.com/cscs-dev/cscs/plugins/storage/postgres/pgtest"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// TestStatusReadsAndPluginFailures: a round whose plugins directory has a
// broken manifest counts one plugin failure (and marks its note); after
// it, ReadFleet and ReadHost read the outbox, the recent values and the
// event-log mails the round left in the state database.
func TestStatusReadsAndPluginFailures(t *testing.T) {
	ctx := context.Background()
	d := startDemo(t, 1)
	plugins := t.TempDir()
	if err := os.WriteFile(filepath.Join(plugins, "manifest.json"), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	plan := demoPlan(t, d, func(env *Environment) { env.PluginsDir = plugins })
	var rec recorder
	res := Run(ctx, plan, &rec)
	if res.PluginFailures != 1 {
		t.Errorf("PluginFailures = %d, want 1 (the broken manifest); notes %v", res.PluginFailures, rec.notes)
	}
	for _, n := range rec.notes {
		if n.PluginFailed != strings.Contains(n.Text, "external plugins left out") {
			t.Errorf("note %q: PluginFailed %v", n.Text, n.PluginFailed)
		}
	}

	fleet, err := ReadFleet(ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	if fleet.Outbox[storage.NotificationSent] < 1 || len(fleet.Outbox) != len(storage.NotificationStatuses) {
		t.Errorf("ReadFleet outbox = %v; want every status, the event-log mail sent", fleet.Outbox)
	}
	c := res.Batch.Collections[0]
	host, err := ReadHost(ctx, plan, c.HostIP, c.HostPort)
	if err != nil {
		t.Fatal(err)
	}
	if len(host.Series) != len(c.Samples) || len(host.EventMails) != 1 || host.EventMails[0].Kind != "eventlog" {
		t.Errorf("ReadHost: %d series for %d samples, event mails %+v", len(host.Series), len(c.Samples), host.EventMails)
	}
}

// TestReadSpools: each storage's spool is listed with its waiting rounds
// and the start of the oldest; a plan without a data directory is refused
// rather than read from the working directory.
func TestReadSpools(t *testing.T) {
	plan := &Plan{Env: Environment{DataDir: t.TempDir()}, Identity: testkey.New(t)}
	if got, err := ReadSpools(plan); err != nil || len(got) != 0 {
		t.Fatalf("ReadSpools of a fresh data directory = %v, %v", got, err)
	}
	oldest := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	for name, starts := range map[string][]time.Time{
		"storage-pg":     {oldest.Add(time.Hour), oldest},
		"sqlite-0a1b2c3": {},
	} {
		sp, err := spool.Open(plan.spoolRoot(), name, plan.Identity)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(sp.Dir(), 0o700); err != nil {
			t.Fatal(err)
		}
		for _, at := range starts {
			if err := sp.Put(&storage.Batch{RoundID: pool.NewRoundID(at)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	got, err := ReadSpools(plan)
	if err != nil {
		t.Fatal(err)
	}
	want := []SpoolBacklog{{Storage: "sqlite-0a1b2c3"}, {Storage: "storage-pg", Rounds: 2, Oldest: oldest}}
	if len(got) != 2 || got[0] != want[0] || got[1].Storage != want[1].Storage || got[1].Rounds != 2 || !got[1].Oldest.Equal(oldest) {
		t.Errorf("ReadSpools = %+v, want %+v", got, want)
	}
	if _, err := ReadSpools(&Plan{}); err == nil {
		t.Error("ReadSpools of a plan without a data directory did not fail")
	}
	if _, err := ReadFleet(t.Context(), &Plan{}); err == nil {
		t.Error("ReadFleet of a plan without a data directory did not fail")
	}
}

// TestStateOnPostgres: with Environment.State a postgres:// DSN, a round
// keeps its state there (no state.db in the data directory) and the
// status reads find it.
func TestStateOnPostgres(t *testing.T) {
	ctx := context.Background()
	d := startDemo(t, 1)
	dsn := pgtest.SchemaDSN(t)
	plan := demoPlan(t, d, func(env *Environment) { env.State = dsn })
	if plan.Env.StateTarget() != dsn {
		t.Fatalf("StateTarget = %q, want the DSN", plan.Env.StateTarget())
	}
	var rec recorder
	res := Run(ctx, plan, &rec)
	if !res.Stored {
		t.Fatalf("round not stored: %s; notes %v", res, rec.notes)
	}
	if _, err := os.Stat(state.Path(plan.Env.DataDir)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("state.db in the data directory: %v", err)
	}
	fleet, err := ReadFleet(ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	if fleet.Outbox[storage.NotificationSent] < 1 {
		t.Errorf("ReadFleet outbox = %v; want the event-log mail sent", fleet.Outbox)
	}
	c := res.Batch.Collections[0]
	host, err := ReadHost(ctx, plan, c.HostIP, c.HostPort)
	if err != nil || len(host.Series) != len(c.Samples) {
		t.Errorf("ReadHost: %d series for %d samples, %v", len(host.Series), len(c.Samples), err)
	}
}
