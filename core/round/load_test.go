package round

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// checkGolden compares got with testdata/name.golden.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// TestLoadReportsEveryProblem: one pass over a config.xml with problems
// of every stage (a limit that is not a limit, a limit of the wrong unit,
// an unknown alert type, a bad port, an unknown attribute, a bad down
// limit) reports each at its own line and column, in file order, and
// Load fails with ErrInvalid.
func TestLoadReportsEveryProblem(t *testing.T) {
	var out strings.Builder
	_, err := Load(context.Background(), Files{Inventory: filepath.Join("testdata", "every_problem.xml")}, LoadOptions{Version: "test"}, &out)
	if err != ErrInvalid {
		t.Errorf("Load = %v, want ErrInvalid", err)
	}
	checkGolden(t, "every_problem", out.String())
}
