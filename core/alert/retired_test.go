package alert

import (
	"strings"
	"testing"
	"time"
)

// TestRetired: of the rules firing on a host, those no longer among its
// rules resolve once, stop firing and keep when they started; rules
// still configured, and states not firing, are left to Evaluate.
func TestRetired(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	now := t0.Add(time.Hour)
	host := HostInfo{IP: "10.0.0.5", Port: 22, Hostname: "web-01", Mail: "ops@example.com"}
	firing := map[string]State{
		"cpu>90":          {Firing: true, Since: t0, LastValue: 97},
		"memory>50":       {Firing: true, Since: t0, LastValue: 80},
		"web/busy#0a1b2c": {Firing: true, Since: t0, LastValue: 3},
		"swap>10":         {Firing: false, Since: t0},
		"users>=5":        {Firing: true, Since: t0, LastValue: 9},
		"users_max>1":     {Firing: true, Since: t0, LastValue: 2},
	}
	// users is the type of a source left out of the round: its rule is
	// kept; users_max, another type with that prefix, is not.
	tr := Retired(now, host, firing, []Rule{{ID: "cpu>90", Op: Above}}, []string{"users"})
	var ids []string
	for _, c := range tr.Changes {
		ids = append(ids, c.Rule.ID)
		if c.Kind != Resolved || !c.Retired || !c.Since.Equal(t0) || c.Rule.Condition() != RetiredText {
			t.Errorf("%s: %+v; want Resolved, Retired, since %s, condition %q", c.Rule.ID, c, t0, RetiredText)
		}
	}
	if strings.Join(ids, " ") != "memory>50 users_max>1 web/busy#0a1b2c" {
		t.Fatalf("retired %v, want memory>50, users_max>1 and web/busy#0a1b2c", ids)
	}
	for _, u := range tr.Updates {
		if u.State.Firing || !u.State.Since.Equal(now) {
			t.Errorf("update of %s: %+v; want not firing since now", u.RuleID, u.State)
		}
	}
	msg, ok := Compose(host, tr, nil, now)
	if !ok || !strings.Contains(msg.Subject, "RESOLVED web-01 (10.0.0.5): memory>50 (rule removed or changed) (+2 more)") ||
		!strings.Contains(msg.Body, "RESOLVED web/busy\n") {
		t.Errorf("mail:\n%s\n%s", msg.Subject, msg.Body)
	}
}
