package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cscs-dev/cscs/core/pluginhost"
)

// pluginDescriber starts a plugin binary and reports what it serves.
type pluginDescriber interface {
	// Describe starts the binary at path, pinned to its lowercase hex
	// sha256, asks which kinds it serves and each one's name and version,
	// and stops it. The entries have Kind, Name, Version and Protocol set.
	// name is what messages call the binary.
	Describe(ctx context.Context, path, sha256, name string) ([]pluginhost.Entry, error)
}

// builtinPlugin is one plugin compiled into cscs, as `plugins list` shows it.
type builtinPlugin struct {
	kind, name, version string
	protocol            int
}

// defaultDescribeTimeout bounds starting a plugin and asking what it is.
const defaultDescribeTimeout = 30 * time.Second

func pluginsInstallCommand(ctx context.Context, env *Env) int {
	return installPlugin(ctx, env, func(logLevel string) pluginDescriber { return newLaunchDescriber(env, logLevel) },
		sdkBuiltinServer{}.Builtins(env.Version))
}

func pluginsListCommand(_ context.Context, env *Env) int {
	return listPlugins(env, sdkBuiltinServer{}.Builtins(env.Version))
}

// installPlugin is `cscs plugins install PATH`: it copies PATH into the
// plugins directory under a content-addressed name, starts the copy to
// learn what it serves, and records one manifest entry per kind. When the
// binary does not start or answer, nothing is installed.
func installPlugin(ctx context.Context, env *Env, newDescriber func(logLevel string) pluginDescriber, builtins []builtinPlugin) int {
	var s settings
	fs := newFlagSet(env, "plugins install")
	s.dataFlags(fs, env)
	pluginsDir := s.pluginFlags(fs)
	timeout := fs.Duration("timeout", defaultDescribeTimeout, "deadline for starting the plugin and asking what it serves")
	logLevel := fs.String("log-level", "off", "show the plugin's log (and the plugin host's) at this level on stderr: trace, debug, info, warn, error or off")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: cscs plugins install [flags] PATH\n\nCopies the plugin binary PATH into the plugins directory, pinned by its SHA-256.")
		fs.PrintDefaults()
	}
	src, ok, code := parseOneArg(fs, env, "PATH")
	if !ok {
		return code
	}
	if *timeout <= 0 {
		fmt.Fprintf(env.Stderr, "cscs plugins install: --timeout %s: want a positive duration such as 30s\n", *timeout)
		return ExitBadConfig
	}
	if !validPluginLogLevel(*logLevel) {
		fmt.Fprintf(env.Stderr, "cscs plugins install: --log-level %q: want trace, debug, info, warn, error or off\n", *logLevel)
		return ExitBadConfig
	}
	info, err := os.Stat(src)
	if err != nil {
		fmt.Fprintf(env.Stderr, "cscs plugins install: %v\n", err)
		return ExitBadConfig
	}
	if !info.Mode().IsRegular() {
		fmt.Fprintf(env.Stderr, "cscs plugins install: %s is not a regular file; give the path of a plugin binary\n", src)
		return ExitBadConfig
	}
	dir := pluginsDir()
	m, err := pluginhost.LoadManifest(dir)
	if err != nil {
		fmt.Fprintf(env.Stderr, "cscs plugins install: %v\n", err)
		return ExitSomeFailed
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	installed, err := install(ctx, m, src, newDescriber(*logLevel), time.Now().UTC().Truncate(time.Second))
	if err != nil {
		fmt.Fprintf(env.Stderr, "cscs plugins install: %v\n", err)
		return ExitSomeFailed
	}
	for _, r := range installed {
		fmt.Fprintln(env.Stdout, r.describe(dir))
		for _, b := range builtins {
			if b.kind == r.now.Kind && b.name == r.now.Name {
				fmt.Fprintf(env.Stderr, "note: %s is also built into cscs\n", r.now)
			}
		}
	}
	return ExitOK
}

func validPluginLogLevel(level string) bool {
	switch level {
	case "trace", "debug", "info", "warn", "error", "off":
		return true
	}
	return false
}

