package uptime

import (
	"context"
	"testing"
	"time"

	"github.com/shirou/gopsutil/v4/host"
)

// The /proc reader gives the whole seconds gopsutil (sysinfo(2)), which
// earlier agents used, gives: equal, or one second apart when a second
// turned between the two reads.
func TestHostReaderMatchesGopsutil(t *testing.T) {
	got, err := hostReader{}.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	secs, err := host.UptimeWithContext(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got != got.Truncate(time.Second) {
		t.Fatalf("uptime %v is not whole seconds", got)
	}
	if d := time.Duration(secs)*time.Second - got; d < 0 || d > time.Second {
		t.Fatalf("uptime = %v, gopsutil says %ds", got, secs)
	}
}
