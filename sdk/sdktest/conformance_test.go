package sdktest_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/sdk/agentmod"
	"github.com/cscs-dev/cscs/sdk/notifier"
	"github.com/cscs-dev/cscs/sdk/schema"
	"github.com/cscs-dev/cscs/sdk/sdktest"
	"github.com/cscs-dev/cscs/sdk/source"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// failures runs check against a testing.TB that records failures instead
// of failing t, and returns them.
func failures(t *testing.T, check func(testing.TB)) []string {
	t.Helper()
	rec := &recordingTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		check(rec)
	}()
	<-done
	return rec.failures()
}

type recordingTB struct {
	testing.TB
	mu   sync.Mutex
	msgs []string
}

func (r *recordingTB) Helper() {}

func (r *recordingTB) Errorf(format string, args ...any) { r.add(fmt.Sprintf(format, args...)) }

func (r *recordingTB) Fatalf(format string, args ...any) {
	r.add(fmt.Sprintf(format, args...))
	runtime.Goexit()
}

func (r *recordingTB) add(msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, msg)
}

func (r *recordingTB) failures() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.msgs
}

// checkFailures fails t unless got holds exactly one failure per wanted
// substring (none when want is empty).
func checkFailures(t *testing.T, got []string, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("failures = %q, want %d matching %q", got, len(want), want)
	}
	for i, w := range want {
		if !strings.Contains(got[i], w) {
			t.Errorf("failure %d = %q, want it to mention %q", i, got[i], w)
		}
	}
}

// fakeStore breaks the storage contract in the ways its flags say.
type fakeStore struct {
	name               string
	config             schema.Schema
	describeNeedsOpen  bool
	closeNeedsOpen     bool
	rejectDuplicate    bool
	failSecondClose    bool
	mu                 sync.Mutex
	open, closedBefore bool
	rounds             map[string]bool
}

func (f *fakeStore) Describe(context.Context) (storage.Description, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.describeNeedsOpen && !f.open {
		return storage.Description{}, errors.New("not open")
	}
	return storage.Description{Name: f.name, Config: f.config}, nil
}

func (f *fakeStore) Open(context.Context, []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.open, f.closedBefore, f.rounds = true, false, map[string]bool{}
	return nil
}

func (f *fakeStore) WriteBatch(_ context.Context, b *storage.Batch) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.rejectDuplicate && f.rounds[b.RoundID] {
		return fmt.Errorf("round %s already stored", b.RoundID)
	}
	f.rounds[b.RoundID] = true
	return nil
}

func (f *fakeStore) Close(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case f.closeNeedsOpen && !f.open:
		return errors.New("not open")
	case f.failSecondClose && f.closedBefore:
		return errors.New("already closed")
	}
	f.closedBefore = f.open
	f.open = false
	return nil
}

func TestStorageConformance(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		store *fakeStore
		want  []string
	}{
		"conforming":                {store: &fakeStore{name: "mem"}},
		"name not snake case":       {store: &fakeStore{name: "MemStore"}, want: []string{"lower_snake_case"}},
		"describe needs open":       {store: &fakeStore{name: "mem", describeNeedsOpen: true}, want: []string{"Describe before Open"}},
		"close needs open":          {store: &fakeStore{name: "mem", closeNeedsOpen: true}, want: []string{"Close without Open"}},
		"second write is refused":   {store: &fakeStore{name: "mem", rejectDuplicate: true}, want: []string{"WriteBatch, second"}},
		"second close is refused":   {store: &fakeStore{name: "mem", failSecondClose: true}, want: []string{"Close, second call"}},
		"several problems reported": {store: &fakeStore{name: "Mem", rejectDuplicate: true}, want: []string{"lower_snake_case", "WriteBatch, second"}},
		"config schema declared":    {store: &fakeStore{name: "mem", config: validSchema()}},
		"config schema not valid": {
			store: &fakeStore{name: "mem", config: invalidSchema()},
			want:  []string{`storage "mem" declares a schema in Description.Config that is not valid: configuration schema: attribute 2 ("Dir")`},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := failures(t, func(tb testing.TB) { sdktest.StorageConformance(tb, sdktest.Storage(t, tc.store), nil) })
			checkFailures(t, got, tc.want)
		})
	}
}

