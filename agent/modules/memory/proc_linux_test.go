package memory

import (
	"context"
	"testing"

	"github.com/shirou/gopsutil/v4/mem"
)

// The /proc reader gives what gopsutil, which earlier agents used, gives:
// the same total, and used and available within what a few milliseconds
// of this host's work can move (64 MiB).
func TestHostReaderMatchesGopsutil(t *testing.T) {
	got, err := hostReader{}.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want, err := mem.VirtualMemoryWithContext(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	const slack = 64 << 20
	if got.TotalBytes != want.Total {
		t.Fatalf("total = %d, gopsutil says %d", got.TotalBytes, want.Total)
	}
	if d := int64(got.AvailableBytes) - int64(want.Available); d > slack || d < -slack {
		t.Fatalf("available = %d, gopsutil says %d", got.AvailableBytes, want.Available)
	}
	if d := int64(got.UsedBytes) - int64(want.Used); d > slack || d < -slack {
		t.Fatalf("used = %d, gopsutil says %d", got.UsedBytes, want.Used)
	}
	if got.UsedBytes+got.AvailableBytes != got.TotalBytes {
		t.Fatalf("used %d + available %d != total %d", got.UsedBytes, got.AvailableBytes, got.TotalBytes)
	}
}
