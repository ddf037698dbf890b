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
	units := map[string]bool{}
	for _, u := range Units() {
		units[u] = true
	}
	label := regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
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
		for _, l := range m.Labels {
			if !label.MatchString(l) {
				t.Errorf("%s: label %q is not lower_snake_case", m.Name, l)
			}
		}
		if rate := m.Unit == BytesPerSecond || m.Unit == PerSecond; m.Counter != rate {
			t.Errorf("%s: counter %v with unit %q; a counter is stored as a rate per second, and only a counter is", m.Name, m.Counter, m.Unit)
		}
		seen[m.Name] = true
		if u, ok := Unit(m.Name); !ok || u != m.Unit {
			t.Errorf("Unit(%s) = %q, %v; want %q", m.Name, u, ok, m.Unit)
		}
		found := false
		for _, o := range Of(m.Module) {
			found = found || o.Name == m.Name
		}
		if !found {
			t.Errorf("Of(%s) lacks %s", m.Module, m.Name)
		}
	}
	if _, ok := Unit("disk.used_bytes_percent"); ok {
		t.Error("Unit knows a name the table does not hold")
	}
	if got := Of("eventlog"); len(got) != 0 {
		t.Errorf("Of(eventlog) = %v, want none", got)
	}
}
