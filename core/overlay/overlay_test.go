package overlay

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/cscs-dev/cscs/plugins"
	"github.com/cscs-dev/cscs/sdk/schema"
	"github.com/cscs-dev/cscs/sdk/source"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// catalog answers schemas from the built-in plugins, plus extra.
type catalog struct{ extra map[string]schema.Schema }

func (c catalog) Schema(ctx context.Context, kind, name string) (schema.Schema, error) {
	if s, ok := c.extra[kind+"/"+name]; ok {
		return s, nil
	}
	b, ok := plugins.Lookup(kind, name)
	if !ok {
		return schema.Schema{}, fmt.Errorf("no %s plugin %q is built in, declared or installed", kind, name)
	}
	return PluginSchema(ctx, b.New("test"))
}

func webhookCatalog() catalog {
	return catalog{extra: map[string]schema.Schema{"notifier/webhook": {Attributes: []schema.Attribute{
		{Name: "url", Type: schema.String, Required: true},
		{Name: "timeout", Type: schema.Duration},
	}}}}
}

// builtinSources describes the built-in sources.
func builtinSources(t testing.TB) []source.Description {
	t.Helper()
	var out []source.Description
	for _, b := range plugins.Builtins() {
		if s, ok := b.New("test").(source.Source); ok {
			d, err := s.Describe(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, d)
		}
	}
	return out
}

