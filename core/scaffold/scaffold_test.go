package scaffold

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestNew writes each kind and checks the files and the go.mod; bad
// options are refused with an error that says what to give.
func TestNew(t *testing.T) {
	sdkGoMod, err := os.ReadFile("../../sdk/go.mod")
	if err != nil {
		t.Fatal(err)
	}
	sdkGo := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(sdkGoMod)
	tests := map[string]struct {
		opts      Options
		wantFiles []string
		wantMod   []string
		wantErr   string
	}{
		"source": {opts: Options{Kind: "source", Name: "disk_usage"},
			wantFiles: []string{"Makefile", "README.md", "go.mod", "main.go", "module.sh", "source.go", "source_test.go"},
			wantMod:   []string{"module example.com/cscs-source-disk-usage\n", "require github.com/cscs-dev/cscs/sdk " + SDKVersion}},
		"storage with a local SDK": {opts: Options{Kind: "storage", Name: "archive", Module: "git.example/ops/archive", SDKDir: "/src/cscs/sdk"},
			wantFiles: []string{"Makefile", "README.md", "go.mod", "main.go", "storage.go", "storage_test.go"},
			wantMod:   []string{"module git.example/ops/archive\n", "replace github.com/cscs-dev/cscs/sdk => /src/cscs/sdk"}},
		"notifier": {opts: Options{Kind: "notifier", Name: "pager"},
			wantFiles: []string{"Makefile", "README.md", "go.mod", "main.go", "notifier.go", "notifier_test.go"}},
		"unknown kind": {opts: Options{Kind: "exporter", Name: "x"}, wantErr: "use one of source, storage, notifier"},
		"bad name":     {opts: Options{Kind: "source", Name: "Disk-Usage"}, wantErr: "not lower_snake_case"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "new")
			files, err := New(dir, tc.opts)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one saying %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(files, tc.wantFiles) {
				t.Errorf("files %v, want %v", files, tc.wantFiles)
			}
			mod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range append(tc.wantMod, "go "+string(sdkGo[1])+"\n") {
				if !strings.Contains(string(mod), w) {
					t.Errorf("go.mod lacks %q:\n%s", w, mod)
				}
			}
			if tc.opts.SDKDir == "" && strings.Contains(string(mod), "replace") {
				t.Errorf("go.mod replaces the SDK without --sdk:\n%s", mod)
			}
			if _, err := New(dir, tc.opts); err == nil || !strings.Contains(err.Error(), "not empty") {
				t.Errorf("writing into the same directory again: %v, want a refusal", err)
			}
		})
	}
}
