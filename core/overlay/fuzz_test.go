package overlay

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// Canaries the overlay fuzz target plants as secrets: what env() and
// file() give. Neither may be printed.
const (
	envCanary  = "Qz7envCANARY"
	fileCanary = "Qz7fileCANARY"
)

// didYouMean matches HCL's suggestion of a name.
var didYouMean = regexp.MustCompile(` Did you mean "[^"]*"\?`)

// FuzzLoad loads and resolves fuzzed overlay files against the built-in
// plugins. Properties: no panic; every diagnostic with a place names the
// file and a line inside it, and every error has one; the values of env()
// and file() appear neither in the diagnostics as printed nor in what
// `cscs config show` prints; loading again gives the same diagnostics in
// the same order.
func FuzzLoad(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.hcl"))
	if err != nil {
		f.Fatal(err)
	}
	bad, err := filepath.Glob(filepath.Join("testdata", "bad", "*.hcl"))
	if err != nil || len(files)+len(bad) == 0 {
		f.Fatalf("no overlay fixtures: %v", err)
	}
	for _, name := range append(files, bad...) {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`notifier "webhook" "chat" { url = "http://127.0.0.1:9/hook?token=${file("token")}" }` + "\n" +
		`storage "postgres" "pg" { dsn = env("PG_DSN") }` + "\n"))
	dir := filepath.Join(f.TempDir(), "in")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		f.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "token"), []byte(fileCanary+"\n"), 0o600); err != nil {
		f.Fatal(err)
	}
	sources := builtinSources(f)
	opts := Options{Env: func(name string) (string, bool) { return envCanary, true }}
	f.Fuzz(func(t *testing.T, b []byte) {
		// file() must not reach a file outside dir (a device, a FIFO, the
		// machine's own files): skip anything that could name one.
		if bytes.Contains(b, []byte("file")) && bytes.ContainsAny(b, `/\~`) || bytes.Contains(b, []byte("..")) {
			t.Skip()
		}
		path := filepath.Join(dir, "o.hcl")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		ov, diags := Load([]string{path}, opts)
		if ov == nil {
			t.Fatal("Load returned no overlay")
		}
		if !diags.HasErrors() {
			diags = append(diags, ov.Resolve(context.Background(), ResolveOptions{Schemas: webhookCatalog(), Sources: sources})...)
		}
		lines := bytes.Count(b, []byte("\n")) + 1
		for _, d := range diags {
			if d.Subject == nil {
				if d.Severity == hcl.DiagError {
					t.Errorf("error %q names no place", d.Error())
				}
				continue
			}
			if d.Subject.Filename != path || d.Subject.Start.Line < 1 || d.Subject.Start.Line > lines {
				t.Errorf("diagnostic %q points at %s:%d, not inside %s (%d lines)", d.Summary, d.Subject.Filename, d.Subject.Start.Line, path, lines)
			}
		}
		var out bytes.Buffer
		if err := ov.WriteDiagnostics(&out, diags, 100, false); err != nil {
			t.Fatal(err)
		}
		if !diags.HasErrors() {
			ov.Show(&out, "(sensitive)")
		}
		for _, c := range []string{envCanary, fileCanary} {
			if strings.Contains(out.String(), c) && !bytes.Contains(b, []byte(c)) {
				t.Errorf("a secret (%s) is printed:\n%s", c, out.String())
			}
		}
		ov2, diags2 := Load([]string{path}, opts)
		if !diags2.HasErrors() {
			diags2 = append(diags2, ov2.Resolve(context.Background(), ResolveOptions{Schemas: webhookCatalog(), Sources: sources})...)
		}
		if len(diags) != len(diags2) {
			t.Fatalf("a second load gives %d diagnostics, the first %d", len(diags2), len(diags))
		}
		// HCL picks its "Did you mean" among equally close names in map
		// order: that sentence may differ.
		stable := func(d *hcl.Diagnostic) string { return didYouMean.ReplaceAllString(d.Error(), "") }
		for i := range diags {
			if stable(diags[i]) != stable(diags2[i]) || !reflect.DeepEqual(diags[i].Subject, diags2[i].Subject) {
				t.Errorf("a second load differs: %v, then %v", diags[i], diags2[i])
			}
		}
	})
}
