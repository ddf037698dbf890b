package load

import (
	"context"
	"math"
	"testing"

	goload "github.com/shirou/gopsutil/v4/load"
)

// The /proc reader gives what gopsutil, which earlier agents used, gives
// (the kernel updates the averages every 5 s: allow for one update).
func TestHostReaderMatchesGopsutil(t *testing.T) {
	got, err := hostReader{}.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want, err := goload.AvgWithContext(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name      string
		got, want float64
	}{{"1 min", got.One, want.Load1}, {"5 min", got.Five, want.Load5}, {"15 min", got.Fifteen, want.Load15}} {
		if math.Abs(c.got-c.want) > 0.5 {
			t.Errorf("%s load = %v, gopsutil says %v", c.name, c.got, c.want)
		}
	}
}
