package pluginhost

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	sdkplugin "github.com/cscs-dev/cscs/sdk/plugin"
)

// ManifestFileName is the manifest's name inside the plugins directory.
const ManifestFileName = "manifest.json"

// ManifestVersion is the format version this code reads and writes.
const ManifestVersion = 1

// The problems VerifyFile reports; test for them with errors.Is.
var (
	// ErrPluginFileMissing: the file an entry names is not in the plugins
	// directory.
	ErrPluginFileMissing = errors.New("file missing")
	// ErrPluginFileChanged: the file's SHA-256 is not the one pinned at
	// install time.
	ErrPluginFileChanged = errors.New("checksum mismatch")
)

// Entry is one installed external plugin: a kind and name served by a
// binary in the plugins directory, pinned by its SHA-256.
type Entry struct {
	// Kind is "source", "storage" or "notifier".
	Kind string `json:"kind"`
	// Name is the plugin's lower_snake_case name as it describes itself.
	Name string `json:"name"`
	// Version is the plugin's own version as it describes itself.
	Version string `json:"version"`
	// Protocol is the plugin protocol version negotiated at install time.
	Protocol int `json:"protocol"`
	// File is the binary's base name inside the plugins directory. One
	// binary may serve several kinds, so several entries may share a file.
	File string `json:"file"`
	// SHA256 is the binary's checksum, lowercase hex.
	SHA256 string `json:"sha256"`
	// Member is the name a binary serving several sources serves this one
	// under (sdkplugin.ServeConfig.Sources): the core names it in each
	// call. Empty for a binary serving one source, and for other kinds.
	Member string `json:"member,omitempty"`
	// InstalledAt is when the entry was written (UTC).
	InstalledAt time.Time `json:"installed_at"`
	// Dev marks a development install (`cscs plugins install --dev`):
	// File is the absolute path of the author's build, not a copy, and it
	// runs unpinned (SHA256 is what it was at install, shown but not
	// enforced), so each rebuild takes effect without reinstalling.
	Dev bool `json:"dev,omitempty"`
}

// Path returns the entry's binary: inside the plugins directory dir, or
// where the author builds it for a development install.
func (e Entry) Path(dir string) string {
	if e.Dev {
		return e.File
	}
	return filepath.Join(dir, e.File)
}

// Spec is how the entry's plugin is launched from the plugins directory
// dir: pinned to its checksum, unless it is a development install.
func (e Entry) Spec(dir string) Spec {
	s := Spec{Kind: e.Kind, Name: e.Name, Path: e.Path(dir), SHA256: e.SHA256}
	if e.Dev {
		s.SHA256 = ""
	}
	return s
}

// String names the entry the way messages do: "storage jsonl".
func (e Entry) String() string { return e.Kind + " " + e.Name }

// Manifest is the list of installed external plugins, kept in
// <plugins dir>/manifest.json.
type Manifest struct {
	Version int     `json:"version"`
	Plugins []Entry `json:"plugins"`

	dir string
}

var (
	manifestNamePattern   = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	manifestSHA256Pattern = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// maxManifestBytes caps how much of a manifest file is read.
const maxManifestBytes = 4 << 20

// LoadManifest reads <dir>/manifest.json. A missing file yields an empty
// manifest for dir; a malformed one an error naming the file and the line
// and column of the problem.
func LoadManifest(dir string) (*Manifest, error) {
	if dir == "" {
		return nil, errors.New("no plugins directory given")
	}
	m := &Manifest{Version: ManifestVersion, dir: dir}
	path := m.path()
	data, err := readManifestFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return m, nil
	}
	if err != nil {
		return nil, err
	}
	var onDisk Manifest
	if err := json.Unmarshal(data, &onDisk); err != nil {
		return nil, manifestSyntaxError(path, data, err)
	}
	if onDisk.Version != ManifestVersion {
		return nil, fmt.Errorf("plugin manifest %s: format version %d, this cscs reads version %d; use the cscs that wrote it, or move the file away and reinstall the plugins", path, onDisk.Version, ManifestVersion)
	}
	if err := validateEntries(onDisk.Plugins); err != nil {
		return nil, fmt.Errorf("plugin manifest %s: %w; fix or remove that entry, or reinstall the plugin with cscs plugins install", path, err)
	}
	m.Plugins = onDisk.Plugins
	m.sort()
	return m, nil
}

func readManifestFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("open the plugin manifest: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxManifestBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read the plugin manifest %s: %w", path, err)
	}
	if len(data) > maxManifestBytes {
		return nil, fmt.Errorf("plugin manifest %s is larger than %d bytes, so it is not one cscs wrote; move it away and reinstall the plugins", path, maxManifestBytes)
	}
	return data, nil
}

