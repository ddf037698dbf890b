package cli

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/core/round"
	"github.com/cscs-dev/cscs/plugins/storage/sqlite"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// stateFixture is sqliteFixture plus, last updated ten days ago, a sent
// and a pending notification and a resolved and a firing alert: pruning
// older than two days deletes the sent one and the resolved one.
func stateFixture(t *testing.T) string {
	t.Helper()
	path := sqliteFixture(t)
	old := time.Now().UTC().Add(-240 * time.Hour)
	notification := func(id, status string) storage.NotificationRecord {
		return storage.NotificationRecord{ID: id, Kind: storage.NotificationAlert, HostIP: "10.0.0.1", HostPort: 22,
			Recipients: []string{"ops@example.com"}, Subject: id, Status: status, Attempts: 1, CreatedAt: old, UpdatedAt: old}
	}
	alert := func(rule string, firing bool) storage.AlertState {
		return storage.AlertState{HostIP: "10.0.0.1", HostPort: 22, RuleID: rule, Type: "cpu", Metric: "cpu.percent",
			Condition: "> 90%", Firing: firing, Since: old, LastValue: 95, UpdatedAt: old}
	}
	p := &sqlite.Plugin{}
	cfg, _ := json.Marshal(sqlite.Config{Path: path})
	if err := p.Open(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	b := &storage.Batch{RoundID: "state", StartedAt: time.Now().UTC(),
		Notifications: []storage.NotificationRecord{notification("sent", storage.NotificationSent), notification("pending", storage.NotificationPending)},
		Alerts:        []storage.AlertState{alert("cpu>90", false), alert("memory>90", true)},
	}
	if err := p.WriteBatch(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	return path
}

// rowsLeft lists the collections, notifications and alerts of the
// database at path.
func rowsLeft(t *testing.T, path string) string {
	t.Helper()
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var notifications, alerts string
	if err := db.QueryRow(`SELECT COALESCE(group_concat(id, ','), '') FROM (SELECT id FROM notifications ORDER BY id)`).Scan(&notifications); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`SELECT COALESCE(group_concat(rule_id, ','), '') FROM (SELECT rule_id FROM alerts ORDER BY rule_id)`).Scan(&alerts); err != nil {
		t.Fatal(err)
	}
	return "collections: " + collectionsLeft(t, "sqlite3", path) + "; notifications: " + notifications + "; alerts: " + alerts
}

// TestDBPruneDryRun: --dry-run counts what a prune would delete, in text
// and in JSON, and deletes nothing; the prune after it deletes as many.
func TestDBPruneDryRun(t *testing.T) {
	const (
		all      = "collections: 10.0.0.1 mid, 10.0.0.1 new, 10.0.0.1 old, 10.0.0.2 mid, 10.0.0.2 new, 10.0.0.2 old; notifications: pending,sent; alerts: cpu>90,memory>90"
		afterAll = "collections: " + wantLeft + "; notifications: pending; alerts: memory>90"
	)
	tests := map[string]struct {
		olderThan, output string
		want              string
		wantJSON          round.MaintenanceResult
	}{
		"text": {olderThan: "2d",
			want: ": would delete 3 collections (and their samples), 0 events, 1 notification records and 1 alert states from before "},
		"nothing old": {olderThan: "30d",
			want: ": would delete 0 collections (and their samples), 0 events, 0 notification records and 0 alert states from before "},
		"json": {olderThan: "2d", output: "json",
			wantJSON: round.MaintenanceResult{Storage: "--db", Collections: 3, Notifications: 1, Alerts: 1}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			path := stateFixture(t)
			args := []string{"--db", path, "--older-than", tc.olderThan, "--dry-run"}
			if tc.output != "" {
				args = append(args, "--output", tc.output)
			}
			code, stdout, stderr := runPrune(t, nil, args...)
			if code != ExitOK || stderr != "" {
				t.Fatalf("exit %d, stderr %q", code, stderr)
			}
			if got := rowsLeft(t, path); got != all {
				t.Fatalf("a dry run deleted rows; left:\n%s\nwant\n%s", got, all)
			}
			if tc.output == "json" {
				var out struct {
					Schema   string                    `json:"schema"`
					DryRun   bool                      `json:"dry_run"`
					Storages []round.MaintenanceResult `json:"storages"`
				}
				if err := json.Unmarshal([]byte(stdout), &out); err != nil {
					t.Fatalf("stdout is not JSON: %v\n%s", err, stdout)
				}
				tc.wantJSON.Target = path
				if out.Schema != "cscs/db-prune/v1" || !out.DryRun || len(out.Storages) != 1 || out.Storages[0] != tc.wantJSON {
					t.Errorf("JSON = %+v; want schema cscs/db-prune/v1, dry_run and %+v", out, tc.wantJSON)
				}
				checkDocumented(t, stdout)
			} else if !strings.HasPrefix(stdout, path+tc.want) || !strings.Contains(stdout, "nothing was deleted (dry run)") {
				t.Errorf("stdout %q; want %q", stdout, path+tc.want)
			}

			// The real prune deletes what the dry run counted.
			code, stdout, stderr = runPrune(t, nil, "--db", path, "--older-than", tc.olderThan, "--output", "json")
			var real round.Maintenance
			if err := json.Unmarshal([]byte(stdout), &real); code != ExitOK || err != nil || len(real.Storages) != 1 || real.DryRun {
				t.Fatalf("prune: exit %d, %v, stdout %q, stderr %q", code, err, stdout, stderr)
			}
			want := tc.wantJSON
			if tc.output != "json" {
				// Read the dry run's numbers back from its text.
				want = round.MaintenanceResult{Storage: "--db", Target: path}
				if tc.olderThan == "2d" {
					want.Collections, want.Notifications, want.Alerts = 3, 1, 1
				}
			}
			if real.Storages[0] != want {
				t.Errorf("prune deleted %+v; the dry run counted %+v", real.Storages[0], want)
			}
			if tc.olderThan == "2d" {
				if got := rowsLeft(t, path); got != afterAll {
					t.Errorf("left after the prune:\n%s\nwant\n%s", got, afterAll)
				}
			}
		})
	}
}

// TestDBPruneTextCountsState: the prune's text names the notification
// records and alert states it deleted and what it keeps.
func TestDBPruneTextCountsState(t *testing.T) {
	path := stateFixture(t)
	code, stdout, stderr := runPrune(t, nil, "--db", path, "--older-than", "2d")
	if code != ExitOK {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	for _, want := range []string{": deleted 3 collections (and their samples) and 0 events from before ", "and 1 notification records and 1 alert states last updated before it",
		"pending notifications and firing alerts are kept"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout %q lacks %q", stdout, want)
		}
	}
}

// checkDocumented checks that every field of the cscs/db-prune/v1 output
// is listed in docs/json.md (TestJSONOutputsAreDocumented runs the
// command without --dry-run).
func checkDocumented(t *testing.T, stdout string) {
	t.Helper()
	doc := documentedSchemas(t)["cscs/db-prune/v1"]
	if doc == nil {
		t.Fatal("cscs/db-prune/v1 is not documented in docs/json.md")
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(stdout), &v); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	fieldPaths(v, "", doc, seen)
	for f := range seen {
		if _, ok := doc[f]; !ok {
			t.Errorf("field %s is printed but not in docs/json.md", f)
		}
	}
}
