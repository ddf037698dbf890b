package collect

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/agent/module"
	"github.com/cscs-dev/cscs/agent/protocol"
)

// fakeModule returns fixed metrics, an error, panics, or blocks.
type fakeModule struct {
	name    string
	metrics []protocol.Metric
	err     error
	panics  bool
	// blockUntilCancel makes Collect wait for ctx; ignoreCtx makes it
	// wait far longer than any test's timeout, ignoring ctx.
	blockUntilCancel bool
	ignoreCtx        bool
	gotCfg           *module.Config
}

func (f fakeModule) Name() string { return f.name }

func (f fakeModule) Collect(ctx context.Context, cfg module.Config) ([]protocol.Metric, error) {
	if f.gotCfg != nil {
		*f.gotCfg = cfg
	}
	switch {
	case f.panics:
		panic("kaboom")
	case f.blockUntilCancel:
		<-ctx.Done()
		return nil, ctx.Err()
	case f.ignoreCtx:
		time.Sleep(time.Minute)
	}
	return f.metrics, f.err
}

func metric(name string, v float64) []protocol.Metric {
	return []protocol.Metric{{Name: name, Value: v, Unit: "count"}}
}

func TestRun(t *testing.T) {
	available := []module.Module{
		fakeModule{name: "a", metrics: metric("a.x", 1)},
		fakeModule{name: "b", metrics: metric("b.x", 2)},
		fakeModule{name: "fails", err: errors.New("cannot read /proc/foo")},
		fakeModule{name: "panics", panics: true},
		fakeModule{name: "slow", blockUntilCancel: true},
		fakeModule{name: "stuck", ignoreCtx: true},
		fakeModule{name: "nan", metrics: metric("nan.x", math.NaN())},
		fakeModule{name: "inf", metrics: metric("inf.x", math.Inf(1))},
		fakeModule{name: "hostile", err: errors.New("channel \"\uFFFD\x1b[0m\" " + strings.Repeat("x", 5000))},
		fakeModule{name: "partial", metrics: metric("partial.x", 3), err: module.PartialError{Err: errors.New("/mnt/nfs: timed out")}},
		fakeModule{name: "partial_nan", metrics: metric("partial_nan.x", math.NaN()), err: module.PartialError{Err: errors.New("/mnt/nfs: timed out")}},
	}
	type want struct {
		name    string
		value   float64 // of the only metric, when errPart is empty or partial is set
		errPart string
		partial bool // the metric is kept beside the error
	}
	tests := map[string]struct {
		names []string
		want  []want
	}{
		"request order kept": {
			names: []string{"b", "a"},
			want:  []want{{name: "b", value: 2}, {name: "a", value: 1}},
		},
		"empty means all": {
			names: nil,
			want: []want{
				{name: "a", value: 1}, {name: "b", value: 2},
				{name: "fails", errPart: "cannot read /proc/foo"},
				{name: "panics", errPart: "panicked"},
				{name: "slow", errPart: "did not finish within"},
				{name: "stuck", errPart: "did not finish within"},
				{name: "nan", errPart: "non-finite value for nan.x"},
				{name: "inf", errPart: "non-finite value for inf.x"},
				{name: "hostile", errPart: `channel "??[0m" xxx`},
				{name: "partial", value: 3, errPart: "/mnt/nfs: timed out", partial: true},
				{name: "partial_nan", errPart: "/mnt/nfs: timed out"},
			},
		},
		"unknown module": {
			names: []string{"a", "disk"},
			want:  []want{{name: "a", value: 1}, {name: "disk", errPart: `unknown module "disk"; known: a, b, fails`}},
		},
		"repeated name runs once": {
			names: []string{"a", "b", "a"},
			want:  []want{{name: "a", value: 1}, {name: "b", value: 2}},
		},
		"one failure does not spoil others": {
			names: []string{"fails", "a", "stuck"},
			want: []want{
				{name: "fails", errPart: "cannot read"},
				{name: "a", value: 1},
				{name: "stuck", errPart: "did not finish within 50ms"},
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			got := Run(context.Background(), available, Options{Names: tc.names, Timeout: 50 * time.Millisecond})
			if elapsed := time.Since(start); elapsed > 5*time.Second {
				t.Fatalf("Run took %v; a module ignoring its deadline held up the report", elapsed)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("Run() returned %d results %+v, want %d", len(got), got, len(tc.want))
			}
			for i, w := range tc.want {
				g := got[i]
				if g.Name != w.name {
					t.Errorf("result %d name = %q, want %q", i, g.Name, w.name)
				}
				if w.errPart != "" {
					if !strings.Contains(g.Error, w.errPart) {
						t.Errorf("result %q error = %q, want it to contain %q", g.Name, g.Error, w.errPart)
					}
					if g.Error != protocol.ErrorText(g.Error) {
						t.Errorf("result %q error %q is not text the core accepts", g.Name, g.Error)
					}
					switch {
					case w.partial && (len(g.Metrics) != 1 || g.Metrics[0].Value != w.value):
						t.Errorf("result %q = %+v, want its measured metric kept beside the error", g.Name, g)
					case !w.partial && len(g.Metrics) != 0:
						t.Errorf("result %q has metrics %v beside its error", g.Name, g.Metrics)
					}
					continue
				}
				if g.Error != "" || len(g.Metrics) != 1 || g.Metrics[0].Value != w.value {
					t.Errorf("result %q = %+v, want one metric of value %v", g.Name, g, w.value)
				}
				if g.DurationMS < 0 {
					t.Errorf("result %q duration %v < 0", g.Name, g.DurationMS)
				}
			}
		})
	}
}

