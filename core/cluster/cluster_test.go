package cluster

import (
	"reflect"
	"testing"
	"time"
)

func TestSlots(t *testing.T) {
	tick := 10 * time.Second
	cases := []struct {
		at, slot, next string
	}{
		{"2026-12-07T10:00:00Z", "2026-12-07T10:00:00Z", "2026-12-07T10:00:10Z"},
		{"2026-12-07T10:00:09.999Z", "2026-12-07T10:00:00Z", "2026-12-07T10:00:10Z"},
		{"2026-12-07T10:00:10Z", "2026-12-07T10:00:10Z", "2026-12-07T10:00:20Z"},
		{"2026-12-07T10:59:55Z", "2026-12-07T10:59:50Z", "2026-12-07T11:00:00Z"},
	}
	for _, c := range cases {
		at := mustTime(t, c.at)
		if got := slotOf(at, tick); !got.Equal(mustTime(t, c.slot)) {
			t.Errorf("slotOf(%s) = %s, want %s", c.at, got.UTC(), c.slot)
		}
		if got := (slotSchedule{func() time.Duration { return tick }}).Next(at); !got.Equal(mustTime(t, c.next)) {
			t.Errorf("Next(%s) = %s, want %s", c.at, got.UTC(), c.next)
		}
	}
	// Every instance names the same slots, whatever its time zone.
	at := mustTime(t, "2026-12-07T10:00:04Z")
	if a, b := slotOf(at, time.Minute), slotOf(at.In(time.FixedZone("X", 5*3600+1800)), time.Minute); !a.Equal(b) {
		t.Errorf("slots differ by zone: %s, %s", a, b)
	}
}

func TestByQueue(t *testing.T) {
	hosts := []Host{
		{Label: "10.0.0.1", Groups: []string{"web", "dc1"}},
		{Label: "10.0.0.2", Groups: []string{"dc2"}},
		{Label: "10.0.0.3"},
		{Label: "10.0.0.4", Groups: []string{"dc2", "dc1"}},
		{Label: "10.0.0.5", Groups: []string{"web"}},
	}
	got := byQueue(hosts, map[string]bool{"dc1": true, "dc2": true})
	want := map[string][]string{
		"site_dc1":   {"10.0.0.1"},
		"site_dc2":   {"10.0.0.2", "10.0.0.4"}, // its first served group
		DefaultQueue: {"10.0.0.3", "10.0.0.5"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("byQueue = %v, want %v", got, want)
	}
	if got := byQueue(hosts, nil); len(got) != 1 || len(got[DefaultQueue]) != 5 {
		t.Errorf("with no site served: %v, want every host in %s", got, DefaultQueue)
	}
}

func TestCheckSite(t *testing.T) {
	for site, ok := range map[string]bool{
		"dc1": true, "paris-2": true, "eu_west": true,
		"": false, "dc 1": false, "-dc": false, "dc--1": false, "dc.1": false, "x" + string(make([]byte, 60)): false,
	} {
		if err := CheckSite(site); (err == nil) != ok {
			t.Errorf("CheckSite(%q) = %v, want ok %v", site, err, ok)
		}
	}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return at
}
