package metrics

import (
	"regexp"
	"strings"
	"testing"
)

// TestTable: every name is unique, lower_snake_case under its module, in a
// known unit, described; Of and Unit read the same rows.
func TestTable(t *testing.T) {
	name := regexp.MustCompile(`^[a-z][a-z0-9_]*\.[a-z0-9][a-z0-9_]*$`)
	units := map[string]bool{Percent: true, Bytes: true, Seconds: true, Count: true, Ratio: true}
	seen := map[string]bool{}
	for _, m := range Table() {
		switch {
		case seen[m.Name]:
			t.Errorf("%s is declared twice", m.Name)
		case !name.MatchString(m.Name) || !strings.HasPrefix(m.Name, m.Module+"."):
			t.Errorf("%s: want <module>.<lower_snake_case> under module %s", m.Name, m.Module)
		case !units[m.Unit]:
			t.Errorf("%s: unit %q is not one of the declared units", m.Name, m.Unit)
		case m.Description == "":
			t.Errorf("%s has no description", m.Name)
		}
		seen[m.Name] = true
		if u, ok := Unit(m.Name); !ok || u != m.Unit {
			t.Errorf("Unit(%s) = %q, %v; want %q", m.Name, u, ok, m.Unit)
		}
		found := false
		for _, o := range Of(m.Module) {
			found = found || o == m
		}
		if !found {
			t.Errorf("Of(%s) lacks %s", m.Module, m.Name)
		}
	}
	if _, ok := Unit("disk.used_percent"); ok {
		t.Error("Unit knows a name the table does not hold")
	}
	if got := Of("eventlog"); len(got) != 0 {
		t.Errorf("Of(eventlog) = %v, want none", got)
	}
}