// validSchema and invalidSchema are what the conformance checks accept and
// refuse as a declared configuration schema.
func validSchema() schema.Schema {
	return schema.Schema{Attributes: []schema.Attribute{
		{Name: "path", Type: schema.String, Required: true, Description: "the file"},
		{Name: "timeout", Type: schema.Duration},
	}}
}

func invalidSchema() schema.Schema {
	return schema.Schema{Attributes: []schema.Attribute{
		{Name: "path", Type: schema.String},
		{Name: "Dir", Type: schema.String},
	}}
}

// fakeSource returns the description and module a test sets; it accepts
// every platform unless strict.
type fakeSource struct {
	desc   source.Description
	module source.Module
	strict bool
}

func (f *fakeSource) Describe(context.Context) (source.Description, error) { return f.desc, nil }

func (f *fakeSource) Module(_ context.Context, p source.Platform) (source.Module, error) {
	if f.strict && p.OS == "plan9" {
		return source.Module{}, errors.New("unsupported")
	}
	return f.module, nil
}

// fakeDecoder is a fakeSource that decodes.
type fakeDecoder struct{ fakeSource }

func (fakeDecoder) Decode(context.Context, source.Platform, []byte) (source.Decoded, error) {
	return source.Decoded{}, nil
}

func TestSourceConformance(t *testing.T) {
	t.Parallel()
	good := func() source.Description {
		return source.Description{
			Name:       "disk",
			Platforms:  []string{"linux/*", "*/arm64", "windows/amd64"},
			Metrics:    []source.MetricInfo{{Name: "disk.used_percent", Unit: "percent"}, {Name: "disk.free", Unit: "bytes"}},
			AlertTypes: []source.AlertType{{Name: "disk", Metric: "disk.used_percent"}},
		}
	}
	artifact := source.Module{Artifact: &source.Artifact{FileName: "disk.sh", Data: []byte("df -P\n")}}
	with := func(change func(*source.Description)) source.Description {
		d := good()
		change(&d)
		return d
	}
	cases := map[string]struct {
		impl source.Source
		want []string
	}{
		"conforming built in": {impl: &fakeSource{desc: good(), module: source.Module{Builtin: "disk"}, strict: true}},
		"conforming artifact": {impl: &fakeSource{desc: good(), module: artifact, strict: true}},
		"conforming decoder":  {impl: &fakeDecoder{fakeSource{desc: with(func(d *source.Description) { d.Decodes = true }), module: artifact, strict: true}}},
		"every platform":      {impl: &fakeSource{desc: with(func(d *source.Description) { d.Platforms = nil }), module: artifact}},
		"settings declared":   {impl: &fakeSource{desc: with(func(d *source.Description) { d.Settings = validSchema() }), module: artifact, strict: true}},
		"settings not valid": {
			impl: &fakeSource{desc: with(func(d *source.Description) { d.Settings = invalidSchema() }), module: artifact, strict: true},
			want: []string{`source "disk" declares a schema in Description.Settings that is not valid`},
		},
		"metric without prefix": {
			impl: &fakeSource{desc: with(func(d *source.Description) { d.Metrics[1].Name = "free" }), module: artifact, strict: true},
			want: []string{`metric "free" must start with the source name`},
		},
		"unknown unit": {
			impl: &fakeSource{desc: with(func(d *source.Description) { d.Metrics[1].Unit = "GB" }), module: artifact, strict: true},
			want: []string{`unit "GB"`},
		},
		"alert type on undeclared metric": {
			impl: &fakeSource{desc: with(func(d *source.Description) { d.AlertTypes[0].Metric = "disk.inodes" }), module: artifact, strict: true},
			want: []string{`compares metric "disk.inodes"`},
		},
		"platform without arch": {
			impl: &fakeSource{desc: with(func(d *source.Description) { d.Platforms = append(d.Platforms, "darwin") }), module: artifact, strict: true},
			want: []string{`platform "darwin"`},
		},
		"decodes without decoder": {
			impl: &fakeSource{desc: with(func(d *source.Description) { d.Decodes = true }), module: artifact, strict: true},
			want: []string{"does not implement source.Decoder"},
		},
		"builtin and artifact": {
			impl: &fakeSource{desc: good(), module: source.Module{Builtin: "disk", Artifact: artifact.Artifact}, strict: true},
			want: []string{"names both", "names both", "names both"},
		},
		"no module": {
			impl: &fakeSource{desc: good(), strict: true},
			want: []string{"neither", "neither", "neither"},
		},
		"artifact path": {
			impl: &fakeSource{desc: good(), module: source.Module{Artifact: &source.Artifact{FileName: "../disk.sh", Data: []byte("x")}}, strict: true},
			want: []string{"plain base name", "plain base name", "plain base name"},
		},
		"accepts undeclared platform": {
			impl: &fakeSource{desc: good(), module: artifact},
			want: []string{"Module(plan9/mips) succeeded"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := failures(t, func(tb testing.TB) { sdktest.SourceConformance(tb, tc.impl) })
			checkFailures(t, got, tc.want)
		})
	}
}

