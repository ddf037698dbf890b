package modbuild_test

import (
	"context"
	"errors"
	"os"
	"runtime"
	"testing"

	"github.com/cscs-dev/cscs/sdk/agentmod"
	"github.com/cscs-dev/cscs/sdk/agentmod/modbuild"
	"github.com/cscs-dev/cscs/sdk/sdktest"
	"github.com/cscs-dev/cscs/sdk/source"
)

// TestBuildAndEmbed builds a module for this platform and Windows: the
// compressed files are a fraction of the programs, EmbeddedModule serves
// this platform's, which runs as the agent runs it, and refuses a
// platform not built.
func TestBuildAndEmbed(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Go program twice; skipped with -short")
	}
	here := runtime.GOOS + "/" + runtime.GOARCH
	out := t.TempDir()
	built, err := modbuild.Build(context.Background(), modbuild.Options{
		Package: "./testdata/hello", Name: "hello", OutDir: out, Platforms: []string{here, "windows/amd64"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(built) != 2 {
		t.Fatalf("built %+v, want two files", built)
	}
	for _, b := range built {
		if b.Size <= 0 || b.Size*2 > b.Binary {
			t.Errorf("%s: %d bytes for a %d-byte program; want it compressed to less than half", b.Platform, b.Size, b.Binary)
		}
	}
	fsys := os.DirFS(out)
	m, err := source.EmbeddedModule(fsys, ".", "hello", source.Platform{OS: runtime.GOOS, Arch: runtime.GOARCH}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" {
		res := sdktest.RunModule(t, "hello", m, agentmod.Request{})
		if len(res.Metrics) != 1 || res.Metrics[0].Value != 42 {
			t.Errorf("the embedded module reported %+v", res.Metrics)
		}
	}
	if _, err := source.EmbeddedModule(fsys, ".", "hello", source.Platform{OS: "darwin", Arch: "arm64"}, 0); !errors.Is(err, source.ErrNotBuilt) {
		t.Errorf("a platform not built: %v, want ErrNotBuilt", err)
	}
}
