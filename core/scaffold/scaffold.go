// Package scaffold writes a new plugin module for `cscs plugins new`: a
// go.mod that requires only the SDK module, a main package serving one
// plugin of the chosen kind, a test with the SDK's test kit, a README and
// a Makefile. What it writes builds and passes its test as it is.
package scaffold

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"text/template"
)

// SDKModule is the module path of the plugin SDK.
const SDKModule = "github.com/cscs-dev/cscs/sdk"

// SDKVersion is the SDK release a new plugin requires.
const SDKVersion = "v0.1.0"

// Kinds returns the kinds of plugin New writes.
func Kinds() []string { return []string{"source", "storage", "notifier"} }

//go:embed templates
var templates embed.FS

// Options say what to write.
type Options struct {
	// Kind is "source", "storage" or "notifier".
	Kind string
	// Name is the plugin's name, lower_snake_case ("disk_usage").
	Name string
	// Module is the new module's path; empty gives
	// example.com/cscs-<kind>-<name>.
	Module string
	// SDKDir, when set, is a local copy of the SDK module the new module
	// uses (a replace directive), for developing against an unreleased
	// SDK; a relative path is taken from the new module's directory.
	SDKDir string
}

// data is what the templates see.
type data struct {
	Kind, Name, Module, SDKModule, SDKVersion, SDKDir string
	// Binary is the file name the Makefile builds ("cscs-source-disk").
	Binary string
}

// New writes the module described by opts into dir, which must not exist
// or be empty, and returns the files written (relative to dir).
func New(dir string, opts Options) ([]string, error) {
	if !slices.Contains(Kinds(), opts.Kind) {
		return nil, fmt.Errorf("unknown plugin kind %q; use one of %s", opts.Kind, strings.Join(Kinds(), ", "))
	}
	if !isSnakeCase(opts.Name) {
		return nil, fmt.Errorf("plugin name %q is not lower_snake_case (a-z, 0-9 and _, starting with a letter), such as %q", opts.Name, "disk_usage")
	}
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("%s is not empty; give a new directory", dir)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	d := data{Kind: opts.Kind, Name: opts.Name, Module: opts.Module, SDKModule: SDKModule, SDKVersion: SDKVersion,
		SDKDir: filepath.ToSlash(opts.SDKDir), Binary: "cscs-" + opts.Kind + "-" + strings.ReplaceAll(opts.Name, "_", "-")}
	if d.Module == "" {
		d.Module = "example.com/" + d.Binary
	}
	files := map[string]string{} // path in dir → template
	for _, sub := range []string{"common", opts.Kind} {
		entries, err := templates.ReadDir(path.Join("templates", sub))
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			files[strings.TrimSuffix(e.Name(), ".tmpl")] = path.Join("templates", sub, e.Name())
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	var written []string
	for _, name := range slices.Sorted(maps.Keys(files)) {
		text, err := templates.ReadFile(files[name])
		if err != nil {
			return written, err
		}
		tmpl, err := template.New(name).Delims("[[", "]]").Parse(string(text))
		if err != nil {
			return written, fmt.Errorf("template %s: %w", name, err)
		}
		var buf bytes.Buffer
		if err := tmpl.Execute(&buf, d); err != nil {
			return written, fmt.Errorf("template %s: %w", name, err)
		}
		mode := os.FileMode(0o644)
		if strings.HasSuffix(name, ".sh") {
			mode = 0o755
		}
		if err := os.WriteFile(filepath.Join(dir, name), buf.Bytes(), mode); err != nil {
			return written, fmt.Errorf("write %s: %w", name, err)
		}
		written = append(written, name)
	}
	return written, nil
}

// isSnakeCase reports whether s is lower_snake_case: a lowercase letter,
// then lowercase letters, digits and underscores.
func isSnakeCase(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}
