package round

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"github.com/cscs-dev/cscs/core/internal/mailtest"
	"github.com/cscs-dev/cscs/core/state"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// TestRunWithoutCLI starts rounds the way a server would, with no command
// line: Load, NewPlan once, then Run twice on the same plan against an
// in-process SSH fleet with a local mail sink. Each round collects every
// host, stores it, and mails each client its event-log mail; a round
// whose context is already cancelled records every host as cancelled and
// still stores the round.
func TestRunWithoutCLI(t *testing.T) {
	ctx := context.Background()
	d := startDemo(t, 2)
	plan := demoPlan(t, d, nil)

	for round := 1; round <= 2; round++ {
		var rec recorder
		res := Run(ctx, plan, &rec)
		if !res.OK() || res.Report().Counts["ok"] != 2 || res.Storages != d.DB {
			t.Fatalf("round %d: %s, stored in %q, notes %v", round, res, res.Storages, rec.notes)
		}
		if got := rows(t, d.DB, `SELECT count(*) FROM collections WHERE status = 'ok'`); got != 2*round {
			t.Errorf("round %d: %d ok collections stored, want %d", round, got, 2*round)
		}
		// Every client gets its event-log mail every round; alert mails
		// (the demo's cpu and memory rules) come on top when they fire.
		eventMails := rows(t, d.DB, `SELECT count(*) FROM notifications WHERE kind = 'eventlog' AND status = 'sent'`)
		if eventMails != 2*round || d.Sink.Count() < eventMails {
			t.Errorf("round %d: %d event-log mails recorded sent, the sink received %d; want %d", round, eventMails, d.Sink.Count(), 2*round)
		}
		if !strings.Contains(noteText(rec.notes), " sent, 0 retrying later, 0 failed") {
			t.Errorf("round %d: notes %v do not report the mail sent", round, rec.notes)
		}
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	var rec recorder
	res := Run(cancelled, plan, &rec)
	if res.OK() || res.Report().Counts[string(storage.StatusCancelled)] != 2 || !res.Stored {
		t.Errorf("cancelled round: %s, stored %v; want both hosts cancelled and the round stored", res, res.Stored)
	}
}

// TestLoadRefusesBeforeAnyHost: a broken email_config.json, an alert rule
// of an unknown type or a bad overlay makes Load fail with ErrInvalid and
// diagnostics naming the file and line, so no round starts.
func TestLoadRefusesBeforeAnyHost(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	good := write("config.xml", `<clients><client ip="127.0.0.1" username="u" password="p"/></clients>`)
	tests := map[string]struct {
		files Files
		want  string
	}{
		"email without from": {Files{Inventory: good, Email: write("email.json", `{"host": "smtp.example.com"}`)}, "email.json:1:1: error"},
		"unknown alert type": {Files{Inventory: write("typo.xml", `<clients><client ip="127.0.0.1" username="u" password="p"><alert type="cpux" limit="5%"/></client></clients>`)},
			"typo.xml:1:"},
		"overlay typo": {Files{Inventory: good, Overlays: []string{write("o.hcl", "round {\n  concurency = 3\n}\n")}}, "o.hcl line 2"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var diags strings.Builder
			_, err := Load(context.Background(), tc.files, LoadOptions{Version: "test"}, &diags)
			if err != ErrInvalid || !strings.Contains(diags.String(), tc.want) {
				t.Errorf("Load = %v with diagnostics\n%s\nwant ErrInvalid and %q", err, diags.String(), tc.want)
			}
		})
	}
}

func rows(t *testing.T, dbPath, query string) int {
	t.Helper()
	db, err := sql.Open("sqlite3", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(query).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func noteText(notes []Note) string {
	var b strings.Builder
	for _, n := range notes {
		b.WriteString(n.Text + "\n")
	}
	return b.String()
}

// stopOnFirstHost cancels its round once the first host is done, as a
// SIGTERM arriving mid-round does.
type stopOnFirstHost struct {
	recorder
	stop context.CancelFunc
}

func (s *stopOnFirstHost) HostDone(int, int, storage.Collection) { s.stop() }

// TestStopBoundsMail: a round stopped mid-way whose mail server accepts
// connections and never answers ends within StopGrace (and a margin)
// instead of the notifier's own minute-long timeouts; the host it
// collected is stored and its mail waits in the outbox, pending.
func TestStopBoundsMail(t *testing.T) {
	d := startDemo(t, 1)
	mailtest.WriteEmailConfig(t, d.Email, mailtest.Tarpit(t, nil)) // accepts, never greets
	plan := demoPlan(t, d, nil)
	stopped, stop := context.WithCancel(context.Background())
	defer stop()
	rep := &stopOnFirstHost{stop: stop}
	start := time.Now()
	res := Run(stopped, plan, rep)
	if took := time.Since(start); took > StopGrace+15*time.Second {
		t.Errorf("the stopped round took %s with a mute mail server; want about StopGrace (%s)", took, StopGrace)
	}
	if !res.Stored || res.Report().Counts["ok"] != 1 {
		t.Errorf("stopped round: %s, stored %v; want its host collected and stored", res, res.Stored)
	}
	// The store does not wait for the mail: the record it got says the
	// mail was queued or in flight, never sent.
	if got := rows(t, d.DB, `SELECT count(*) FROM notifications WHERE kind = 'eventlog' AND status IN ('pending', 'sending')`); got != 1 {
		t.Errorf("%d event-log mails pending or sending in the stored outbox records, want 1 (kept for the next start)", got)
	}
	if got := rows(t, state.Path(plan.Env.DataDir), `SELECT count(*) FROM notifications WHERE kind = 'eventlog' AND status = 'pending'`); got != 1 {
		t.Errorf("%d event-log mails pending in the outbox after the round, want 1 (kept for the next start)", got)
	}
	if text := noteText(rep.notes); !strings.Contains(text, "stopping: mail gets") || !strings.Contains(text, "mail: 0 sent,") {
		t.Errorf("notes do not say the mail was cut short and kept: %s", text)
	}
}