// manifestSyntaxError turns a JSON decoding error into one that names the
// file, line and column.
func manifestSyntaxError(path string, data []byte, err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		line, col := manifestLineCol(data, syntax.Offset)
		return fmt.Errorf("plugin manifest %s:%d:%d: malformed JSON: %w; fix it, or move it away and reinstall the plugins", path, line, col, err)
	case errors.As(err, &typ):
		line, col := manifestLineCol(data, typ.Offset)
		return fmt.Errorf("plugin manifest %s:%d:%d: field %q holds a JSON %s, want %s; fix it, or move it away and reinstall the plugins", path, line, col, typ.Field, typ.Value, typ.Type)
	default:
		return fmt.Errorf("plugin manifest %s: %w", path, err)
	}
}

// manifestLineCol converts a byte offset into a 1-based line and column.
// JSON offsets point just past the offending byte, so the column is that
// of the last byte read.
func manifestLineCol(data []byte, offset int64) (line, col int) {
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	if offset < 1 {
		return 1, 1
	}
	before := data[:offset-1]
	line = bytes.Count(before, []byte{'\n'}) + 1
	col = len(before) - bytes.LastIndexByte(before, '\n')
	return line, col
}

func validateEntries(entries []Entry) error {
	seen := make(map[string]bool, len(entries))
	for i, e := range entries {
		if err := e.Validate(); err != nil {
			return fmt.Errorf("entry %d: %w", i+1, err)
		}
		key := e.String()
		if seen[key] {
			return fmt.Errorf("entry %d: %s is listed twice", i+1, key)
		}
		seen[key] = true
	}
	return nil
}