// parseOneArg parses fs from env.Args, expecting exactly one positional
// argument named what; flags may come before or after it.
func parseOneArg(fs *flag.FlagSet, env *Env, what string) (arg string, ok bool, code int) {
	if err := fs.Parse(env.Args); err != nil {
		return "", false, parseErrorCode(err)
	}
	if fs.NArg() == 0 {
		fmt.Fprintf(env.Stderr, "%s: missing %s\n", fs.Name(), what)
		return "", false, ExitBadConfig
	}
	arg = fs.Arg(0)
	if err := fs.Parse(fs.Args()[1:]); err != nil {
		return "", false, parseErrorCode(err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(env.Stderr, "%s: unexpected argument %q after %s\n", fs.Name(), fs.Arg(0), what)
		return "", false, ExitBadConfig
	}
	return arg, true, ExitOK
}

// parseErrorCode is the exit code for a flag parsing error: -h is not a
// failure.
func parseErrorCode(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	return ExitBadConfig
}

// installResult is one manifest entry an install wrote.
type installResult struct {
	now    pluginhost.Entry
	before pluginhost.Entry
	had    bool
}

func (r installResult) describe(dir string) string {
	switch {
	case !r.had:
		return fmt.Sprintf("installed %s %s (protocol %d) as %s", r.now, orDash(r.now.Version), r.now.Protocol, r.now.Path(dir))
	case r.before.SHA256 == r.now.SHA256:
		return fmt.Sprintf("reinstalled %s %s (same binary) as %s", r.now, orDash(r.now.Version), r.now.Path(dir))
	default:
		return fmt.Sprintf("updated %s %s → %s (protocol %d) as %s", r.now, orDash(r.before.Version), orDash(r.now.Version), r.now.Protocol, r.now.Path(dir))
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// install stages src in m's directory, describes it with d and, when it
// answers, moves it into place and saves m. On any error the manifest and
// the plugins directory are as they were (an empty plugins directory it
// had to create is removed again).
func install(ctx context.Context, m *pluginhost.Manifest, src string, d pluginDescriber, now time.Time) ([]installResult, error) {
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

func installStaged(ctx context.Context, m *pluginhost.Manifest, src string, d pluginDescriber, now time.Time) ([]installResult, error) {
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
	results := make([]installResult, 0, len(described))
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
		results = append(results, installResult{now: e, before: before, had: had})
	}

	final := filepath.Join(dir, file)
	_, statErr := os.Stat(final)
	existed := statErr == nil
	if err := os.Rename(staged, final); err != nil {
		return nil, fmt.Errorf("move the plugin into place at %s: %w; nothing was installed", final, err)
	}
	for _, r := range results {
		m.Put(r.now)
	}
	if err := m.Save(); err != nil {
		if !existed {
			_ = os.Remove(final)
		}
		return nil, fmt.Errorf("%w; nothing was installed", err)
	}
	// Binaries no entry points to any more are removed; a core running
	// one keeps its open file.
	for _, r := range results {
		if r.had && r.before.File != file && !m.References(r.before.File) {
			_ = os.Remove(r.before.Path(dir))
		}
	}
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
	sum, err = pluginhost.FileSHA256(path)
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

// pluginRow is one line of `plugins list`.
type pluginRow struct {
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
	// Status is "ok", "file missing", "checksum mismatch" or "error".
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
}

// Statuses of a `plugins list` row.
const (
	pluginStatusOK       = "ok"
	pluginStatusMissing  = "file missing"
	pluginStatusMismatch = "checksum mismatch"
	pluginStatusError    = "error"
)

// listPlugins is `cscs plugins list`: built-ins first, then the manifest's
// entries, each external one checked against its pinned checksum. It
// exits 1 when an external plugin's file is missing or changed.
func listPlugins(env *Env, builtins []builtinPlugin) int {
	var s settings
	fs := newFlagSet(env, "plugins list")
	s.dataFlags(fs, env)
	pluginsDir := s.pluginFlags(fs)
	fs.StringVar(&s.output, "output", "text", "format: text or json")
	if ok, code := parse(fs, env); !ok {
		return code
	}
	if s.output != "text" && s.output != "json" {
		fmt.Fprintf(env.Stderr, "cscs plugins list: --output %q: want text or json\n", s.output)
		return ExitBadConfig
	}
	dir := pluginsDir()
	m, err := pluginhost.LoadManifest(dir)
	if err != nil {
		fmt.Fprintf(env.Stderr, "cscs plugins list: %v\n", err)
		return ExitSomeFailed
	}
	rows := pluginRows(m, builtins)
	if s.output == "json" {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(struct {
			PluginsDir string      `json:"plugins_dir"`
			Plugins    []pluginRow `json:"plugins"`
		}{dir, rows}); err != nil {
			fmt.Fprintf(env.Stderr, "cscs plugins list: %v\n", err)
			return ExitSomeFailed
		}
	} else {
		writePluginTable(env.Stdout, rows)
	}
	code := ExitOK
	for _, r := range rows {
		if r.Status != pluginStatusOK {
			fmt.Fprintf(env.Stderr, "cscs plugins list: %s\n", r.Error)
			code = ExitSomeFailed
		}
	}
	return code
}

func pluginRows(m *pluginhost.Manifest, builtins []builtinPlugin) []pluginRow {
	rows := make([]pluginRow, 0, len(builtins)+len(m.Plugins))
	for _, b := range builtins {
		rows = append(rows, pluginRow{Kind: b.kind, Name: b.name, Version: b.version, Protocol: b.protocol, Source: "builtin", Status: pluginStatusOK})
	}
	for _, e := range m.Plugins {
		r := pluginRow{Kind: e.Kind, Name: e.Name, Version: e.Version, Protocol: e.Protocol, SHA256: e.SHA256, Source: e.Path(m.Dir()), Member: e.Member, Status: pluginStatusOK}
		if err := pluginhost.VerifyFile(m.Dir(), e); err != nil {
			r.Error = err.Error()
			switch {
			case errors.Is(err, pluginhost.ErrPluginFileMissing):
				r.Status = pluginStatusMissing
			case errors.Is(err, pluginhost.ErrPluginFileChanged):
				r.Status = pluginStatusMismatch
			default:
				r.Status = pluginStatusError
			}
		}
		rows = append(rows, r)
	}
	return rows
}

func writePluginTable(w io.Writer, rows []pluginRow) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tNAME\tVERSION\tPROTOCOL\tSHA256\tSOURCE\tSTATUS")
	for _, r := range rows {
		sum := "-"
		if len(r.SHA256) >= 12 {
			sum = r.SHA256[:12]
		}
		source := r.Source
		if r.Member != "" {
			source += " (as " + r.Member + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\n", r.Kind, r.Name, orDash(r.Version), r.Protocol, sum, source, r.Status)
	}
	_ = tw.Flush()
}
