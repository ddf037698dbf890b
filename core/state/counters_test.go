package state

import (
	"reflect"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/core/rate"
)

// TestCounters: a host's counters are replaced whole, kept per host, and
// read back by another DB on the same file (the next round's process).
func TestCounters(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e engine) {
		ctx := t.Context()
		path := e.target(t)
		db, err := Open(ctx, path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, ok, err := db.Counters(ctx, "10.0.0.1", 22); ok || err != nil {
			t.Fatalf("Counters before SetCounters: %v, %v", ok, err)
		}
		at := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
		boot := at.Add(-time.Hour)
		first := map[string]rate.Counter{
			`net.rx_bytes_per_second{interface="eth0"}`: {Total: 1e12, At: at, Boot: boot},
			`net.rx_bytes_per_second{interface="eth1"}`: {Total: 5, At: at, Boot: boot},
		}
		second := map[string]rate.Counter{`net.rx_bytes_per_second{interface="eth0"}`: {Total: 2e12, At: at.Add(time.Minute), Boot: boot}}
		other := map[string]rate.Counter{`net.tx_bytes_per_second{interface="em0"}`: {Total: 7, At: at}}
		for _, set := range []struct {
			ip string
			c  map[string]rate.Counter
		}{{"10.0.0.1", first}, {"10.0.0.1", second}, {"10.0.0.2", other}} {
			if err := db.SetCounters(ctx, set.ip, 22, set.c); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.SetCounters(ctx, "", 22, other); err == nil {
			t.Error("SetCounters without a host: no error")
		}
		again, err := Open(ctx, path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer again.Close()
		for _, d := range []*DB{db, again} {
			for ip, want := range map[string]map[string]rate.Counter{"10.0.0.1": second, "10.0.0.2": other} {
				got, ok, err := d.Counters(ctx, ip, 22)
				if err != nil || !ok || !reflect.DeepEqual(got, want) {
					t.Errorf("Counters(%s) = %v, %v, %v; want %v (eth1 gone with the replaced set)", ip, got, ok, err, want)
				}
			}
		}
	})
}
