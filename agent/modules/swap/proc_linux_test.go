package swap

import (
	"context"
	"testing"

	"github.com/shirou/gopsutil/v4/mem"
)

// The /proc reader gives the swap total gopsutil (sysinfo(2)), which
// earlier agents used, gives, and a used figure within 64 MiB of it.
func TestHostReaderMatchesGopsutil(t *testing.T) {
	got, err := hostReader{}.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want, err := mem.SwapMemoryWithContext(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got.TotalBytes != want.Total {
		t.Fatalf("total = %d, gopsutil says %d", got.TotalBytes, want.Total)
	}
	const slack = 64 << 20
	if d := int64(got.UsedBytes) - int64(want.Used); d > slack || d < -slack {
		t.Fatalf("used = %d, gopsutil says %d", got.UsedBytes, want.Used)
	}
}
