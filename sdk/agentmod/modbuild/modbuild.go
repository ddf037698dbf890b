// Package modbuild builds a Go agent module (a main package using
// agentmod.Run) for each platform a source serves, small enough to embed
// in the source plugin: static (no cgo), stripped, without file paths, and
// gzip-compressed. The files it writes are what source.EmbeddedModule
// reads. Run it from go:generate through the cscs-modbuild command:
//
//	//go:generate go run github.com/cscs-dev/cscs/sdk/cmd/cscs-modbuild -name users -o modules ./module
//	//go:embed modules
//	var modules embed.FS
package modbuild

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// DefaultPlatforms are the platforms the CSCS agent runs on.
func DefaultPlatforms() []string {
	return []string{"linux/amd64", "linux/arm64", "darwin/amd64", "darwin/arm64", "windows/amd64", "windows/arm64"}
}

// FileName is the name of a module's file for a platform on the host:
// name-os-arch, with .exe for Windows. The compressed file that Build
// writes and EmbeddedModule reads adds ".gz".
func FileName(name, goos, goarch string) string {
	f := name + "-" + goos + "-" + goarch
	if goos == "windows" {
		f += ".exe"
	}
	return f
}

// Options say what to build.
type Options struct {
	// Package is the module's main package, as go build takes it
	// ("./module").
	Package string
	// Name names the files; use the source's name.
	Name string
	// OutDir receives one FileName(…)+".gz" per platform.
	OutDir string
	// Platforms are "os/arch" pairs; empty means DefaultPlatforms.
	Platforms []string
	// Dir is the directory go build runs in (the plugin's module); empty
	// is the working directory.
	Dir string
}

// Built is one file Build wrote.
type Built struct {
	Platform string
	// Path is the compressed file; Size its size and Binary the size of
	// the program it holds.
	Path         string
	Size, Binary int64
}

// Build compiles opts.Package for every platform and writes each program
// gzip-compressed into opts.OutDir.
func Build(ctx context.Context, opts Options) ([]Built, error) {
	if opts.Package == "" || opts.Name == "" || opts.OutDir == "" {
		return nil, fmt.Errorf("modbuild: give the package, the name and the output directory")
	}
	platforms := opts.Platforms
	if len(platforms) == 0 {
		platforms = DefaultPlatforms()
	}
	if err := os.MkdirAll(opts.OutDir, 0o755); err != nil {
		return nil, fmt.Errorf("modbuild: %w", err)
	}
	tmp, err := os.MkdirTemp("", "cscs-modbuild-")
	if err != nil {
		return nil, fmt.Errorf("modbuild: %w", err)
	}
	defer os.RemoveAll(tmp)
	var out []Built
	for _, p := range platforms {
		goos, goarch, ok := strings.Cut(p, "/")
		if !ok || goos == "" || goarch == "" {
			return out, fmt.Errorf("modbuild: platform %q: write os/arch, such as linux/amd64", p)
		}
		bin := filepath.Join(tmp, FileName(opts.Name, goos, goarch))
		cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", "-s -w", "-o", bin, opts.Package)
		cmd.Dir = opts.Dir
		cmd.Env = append(os.Environ(), "GOOS="+goos, "GOARCH="+goarch, "CGO_ENABLED=0")
		if msg, err := cmd.CombinedOutput(); err != nil {
			return out, fmt.Errorf("modbuild: go build %s for %s: %w\n%s", opts.Package, p, err, msg)
		}
		b, err := compress(bin, filepath.Join(opts.OutDir, filepath.Base(bin)+".gz"))
		if err != nil {
			return out, err
		}
		b.Platform = p
		out = append(out, b)
	}
	return out, nil
}

// compress writes src gzip-compressed to dst, without a name or time in
// the header, so the same program gives the same bytes.
func compress(src, dst string) (Built, error) {
	data, err := os.ReadFile(src)
	if err != nil {
		return Built{}, fmt.Errorf("modbuild: %w", err)
	}
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return Built{}, fmt.Errorf("modbuild: %w", err)
	}
	if _, err := zw.Write(data); err != nil {
		return Built{}, fmt.Errorf("modbuild: compress %s: %w", src, err)
	}
	if err := zw.Close(); err != nil {
		return Built{}, fmt.Errorf("modbuild: compress %s: %w", src, err)
	}
	if err := os.WriteFile(dst, buf.Bytes(), 0o644); err != nil {
		return Built{}, fmt.Errorf("modbuild: %w", err)
	}
	return Built{Path: dst, Size: int64(buf.Len()), Binary: int64(len(data))}, nil
}
