package cpu

import (
	"context"
	"testing"

	gocpu "github.com/shirou/gopsutil/v4/cpu"
)

// The sysfs list of online CPUs counts what gopsutil counts in
// /proc/cpuinfo.
func TestOnlineCPUsMatchesCPUInfo(t *testing.T) {
	got, err := onlineCPUs()
	if err != nil {
		t.Skipf("no sysfs list of online CPUs here: %v", err)
	}
	want, err := gocpu.CountsWithContext(context.Background(), true)
	if err != nil {
		t.Fatal(err)
	}
	if got != want || got <= 0 {
		t.Fatalf("online CPUs from sysfs = %d, /proc/cpuinfo has %d", got, want)
	}
}
