package pluginhost

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Describer starts a plugin binary and reports what it serves (Describe
// is the real one).
type Describer interface {
	// Describe starts the binary at path, pinned to its lowercase hex
	// sha256, asks which kinds it serves and each one's name and version,
	// and stops it. The entries have Kind, Name, Version and Protocol set.
	// name is what messages call the binary.
	Describe(ctx context.Context, path, sha256, name string) ([]Entry, error)
}

// Installed is one manifest entry an install wrote.
type Installed struct {
	Now Entry
	// Before is the entry it replaced, when Had.
	Before Entry
	Had    bool
}

// Describe says what the install did, for the operator.
func (r Installed) Describe(dir string) string {
	switch {
	case r.Now.Dev:
		return fmt.Sprintf("installed %s %s (protocol %d) for development: %s runs as it is at each start, not pinned",
			r.Now, orDash(r.Now.Version), r.Now.Protocol, r.Now.Path(dir))
	case !r.Had:
		return fmt.Sprintf("installed %s %s (protocol %d) as %s", r.Now, orDash(r.Now.Version), r.Now.Protocol, r.Now.Path(dir))
	case r.Before.SHA256 == r.Now.SHA256:
		return fmt.Sprintf("reinstalled %s %s (same binary) as %s", r.Now, orDash(r.Now.Version), r.Now.Path(dir))
	default:
		return fmt.Sprintf("updated %s %s → %s (protocol %d) as %s", r.Now, orDash(r.Before.Version), orDash(r.Now.Version), r.Now.Protocol, r.Now.Path(dir))
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Install copies the plugin binary src into m's directory under a
// content-addressed name (pluginFileName), describes the copy with d and,
// when it answers, records one entry per plugin it serves and saves m. On any error the manifest and
// the plugins directory are as they were (an empty plugins directory it
// had to create is removed again).
func Install(ctx context.Context, m *Manifest, src string, d Describer, now time.Time) ([]Installed, error) {
	dir := m.Dir()
	createdDir, err := ensurePluginsDir(dir)
	if err != nil {
		return nil, err
	}
	results, err := installStaged(ctx, m, src, d, now)
	if err != nil && createdDir {
		_ = os.Remove(dir) // only succeeds while empty
	}
	return results, err
}

func ensurePluginsDir(dir string) (created bool, err error) {
	if _, err := os.Stat(dir); err == nil {
		return false, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return false, fmt.Errorf("create the plugins directory: %w", err)
	}
	return true, nil
}

func installStaged(ctx context.Context, m *Manifest, src string, d Describer, now time.Time) ([]Installed, error) {
	dir := m.Dir()
	staged, sum, err := stagePluginCopy(dir, src)
	if err != nil {
		return nil, err
	}
	defer os.Remove(staged) // fails harmlessly once renamed

	described, err := d.Describe(ctx, staged, sum, filepath.Base(src))
	if err != nil {
		return nil, fmt.Errorf("%s did not start as a cscs plugin: %w; nothing was installed", src, err)
	}
	if len(described) == 0 {
		return nil, fmt.Errorf("%s started but serves no plugin kind; nothing was installed", src)
	}
	file := pluginFileName(src, sum)
	results := make([]Installed, 0, len(described))
	seen := make(map[string]bool, len(described))
	for _, e := range described {
		e.File, e.SHA256, e.InstalledAt = file, sum, now
		if err := e.Validate(); err != nil {
			return nil, fmt.Errorf("%s describes itself badly: %w; nothing was installed", src, err)
		}
		if seen[e.String()] {
			return nil, fmt.Errorf("%s serves %s twice; nothing was installed", src, e)
		}
		seen[e.String()] = true
		before, had := m.Find(e.Kind, e.Name)
		results = append(results, Installed{Now: e, Before: before, Had: had})
	}

	final := filepath.Join(dir, file)
	_, statErr := os.Stat(final)
	existed := statErr == nil
	if err := os.Rename(staged, final); err != nil {
		return nil, fmt.Errorf("move the plugin into place at %s: %w; nothing was installed", final, err)
	}
	for _, r := range results {
		m.Put(r.Now)
	}
	if err := m.Save(); err != nil {
		if !existed {
			_ = os.Remove(final)
		}
		return nil, fmt.Errorf("%w; nothing was installed", err)
	}
	// Binaries no entry points to any more are removed; a core running
	// one keeps its open file.
	removeUnused(m, results)
	return results, nil
}

// removeUnused deletes the copied binaries that the entries results
// replaced, when no entry uses them any more; a core running one keeps its
// open file.
func removeUnused(m *Manifest, results []Installed) {
	for _, r := range results {
		if r.Had && !r.Before.Dev && !m.References(r.Before.File) {
			_ = os.Remove(r.Before.Path(m.Dir()))
		}
	}
}

// InstallDev records the plugin binary at src as a development install:
// not copied, run where it is and unpinned, so that each rebuild takes
// effect (Entry.Dev). It describes src with d first; on any error the
// manifest is as it was.
func InstallDev(ctx context.Context, m *Manifest, src string, d Describer, now time.Time) ([]Installed, error) {
	abs, err := filepath.Abs(src)
	if err != nil {
		return nil, err
	}
	sum, err := FileSHA256(abs)
	if err != nil {
		return nil, err
	}
	described, err := d.Describe(ctx, abs, "", filepath.Base(abs))
	if err != nil {
		return nil, fmt.Errorf("%s did not start as a cscs plugin: %w; nothing was installed", src, err)
	}
	if len(described) == 0 {
		return nil, fmt.Errorf("%s started but serves no plugin kind; nothing was installed", src)
	}
	var results []Installed
	for _, e := range described {
		e.File, e.SHA256, e.InstalledAt, e.Dev = abs, sum, now, true
		if err := e.Validate(); err != nil {
			return nil, fmt.Errorf("%s describes itself badly: %w; nothing was installed", src, err)
		}
		before, had := m.Find(e.Kind, e.Name)
		results = append(results, Installed{Now: e, Before: before, Had: had})
	}
	for _, r := range results {
		m.Put(r.Now)
	}
	if err := m.Save(); err != nil {
		return nil, fmt.Errorf("%w; nothing was installed", err)
	}
	removeUnused(m, results)
	return results, nil
}

// stagePluginCopy copies src to a private temporary file in dir, marks it
// executable and returns its path and SHA-256.
func stagePluginCopy(dir, src string) (path, sum string, err error) {
	in, err := os.Open(src)
	if err != nil {
		return "", "", fmt.Errorf("open the plugin: %w", err)
	}
	defer in.Close()
	ext := filepath.Ext(src)
	tmp, err := os.CreateTemp(dir, "."+strings.TrimSuffix(filepath.Base(src), ext)+".install-*"+ext)
	if err != nil {
		return "", "", fmt.Errorf("create a file in the plugins directory: %w", err)
	}
	path = tmp.Name()
	fail := func(err error) (string, string, error) {
		tmp.Close()
		os.Remove(path)
		return "", "", err
	}
	if _, err := io.Copy(tmp, in); err != nil {
		return fail(fmt.Errorf("copy %s into the plugins directory: %w", src, err))
	}
	if err := tmp.Chmod(0o755); err != nil {
		return fail(fmt.Errorf("make the plugin copy %s executable: %w", path, err))
	}
	if err := tmp.Sync(); err != nil {
		return fail(fmt.Errorf("flush the plugin copy %s: %w", path, err))
	}
	if err := tmp.Close(); err != nil {
		os.Remove(path)
		return "", "", fmt.Errorf("close the plugin copy %s: %w", path, err)
	}
	// The checksum is taken from the copy, so what is pinned is exactly
	// what will run.
	sum, err = FileSHA256(path)
	if err != nil {
		os.Remove(path)
		return "", "", fmt.Errorf("checksum the plugin copy: %w", err)
	}
	return path, sum, nil
}

// pluginFileName is the installed binary's name: the source's base name
// with the first 12 hex digits of its SHA-256 before the extension
// ("cscs-jsonl-0123456789ab", "jsonl-0123456789ab.exe"). Different
// contents never overwrite each other, so an update never rewrites a file
// a running core may be executing.
func pluginFileName(src, sum string) string {
	base := filepath.Base(src)
	ext := filepath.Ext(base)
	stem := strings.TrimSuffix(base, ext)
	if stem == "" || strings.HasPrefix(stem, ".") {
		stem = "plugin" + stem
	}
	return stem + "-" + sum[:12] + ext
}

// Uninstall removes the entries named name (of kind, when kind is not
// empty) from the manifest and deletes the binaries no entry uses any
// more. It returns the entries removed; none found is an error that lists
// what is installed. A name installed under several kinds needs kind.
func Uninstall(m *Manifest, kind, name string) ([]Entry, error) {
	var gone, kept []Entry
	for _, e := range m.Plugins {
		if e.Name == name && (kind == "" || e.Kind == kind) {
			gone = append(gone, e)
		} else {
			kept = append(kept, e)
		}
	}
	if len(gone) == 0 {
		installed := make([]string, len(m.Plugins))
		for i, e := range m.Plugins {
			installed[i] = e.String()
		}
		return nil, fmt.Errorf("no plugin named %q is installed in %s (installed: %s)", name, m.dir, orDash(strings.Join(installed, ", ")))
	}
	if kind == "" && len(gone) > 1 {
		kinds := make([]string, len(gone))
		for i, e := range gone {
			kinds[i] = e.Kind
		}
		return nil, fmt.Errorf("%q is installed as a %s; say which with --kind", name, strings.Join(kinds, " and as a "))
	}
	m.Plugins = kept
	if err := m.Save(); err != nil {
		return nil, err
	}
	for _, e := range gone {
		if !e.Dev && !m.References(e.File) { // a development build is the author's
			if err := os.Remove(e.Path(m.dir)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return gone, fmt.Errorf("removed %s from the manifest, but not its binary: %w", e, err)
			}
		}
	}
	return gone, nil
}