// fakeNotifier fails where its flags say.
type fakeNotifier struct {
	describeNeedsConfig bool
	config              schema.Schema
	sendErr             error
	mu                  sync.Mutex
	configured          bool
}

func (f *fakeNotifier) Describe(context.Context) (notifier.Description, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.describeNeedsConfig && !f.configured {
		return notifier.Description{}, errors.New("not configured")
	}
	return notifier.Description{Name: "fake", Config: f.config}, nil
}

func (f *fakeNotifier) Configure(context.Context, []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.configured = true
	return nil
}

func (f *fakeNotifier) Send(context.Context, notifier.Notification) error { return f.sendErr }

func TestNotifierConformance(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		impl *fakeNotifier
		want []string
	}{
		"conforming":               {impl: &fakeNotifier{}},
		"describe needs configure": {impl: &fakeNotifier{describeNeedsConfig: true}, want: []string{"Describe before Configure"}},
		"send fails (temporarily)": {impl: &fakeNotifier{sendErr: notifier.Temporary(errors.New("busy"))}, want: []string{"temporary: true", "temporary: true"}},
		"config schema declared":   {impl: &fakeNotifier{config: validSchema()}},
		"config schema not valid": {
			impl: &fakeNotifier{config: schema.Schema{Attributes: []schema.Attribute{{Name: "port", Type: "integer"}}}},
			want: []string{`notifier "fake" declares a schema in Description.Config that is not valid: configuration schema: attribute 1 ("port"): type "integer" is unknown`},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := failures(t, func(tb testing.TB) { sdktest.NotifierConformance(tb, sdktest.Notifier(t, tc.impl), nil) })
			checkFailures(t, got, tc.want)
		})
	}
}

func TestBuildFailureNamesThePackage(t *testing.T) {
	t.Parallel()
	got := failures(t, func(tb testing.TB) { sdktest.Build(tb, "./testdata/doesnotexist") })
	checkFailures(t, got, []string{"testdata/doesnotexist"})
}

// TestRunModule runs script modules as the agent would: a good result is
// returned, and each way a module breaks the protocol fails the test with
// a message that says how.
func TestRunModule(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the modules are shell scripts")
	}
	script := func(body string) source.Module {
		return source.Module{Artifact: &source.Artifact{FileName: "m.sh", Data: []byte(body), Interpreter: []string{"/bin/sh"}, Timeout: 2 * time.Second}}
	}
	good := script(`read -r req; case "$req" in *'"source":"demo"'*'"deadline_ms":2000'*) ;; *) echo "bad request $req" >&2; exit 1;; esac
echo '{"metrics":[{"name":"demo.value","value":7,"unit":"count"}]}'`)
	res := sdktest.RunModule(t, "demo", good, agentmod.Request{})
	if len(res.Metrics) != 1 || res.Metrics[0].Name != "demo.value" || res.Metrics[0].Value != 7 {
		t.Errorf("result %+v", res)
	}
	tests := map[string]struct {
		m    source.Module
		want string
	}{
		"fails":          {script(`echo "no luck" >&2; exit 3`), "no luck"},
		"unknown field":  {script(`echo '{"metrics":[],"extra":1}'`), "unknown field"},
		"foreign metric": {script(`echo '{"metrics":[{"name":"other.value","value":1,"unit":"count"}]}'`), "would refuse"},
		"two objects":    {script(`echo '{}'; echo '{}'`), "after its result"},
		"too slow":       {script(`sleep 5`), "deadline"},
		"builtin":        {source.Module{Builtin: "cpu"}, "no artifact"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := failures(t, func(tb testing.TB) { sdktest.RunModule(tb, "demo", tc.m, agentmod.Request{}) })
			checkFailures(t, got, []string{tc.want})
		})
	}
}
