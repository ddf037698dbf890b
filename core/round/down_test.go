package round

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/cscs-dev/cscs/core/alert"
	"github.com/cscs-dev/cscs/core/demo"
	"github.com/cscs-dev/cscs/core/overlay"
)

// writeDownInventory writes the demo's config.xml with a down limit of 2
// rounds on the second client, whose password is wrong while broken is
// set (its collection then fails with auth_failed; its address, and so
// its alert state, stays the same).
func writeDownInventory(t *testing.T, d *demo.Demo, broken bool) {
	t.Helper()
	var b strings.Builder
	b.WriteString("<clients>\n")
	for i, h := range d.Fleet.Hosts() {
		password := "file:demo.password"
		if broken && i == 1 {
			password = "not-the-password"
		}
		fmt.Fprintf(&b, "  <client ip=%q port=\"%d\" username=\"demo\" password=%q mail=\"ops@example.com\">\n", h.IP, h.Port, password)
		if i == 1 {
			b.WriteString("    <alert type=\"down\" limit=\"2 rounds\"/>\n")
		}
		b.WriteString("  </client>\n")
	}
	b.WriteString("</clients>\n")
	if err := os.WriteFile(d.Inventory, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestDownAcrossRuns: a client that fails rounds in a row gets exactly
// one FIRING DOWN mail, at the round its limit (2) is reached, through
// the real SMTP path to the demo's mail sink; the next failed round sends
// none (repeat 4h); once it answers again, exactly one RESOLVED mail.
// Each round loads the configuration and plans anew, as separate
// `cscs run` invocations do: the state database in the data directory
// carries the count. The storages see the rule's state as "down".
func TestDownAcrossRuns(t *testing.T) {
	ctx := context.Background()
	d := startDemo(t, 2)
	broken := d.Fleet.Hosts()[1]
	label := HostLabel(broken.IP, broken.Port)
	run := func(round int) {
		t.Helper()
		plan := demoPlan(t, d, nil) // loaded afresh: a new run
		var rec recorder
		res := Run(ctx, plan, &rec)
		if !res.Stored {
			t.Fatalf("round %d: %s not stored; notes %v", round, res, rec.notes)
		}
	}
	// A failed host reported no hostname: its address alone names it.
	firing := regexp.MustCompile(`^\[CSCS\] FIRING ` + regexp.QuoteMeta(label) + `: down — auth_failed 2 rounds in a row$`)
	resolved := regexp.MustCompile(`^\[CSCS\] RESOLVED (\S+ \()?` + regexp.QuoteMeta(label) + `\)?: down — answers again after [0-9.dhms]+$`)
	wantLines := [][]string{
		{"FIRING down\n", "  Status:   auth_failed\n", "  Error:    ", "  Limit:    down 2 rounds in a row\n", " (first failed round)\n"},
		{"RESOLVED down\n", "  Status:   ok (the host answers again)\n", " (was down for "},
	}
	steps := []struct {
		broken bool
		want   []*regexp.Regexp // the DOWN subjects received so far
		firing int              // the down rule's firing rows in the storage
	}{
		{broken: true},
		{broken: true, want: []*regexp.Regexp{firing}, firing: 1},
		{broken: true, want: []*regexp.Regexp{firing}, firing: 1},
		{broken: false, want: []*regexp.Regexp{firing, resolved}},
		{broken: false, want: []*regexp.Regexp{firing, resolved}},
	}
	for i, s := range steps {
		round := i + 1
		writeDownInventory(t, d, s.broken)
		run(round)
		if got := rows(t, d.DB, `SELECT count(*) FROM collections WHERE status = 'auth_failed'`); s.broken && got != round {
			t.Fatalf("round %d: %d auth_failed collections, want %d", round, got, round)
		}
		got := sinkMails(t, d, ": down — ")
		if len(got) != len(s.want) {
			t.Fatalf("round %d: DOWN mails %q, want %d: %q", round, got, len(s.want), s.want)
		}
		for j, w := range s.want {
			if !w.MatchString(got[j].subject) {
				t.Errorf("round %d: mail %d subject %q, want %s", round, j, got[j].subject, w)
			}
			for _, line := range wantLines[j] {
				if !strings.Contains(got[j].body, line) {
					t.Errorf("round %d: mail %d lacks %q:\n%s", round, j, line, got[j].body)
				}
			}
		}
		q := `SELECT count(*) FROM alerts WHERE rule_id = 'down' AND type = 'down' AND metric = 'host.up' AND condition = 'down 2 rounds' AND firing`
		if n := rows(t, d.DB, q); n != s.firing {
			t.Errorf("round %d: %d firing down rows in the storage, want %d", round, n, s.firing)
		}
	}
	if n := rows(t, d.DB, `SELECT count(*) FROM notifications WHERE kind = 'alert' AND subject LIKE '%: down — %' AND status = 'sent'`); n != 2 {
		t.Errorf("%d DOWN notifications recorded sent, want 2", n)
	}
	if n := rows(t, d.DB, `SELECT count(*) FROM alerts WHERE rule_id = 'down'`); n != 2 {
		t.Errorf("%d down rows in the storage, want one per host", n)
	}
}

// TestDownRulePrecedence: the client's <alert type="down"> wins, else the
// last matching overlay group that sets down_after, else the default;
// 0 (or "off") turns the rule off.
func TestDownRulePrecedence(t *testing.T) {
	path := filepath.Join(t.TempDir(), "down.hcl")
	text := "group \"edge\" {\n  ips = [\"10.0.9.0/24\"]\n  down_after = 5\n}\ngroup \"quiet\" {\n  ips = [\"10.0.9.7\"]\n  down_after = 0\n}\n"
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	ov, diags := overlay.Load([]string{path}, overlay.Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	cfg := &Config{Overlay: ov, Down: []alert.DownLimit{{}, {Set: true, Rounds: 2}, {Set: true}, {}, {}}}
	ips := []string{"10.0.0.1", "10.0.9.1", "10.0.9.2", "10.0.9.3", "10.0.9.7"}
	want := []int{alert.DefaultDownAfter, 2, 0, 5, 0} // 0: off
	for i, ip := range ips {
		r, on := downRule(cfg.Down[i], ov.GroupsOf(ip, "linux"))
		if got := map[bool]int{true: r.For}[on]; got != want[i] || on && (r.ID != "down" || r.Type != "down" || r.Severity != "critical") {
			t.Errorf("client %d (%s): rule %+v on %v, want For %d", i, ip, r, on, want[i])
		}
	}
}

// TestLoadRefusesBadDownLimit: a down limit that is not a count of rounds
// stops Load with a diagnostic naming file, line and column and the fix;
// "5 rounds" and "off" load.
func TestLoadRefusesBadDownLimit(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.xml")
	write := func(limit string) {
		text := "<clients>\n  <client ip=\"127.0.0.1\" username=\"u\" password=\"p\" mail=\"ops@example.com\">\n" +
			"    <alert type=\"down\" limit=\"" + limit + "\"/>\n  </client>\n</clients>\n"
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("5m")
	var out strings.Builder
	if _, err := Load(context.Background(), Files{Inventory: path}, LoadOptions{Version: "test"}, &out); err == nil {
		t.Fatal("Load accepted a down limit of 5m")
	}
	want := path + `:3:5: error: client 127.0.0.1 alert down attribute limit: "5m" is not a count of rounds; fix: write a count of failed rounds in a row`
	if !strings.Contains(out.String(), want) {
		t.Errorf("diagnostics\n%s\nlack\n%s", out.String(), want)
	}
	for limit, rounds := range map[string]int{"5 rounds": 5, "off": 0} {
		write(limit)
		out.Reset()
		cfg, err := Load(context.Background(), Files{Inventory: path}, LoadOptions{Version: "test"}, &out)
		if err != nil || len(cfg.Down) != 1 || !cfg.Down[0].Set || cfg.Down[0].Rounds != rounds {
			t.Errorf("limit %q: %v, down %+v\n%s", limit, err, cfg.Down, out.String())
		}
	}
}