func load(t *testing.T, env map[string]string, files ...string) (*Overlay, hcl.Diagnostics) {
	t.Helper()
	ov, diags := Load(files, Options{Env: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	if !diags.HasErrors() {
		diags = append(diags, ov.Resolve(context.Background(), ResolveOptions{Schemas: webhookCatalog(), Sources: builtinSources(t)})...)
	}
	return ov, diags
}

func TestLoadFull(t *testing.T) {
	ov, diags := load(t, nil, "testdata/full.hcl")
	if diags.HasErrors() {
		t.Fatalf("diagnostics: %v", diags)
	}
	if !ov.Round.Concurrency.Set || ov.Round.Concurrency.Value != 32 || ov.Round.MaxHandshakes.Value != 16 || ov.Round.MaxUploads.Value != 8 || ov.Round.CPUSample.Value != 200*time.Millisecond ||
		ov.Round.Interval.Value != 5*time.Minute || ov.Round.HostTimeout.Set {
		t.Errorf("round = %+v", ov.Round)
	}
	if len(ov.Storages) != 2 || ov.Storages[1].Plugin != "postgres" || ov.Storages[1].Name != "warehouse" {
		t.Fatalf("storages = %+v", ov.Storages)
	}
	raw, err := ov.Storages[1].JSON()
	if err != nil {
		t.Fatal(err)
	}
	var pg map[string]any
	if err := json.Unmarshal(raw, &pg); err != nil || pg["dsn"] != "postgres://cscs@127.0.0.1:5432/test" {
		t.Errorf("warehouse config = %s (%v)", raw, err)
	}
	if !ov.Storages[1].Sensitive["dsn"] {
		t.Errorf("the dsn comes from a sensitive variable but is not marked sensitive: %v", ov.Storages[1].Sensitive)
	}
	if len(ov.Plugins) != 1 || !filepath.IsAbs(ov.Plugins[0].Path) || ov.Plugins[0].Kind != "notifier" {
		t.Errorf("plugins = %+v", ov.Plugins)
	}
	dc := ov.Groups[0]
	if dc.Name != "dc" || !slices.Equal(dc.Sources, []string{"cpu", "memory", "eventlog"}) || len(dc.Modules) != 1 {
		t.Fatalf("group dc = %+v", dc)
	}
	mod, err := dc.Modules[0].JSON()
	if err != nil || string(mod) != `{"channel":"Security","event_ids":[4624,4625,4740]}` {
		t.Errorf("eventlog settings = %s (%v)", mod, err)
	}
	al := dc.Alerts[0]
	if al.For != 3 || al.Severity != "critical" || al.Repeat != time.Hour || al.Text != "memory.used_percent > local.busy && swap.used_percent > 50" {
		t.Errorf("alert = %+v", al)
	}
	if al.FirstMetric() != "memory.used_percent" {
		t.Errorf("FirstMetric = %q", al.FirstMetric())
	}
}

func TestGroupsAndPolicy(t *testing.T) {
	ov, diags := load(t, nil, "testdata/full.hcl")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	tests := []struct {
		addr, os string
		want     []string
	}{
		{"10.0.0.7", "windows", []string{"dc"}},
		{"10.0.1.5", "windows", []string{"dc"}},
		{"10.0.1.6", "windows", nil},
		{"dc-east.example", "windows", []string{"dc"}},
		{"DC-WEST", "windows", []string{"dc"}},
		{"10.0.0.7", "linux", nil},
		{"10.0.0.7", "", nil},
		{"web-1", "linux", []string{"web"}},
		{"web-1", "", []string{"web"}},
	}
	for _, tt := range tests {
		got := GroupNames(ov.GroupsOf(tt.addr, tt.os))
		if !slices.Equal(got, tt.want) && !(len(got) == 0 && len(tt.want) == 0) {
			t.Errorf("GroupsOf(%q, %q) = %v, want %v", tt.addr, tt.os, got, tt.want)
		}
	}
	dc := ov.GroupsOf("10.0.0.7", "windows")
	if got := SourcesFor(dc); !slices.Equal(got, []string{"cpu", "memory", "eventlog"}) {
		t.Errorf("SourcesFor(dc) = %v", got)
	}
	if got := SourcesFor(ov.GroupsOf("web-1", "linux")); got != nil {
		t.Errorf("a group without sources restricts them: %v", got)
	}
	if d, ok := IntervalFor(ov.GroupsOf("web-1", "linux")); !ok || d != 30*time.Second {
		t.Errorf("IntervalFor(web) = %s, %v; want the group's 30s", d, ok)
	}
	if d, ok := IntervalFor(dc); ok {
		t.Errorf("IntervalFor(dc) = %s, but the group sets none", d)
	}
	if got := len(ov.AlertsFor(dc)); got != 2 {
		t.Errorf("AlertsFor(dc) has %d rules, want the top-level one and the group's", got)
	}
}

func TestRoute(t *testing.T) {
	ov, diags := load(t, nil, "testdata/full.hcl")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	tests := []struct {
		n    Notice
		want []string
	}{
		{Notice{Kind: "alert", Severity: "critical", Groups: []string{"dc"}, Host: "10.0.0.7"}, []string{"chat", "email"}},
		{Notice{Kind: "alert", Severity: "warning", Groups: []string{"dc"}, Host: "10.0.0.7"}, []string{"email"}},
		{Notice{Kind: "alert", Severity: "critical", Groups: []string{"web"}, Host: "web-1"}, []string{"email"}},
		{Notice{Kind: "eventlog", Severity: "info", Host: "10.9.3.4"}, []string{"chat"}},
		{Notice{Kind: "eventlog", Severity: "info", Host: "LAB-7"}, []string{"chat"}},
		{Notice{Kind: "alert", Severity: "warning", Host: "10.9.3.4"}, []string{"email"}},
		{Notice{Kind: "eventlog", Severity: "info", Host: "10.8.3.4"}, []string{"email"}},
	}
	for _, tt := range tests {
		if got := ov.Route(tt.n); !slices.Equal(got, tt.want) {
			t.Errorf("Route(%+v) = %v, want %v", tt.n, got, tt.want)
		}
	}
}

func TestHolds(t *testing.T) {
	ov, diags := load(t, nil, "testdata/full.hcl")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	al := ov.Groups[0].Alerts[0] // memory > local.busy (90) && swap > 50
	tests := []struct {
		samples    map[string]float64
		holds, ok  bool
		nameOfCase string
	}{
		{map[string]float64{"memory.used_percent": 95, "swap.used_percent": 60}, true, true, "both high"},
		{map[string]float64{"memory.used_percent": 95, "swap.used_percent": 10}, false, true, "swap low"},
		{map[string]float64{"memory.used_percent": 95}, false, false, "swap missing"},
		{map[string]float64{"memory.used_percent": 10}, false, false, "swap missing, memory low: && must not decide from one side"},
		{map[string]float64{}, false, false, "nothing"},
	}
	for _, tt := range tests {
		holds, ok := al.Holds(Facts{IP: "10.0.0.7", OS: "windows"}, tt.samples)
		if holds != tt.holds || ok != tt.ok {
			t.Errorf("%s: Holds = %v, %v; want %v, %v", tt.nameOfCase, holds, ok, tt.holds, tt.ok)
		}
	}
}

func TestPrecedence(t *testing.T) {
	ov, diags := load(t, nil, "testdata/full.hcl", "testdata/override.hcl")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if ov.Round.Concurrency.Value != 8 || ov.Round.Concurrency.Range.Filename != "testdata/override.hcl" {
		t.Errorf("the later file's concurrency must win: %+v", ov.Round.Concurrency)
	}
	if ov.Round.ConnectTimeout.Value != 3*time.Second {
		t.Errorf("a setting the later file leaves alone must keep the earlier value: %v", ov.Round.ConnectTimeout.Value)
	}
}

func TestEnvAndFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "token"), []byte("s3cret-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	src := `
notifier "webhook" "chat" {
  url = "http://127.0.0.1:9/hook?token=${file("token")}"
}
storage "postgres" "pg" {
  dsn = env("PG_DSN")
}
`
	path := filepath.Join(dir, "o.hcl")
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	ov, diags := load(t, map[string]string{"PG_DSN": "postgres://u:pw@h/db"}, path)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	hook, _ := ov.Notifiers[0].JSON()
	if !strings.Contains(string(hook), "token=s3cret-token\"") {
		t.Errorf("file() content (one trailing newline dropped) not in %s", hook)
	}
	if !ov.Notifiers[0].Sensitive["url"] || !ov.Storages[0].Sensitive["dsn"] {
		t.Errorf("values from file() and env() must be sensitive: %v %v", ov.Notifiers[0].Sensitive, ov.Storages[0].Sensitive)
	}
	_, diags = load(t, nil, path)
	if !diags.HasErrors() || !strings.Contains(diags.Error(), "PG_DSN is not set") {
		t.Errorf("a missing environment variable must be an error naming it: %v", diags)
	}
}

// TestDiagnostics checks the diagnostics of bad files against golden
// files in testdata/bad/*.golden (go test -update rewrites them).
func TestDiagnostics(t *testing.T) {
	files, err := filepath.Glob("testdata/bad/*.hcl")
	if err != nil || len(files) == 0 {
		t.Fatalf("no bad fixtures: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			ov, diags := load(t, nil, f)
			if !diags.HasErrors() {
				t.Fatalf("%s loads without errors", f)
			}
			var buf bytes.Buffer
			if err := ov.WriteDiagnostics(&buf, diags, 100, false); err != nil {
				t.Fatal(err)
			}
			golden := strings.TrimSuffix(f, ".hcl") + ".golden"
			if *update {
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if buf.String() != string(want) {
				t.Errorf("diagnostics differ from %s:\n%s", golden, buf.String())
			}
		})
	}
}

// TestDownAfter: a host's down_after is the last group, in declaration
// order, that sets it; 0 (off) counts as set; none: not set.
func TestDownAfter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "down.hcl")
	text := `
group "all" {
  down_after = 5
}
group "web" {
  names = ["web-*"]
}
group "edge" {
  ips        = ["10.0.9.0/24"]
  down_after = 0
}
group "linux" {
  os         = ["linux"]
  down_after = 2
}
group "db" {
  names = ["db-*"]
}
`
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	ov, diags := load(t, nil, path)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	tests := []struct {
		addr, os string
		want     int
		set      bool
	}{
		{"web-1", "", 5, true},         // all, web
		{"10.0.9.4", "", 0, true},      // all, edge: off
		{"10.0.9.4", "linux", 2, true}, // linux is declared after edge
		{"db-1", "windows", 5, true},
	}
	for _, tt := range tests {
		got, set := DownAfter(ov.GroupsOf(tt.addr, tt.os))
		if got != tt.want || set != tt.set {
			t.Errorf("DownAfter(groups of %s/%s) = %d, %v; want %d, %v", tt.addr, tt.os, got, set, tt.want, tt.set)
		}
	}
	if _, set := DownAfter(nil); set {
		t.Error("no groups: down_after set")
	}
	var shown bytes.Buffer
	ov.Show(&shown, "********")
	if !strings.Contains(shown.String(), "down_after = 2") {
		t.Errorf("Show leaves down_after out:\n%s", shown.String())
	}
}

// TestFileFunctionBounded: file() of a file without an end or over the
// bound is an error, not a read that never returns.
func TestFileFunctionBounded(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, bytes.Repeat([]byte("x"), maxSecretFile+1), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		path    string
		wantErr string
	}{
		"over the bound":          {path: big, wantErr: "file() reads at most"},
		"a device without an end": {path: "/dev/zero", wantErr: "file() reads at most"},
		"missing":                 {path: "nope", wantErr: "cannot read"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := os.Stat(tc.path); tc.path == "/dev/zero" && err != nil {
				t.Skip("no /dev/zero here")
			}
			_, err := readSecretFile(dir, tc.path)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("readSecretFile(%q) error %v, want %q", tc.path, err, tc.wantErr)
			}
		})
	}
}
