package all

import (
	"runtime"
	"slices"
	"testing"
)

func TestBuiltinNames(t *testing.T) {
	var names []string
	for _, m := range Builtin() {
		names = append(names, m.Name())
	}
	want := []string{"cpu", "memory", "swap", "uptime", "disk", "net"}
	if runtime.GOOS == "linux" || runtime.GOOS == "darwin" {
		want = append(want, "load")
	}
	switch runtime.GOOS {
	case "linux":
		want = append(want, "authlog")
	case "windows":
		want = append(want, "eventlog")
	}
	if !slices.Equal(names, want) {
		t.Fatalf("Builtin() names = %v, want %v", names, want)
	}
}
