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
	want := []string{"cpu", "memory", "swap", "uptime"}
	if runtime.GOOS == "linux" || runtime.GOOS == "darwin" {
		want = append(want, "load")
	}
	if runtime.GOOS == "linux" {
		want = append(want, "authlog")
	}
	if !slices.Equal(names, want) {
		t.Fatalf("Builtin() names = %v, want %v", names, want)
	}
}
