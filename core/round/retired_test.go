package round

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestChangedRuleResolves: a rule that fires and is then changed in
// config.xml (so it has a new ID) resolves with one RESOLVED mail saying
// the rule was removed or changed, and its state stops firing; before
// this, it fired for ever, since nothing evaluates it any more.
func TestChangedRuleResolves(t *testing.T) {
	ctx := context.Background()
	d := startDemo(t, 1)
	h := d.Fleet.Hosts()[0]
	writeRule := func(limit string) {
		t.Helper()
		inv := fmt.Sprintf("<clients>\n  <client ip=%q port=\"%d\" username=\"demo\" password=\"file:demo.password\" mail=\"ops@example.com\">\n"+
			"    <alert type=\"memory\" limit=%q/>\n  </client>\n</clients>\n", h.IP, h.Port, limit)
		if err := os.WriteFile(d.Inventory, []byte(inv), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	run := func(round int) {
		t.Helper()
		var rec recorder
		if res := Run(ctx, demoPlan(t, d, nil), &rec); !res.Stored {
			t.Fatalf("round %d: %s not stored; notes %v", round, res, rec.notes)
		}
	}

	writeRule(">=0%") // always fires
	run(1)
	if got := sinkMails(t, d, "FIRING"); len(got) != 1 || !strings.Contains(got[0].subject, "memory") {
		t.Fatalf("after round 1: FIRING mails %v, want one about memory", got)
	}
	writeRule("101%") // the same type, another rule: never fires
	run(2)
	resolved := sinkMails(t, d, "RESOLVED")
	if len(resolved) != 1 || !strings.Contains(resolved[0].subject, "memory>=0 (rule removed or changed)") ||
		!strings.Contains(resolved[0].body, "removed from the configuration or changed") {
		t.Fatalf("after round 2: RESOLVED mails %v, want one saying the memory>=0 rule was removed or changed", resolved)
	}
	if n := rows(t, d.DB, `SELECT count(*) FROM alerts WHERE firing = 1`); n != 0 {
		t.Errorf("%d alerts still firing in the storage after the change, want 0", n)
	}
	run(3)
	if got := len(sinkMails(t, d, "RESOLVED")); got != 1 {
		t.Errorf("after round 3: %d RESOLVED mails, want still 1 (a retired rule resolves once)", got)
	}
}