func TestRunPassesConfigAndDefaultTimeout(t *testing.T) {
	var got module.Config
	mods := []module.Module{fakeModule{name: "a", metrics: metric("a.x", 1), gotCfg: &got}}
	cfg := module.Config{CPUSample: 123 * time.Millisecond}
	res := Run(context.Background(), mods, Options{Config: cfg})
	if res[0].Error != "" {
		t.Fatalf("unexpected error %q", res[0].Error)
	}
	if got.CPUSample != cfg.CPUSample || got.Settings != nil {
		t.Fatalf("module got config %+v, want %+v", got, cfg)
	}
}

func TestRunParentCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res := Run(ctx, []module.Module{fakeModule{name: "slow", blockUntilCancel: true}}, Options{})
	if res[0].Error == "" || strings.Contains(res[0].Error, "did not finish within") {
		t.Fatalf("error = %q, want the cancellation reported, not a timeout", res[0].Error)
	}
}

// fakeEventModule records what it was given and yields one event and one
// metric.
type fakeEventModule struct {
	name      string
	gotCursor *string
	gotCfg    *module.Config
	next      string
	err       error
}

func (f fakeEventModule) Name() string { return f.name }

func (f fakeEventModule) Collect(context.Context, module.Config) ([]protocol.Metric, error) {
	return metric(f.name+".not_called", 1), nil
}

func (f fakeEventModule) CollectEvents(_ context.Context, cfg module.Config, cursor string) ([]protocol.Event, []protocol.Metric, string, error) {
	*f.gotCursor, *f.gotCfg = cursor, cfg
	if f.err != nil {
		return nil, nil, "", f.err
	}
	return []protocol.Event{{Channel: "auth", RecordID: 42, EventID: 2}}, metric(f.name+".left_out", 3), f.next, nil
}

func TestRunEventModules(t *testing.T) {
	// err is what the module's CollectEvents returns; the result's Error
	// must carry it.
	tests := map[string]struct {
		err         error
		wantEvents  int
		wantMetrics int
		wantCursor  string
	}{
		"events, metrics and cursor": {wantEvents: 1, wantMetrics: 1, wantCursor: "c2"},
		"failing":                    {err: errors.New("cannot read the log")},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var cursor, other string
			var cfg, otherCfg module.Config
			mods := []module.Module{
				fakeEventModule{name: "ev", gotCursor: &cursor, gotCfg: &cfg, next: "c2", err: tc.err},
				fakeEventModule{name: "ev2", gotCursor: &other, gotCfg: &otherCfg, next: "x"},
			}
			res := Run(context.Background(), mods, Options{
				Names:    []string{"ev", "ev2"},
				Config:   module.Config{CPUSample: time.Second},
				Cursors:  map[string]string{"ev": "c1"},
				Settings: map[string]json.RawMessage{"ev": json.RawMessage(`{"file":"/x"}`)},
			})
			if cursor != "c1" || string(cfg.Settings) != `{"file":"/x"}` || cfg.CPUSample != time.Second {
				t.Errorf("module got cursor %q config %+v", cursor, cfg)
			}
			if other != "" || otherCfg.Settings != nil {
				t.Errorf("the other module got cursor %q settings %s, want none", other, otherCfg.Settings)
			}
			r := res[0]
			wantError := ""
			if tc.err != nil {
				wantError = tc.err.Error()
			}
			if len(r.Events) != tc.wantEvents || r.Cursor != tc.wantCursor || len(r.Metrics) != tc.wantMetrics ||
				!strings.Contains(r.Error, wantError) || (wantError == "") != (r.Error == "") {
				t.Errorf("result %+v, want %d events, %d metrics, cursor %q, error %q", r, tc.wantEvents, tc.wantMetrics, tc.wantCursor, wantError)
			}
		})
	}
}