// Validate checks the entry's fields: a known kind, a lower_snake_case
// name, a base file name, a hex SHA-256 and a protocol version.
func (e Entry) Validate() error {
	if !slices.Contains(sdkplugin.Kinds(), e.Kind) {
		return fmt.Errorf("kind %q: want one of %s", e.Kind, strings.Join(sdkplugin.Kinds(), ", "))
	}
	if !manifestNamePattern.MatchString(e.Name) {
		return fmt.Errorf("%s name %q: want lower_snake_case (a-z, 0-9, _; starting with a letter)", e.Kind, e.Name)
	}
	switch {
	case e.Dev && !filepath.IsAbs(e.File):
		return fmt.Errorf("%s: file %q: a development install names the absolute path of the build", e, e.File)
	case !e.Dev && (e.File == "" || e.File == "." || e.File == ".." || strings.ContainsAny(e.File, `/\`) || e.File == ManifestFileName):
		return fmt.Errorf("%s: file %q: want the base name of a binary in the plugins directory", e, e.File)
	}
	if !manifestSHA256Pattern.MatchString(e.SHA256) {
		return fmt.Errorf("%s: sha256 %q: want 64 lowercase hex digits", e, e.SHA256)
	}
	if e.Protocol < 1 {
		return fmt.Errorf("%s: protocol %d: want 1 or more", e, e.Protocol)
	}
	if e.Member != "" && (e.Kind != sdkplugin.KindSource || !manifestNamePattern.MatchString(e.Member)) {
		return fmt.Errorf("%s: member %q: want the lower_snake_case name of one of the binary's sources", e, e.Member)
	}
	return nil
}

// Dir returns the plugins directory the manifest belongs to.
func (m *Manifest) Dir() string { return m.dir }

func (m *Manifest) path() string { return filepath.Join(m.dir, ManifestFileName) }

// Find returns the entry for kind and name.
func (m *Manifest) Find(kind, name string) (Entry, bool) {
	for _, e := range m.Plugins {
		if e.Kind == kind && e.Name == name {
			return e, true
		}
	}
	return Entry{}, false
}

// Put adds e, replacing the entry with the same kind and name.
func (m *Manifest) Put(e Entry) {
	for i, old := range m.Plugins {
		if old.Kind == e.Kind && old.Name == e.Name {
			m.Plugins[i] = e
			return
		}
	}
	m.Plugins = append(m.Plugins, e)
	m.sort()
}

// References reports whether any entry uses the binary file (a base name).
func (m *Manifest) References(file string) bool {
	return slices.ContainsFunc(m.Plugins, func(e Entry) bool { return e.File == file })
}

func (m *Manifest) sort() {
	slices.SortFunc(m.Plugins, func(a, b Entry) int {
		if c := strings.Compare(a.Kind, b.Kind); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
}

// Save writes the manifest to <dir>/manifest.json atomically (a private
// temporary file renamed into place), creating dir (0700) when missing.
// The file is 0600. Invalid entries are refused and nothing is written.
func (m *Manifest) Save() error {
	if m.dir == "" {
		return errors.New("plugin manifest has no directory; load it with LoadManifest")
	}
	if err := validateEntries(m.Plugins); err != nil {
		return fmt.Errorf("plugin manifest %s not saved: %w", m.path(), err)
	}
	out := Manifest{Version: ManifestVersion, Plugins: m.Plugins}
	if out.Plugins == nil {
		out.Plugins = []Entry{}
	}
	data, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return fmt.Errorf("encode the plugin manifest: %w", err)
	}
	data = append(data, '\n')
	if err := os.MkdirAll(m.dir, 0o700); err != nil {
		return fmt.Errorf("create the plugins directory: %w", err)
	}
	tmp, err := os.CreateTemp(m.dir, "."+ManifestFileName+".tmp-*")
	if err != nil {
		return fmt.Errorf("create a temporary plugin manifest in %s: %w", m.dir, err)
	}
	tmpPath := tmp.Name()
	defer os.Remove(tmpPath) // fails harmlessly once renamed
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("restrict the temporary plugin manifest %s: %w", tmpPath, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write the temporary plugin manifest %s: %w", tmpPath, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("flush the temporary plugin manifest %s: %w", tmpPath, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close the temporary plugin manifest %s: %w", tmpPath, err)
	}
	if err := os.Rename(tmpPath, m.path()); err != nil {
		return fmt.Errorf("move the plugin manifest into place at %s: %w", m.path(), err)
	}
	m.Version = ManifestVersion
	return nil
}

// FileSHA256 returns the SHA-256 of the file at path as lowercase hex.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Statuses of an installed plugin's binary (FileStatus).
const (
	StatusOK       = "ok"
	StatusDev      = "dev (not pinned)"
	StatusMissing  = "file missing"
	StatusMismatch = "checksum mismatch"
	StatusError    = "error"
)

// FileStatus checks e's binary in dir (VerifyFile) and names the outcome:
// StatusOK with a nil error, else one of the other statuses and why.
func FileStatus(dir string, e Entry) (string, error) {
	err := VerifyFile(dir, e)
	switch {
	case err == nil && e.Dev:
		return StatusDev, nil
	case err == nil:
		return StatusOK, nil
	case errors.Is(err, ErrPluginFileMissing):
		return StatusMissing, err
	case errors.Is(err, ErrPluginFileChanged):
		return StatusMismatch, err
	}
	return StatusError, err
}

// VerifyFile checks that e's binary is in dir and still has the checksum
// pinned at install time. Its errors match ErrPluginFileMissing or
// ErrPluginFileChanged when those are the problem.
func VerifyFile(dir string, e Entry) error {
	path := e.Path(dir)
	info, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("plugin %s: %w: %s is gone; reinstall with cscs plugins install PATH", e, ErrPluginFileMissing, path)
	}
	if err != nil {
		return fmt.Errorf("plugin %s: inspect %s: %w", e, path, err)
	}
	if !info.Mode().IsRegular() {
		return fmt.Errorf("plugin %s: %s is not a regular file; reinstall with cscs plugins install PATH", e, path)
	}
	if e.Dev {
		return nil // not pinned: a rebuild is expected
	}
	got, err := FileSHA256(path)
	if err != nil {
		return fmt.Errorf("plugin %s: checksum %s: %w", e, path, err)
	}
	if got != e.SHA256 {
		return fmt.Errorf("plugin %s: %w: %s has sha256 %s but %s was installed; if you replaced it on purpose, reinstall with cscs plugins install PATH", e, ErrPluginFileChanged, path, got, e.SHA256)
	}
	return nil
}

// InventorySchema is the name and version of Inventory's JSON format
// (docs/json.md, cscs plugins list).
const InventorySchema = "cscs/plugins-list/v1"

// Inventory is the plugins a core has: its built-ins, then the installed
// ones, each checked against its pinned checksum.
type Inventory struct {
	Schema     string         `json:"schema"`
	PluginsDir string         `json:"plugins_dir"`
	Plugins    []InventoryRow `json:"plugins"`
}

// InventoryRow is one plugin of an Inventory.
type InventoryRow struct {
	Kind     string `json:"kind"`
	Name     string `json:"name"`
	Version  string `json:"version"`
	Protocol int    `json:"protocol"`
	SHA256   string `json:"sha256,omitempty"`
	// Source is "builtin" or the binary's path.
	Source string `json:"source"`
	// Member is the name a binary serving several sources serves this one
	// under.
	Member string `json:"member,omitempty"`
	// Status is StatusOK, StatusDev, StatusMissing, StatusMismatch or
	// StatusError.
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
}

// Inventory lists builtins, then m's entries with FileStatus.
func (m *Manifest) Inventory(builtins []InventoryRow) Inventory {
	inv := Inventory{Schema: InventorySchema, PluginsDir: m.Dir(), Plugins: append([]InventoryRow{}, builtins...)}
	for _, e := range m.Plugins {
		r := InventoryRow{Kind: e.Kind, Name: e.Name, Version: e.Version, Protocol: e.Protocol, SHA256: e.SHA256, Source: e.Path(m.Dir()), Member: e.Member}
		var err error
		if r.Status, err = FileStatus(m.Dir(), e); err != nil {
			r.Error = err.Error()
		}
		inv.Plugins = append(inv.Plugins, r)
	}
	return inv
}
