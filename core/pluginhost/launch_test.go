package pluginhost

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/cscs-dev/cscs/core/internal/syncbuf"
	sdkplugin "github.com/cscs-dev/cscs/sdk/plugin"
	"github.com/cscs-dev/cscs/sdk/sdktest"
	"github.com/cscs-dev/cscs/sdk/source"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// fixtures are the test plugin binaries, built once per test.
type fixtures struct {
	storage, garbage, protocol2 string
}

func buildFixtures(t testing.TB) fixtures {
	t.Helper()
	return fixtures{
		storage:   sdktest.Build(t, "./testdata/launch/storage"),
		garbage:   sdktest.Build(t, "./testdata/launch/garbage"),
		protocol2: sdktest.Build(t, "./testdata/launch/protocol2"),
	}
}

func fixtureSpec(path string, args ...string) Spec {
	return Spec{Kind: sdkplugin.KindStorage, Name: "fixture", Path: path, Args: args}
}

// launch starts spec and kills it when the test ends.
func launch(t *testing.T, spec Spec, opts Options) *Plugin {
	t.Helper()
	p, err := Launch(t.Context(), spec, opts)
	if err != nil {
		t.Fatalf("Launch: %v", err)
	}
	t.Cleanup(p.Kill)
	return p
}

func storageOf(t *testing.T, p *Plugin) storage.Storage {
	t.Helper()
	s, err := p.Storage()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// checkError fails t unless err is want, names the plugin first, and
// mentions every one of texts.
func checkError(t *testing.T, err, want error, texts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %v", want)
	}
	t.Logf("error: %v", err)
	if want != nil && !errors.Is(err, want) {
		t.Errorf("error %q is not %v", err, want)
	}
	if !strings.HasPrefix(err.Error(), "storage plugin fixture: ") {
		t.Errorf("error %q does not start by naming the plugin", err)
	}
	for _, text := range texts {
		if !strings.Contains(err.Error(), text) {
			t.Errorf("error %q does not mention %q", err, text)
		}
	}
}

func TestLaunch(t *testing.T) {
	t.Parallel()
	bin := buildFixtures(t)
	goodSum, err := FileSHA256(bin.storage)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("launch failures", func(t *testing.T) {
		t.Parallel()
		cases := map[string]struct {
			spec  Spec
			opts  Options
			want  error
			texts []string
		}{
			"binary missing": {
				spec:  fixtureSpec(filepath.Join(t.TempDir(), "cscs-storage-gone")),
				want:  ErrBinaryNotFound,
				texts: []string{"cscs-storage-gone does not exist", "cscs plugins install"},
			},
			"checksum mismatch": {
				spec:  Spec{Kind: "storage", Name: "fixture", Path: bin.storage, SHA256: strings.Repeat("ab", 32)},
				want:  ErrChecksumMismatch,
				texts: []string{"has sha256 " + goodSum, strings.Repeat("ab", 32) + " was pinned", "reinstall it with `cscs plugins install`"},
			},
			"pinned checksum not hex": {
				spec:  Spec{Kind: "storage", Name: "fixture", Path: bin.storage, SHA256: "not-a-sum"},
				texts: []string{`"not-a-sum" is not a SHA-256`},
			},
			"other protocol version": {
				spec:  fixtureSpec(bin.protocol2),
				want:  ErrProtocolMismatch,
				texts: []string{"speaks plugin protocol 2, this cscs speaks 1", "upgrade cscs"},
			},
			"garbage instead of the handshake": {
				spec:  fixtureSpec(bin.garbage),
				want:  ErrNotAPlugin,
				texts: []string{`printed "hello, I am not a plugin" on its standard output`},
			},
			"exits during start": {
				spec:  fixtureSpec(bin.storage, "-start=exit"),
				want:  ErrPluginExited,
				texts: []string{"during start", "exit status 3", "cannot read /etc/fixture.conf: permission denied"},
			},
			"no handshake in time": {
				spec:  fixtureSpec(bin.storage, "-start=sleep"),
				opts:  Options{StartTimeout: 300 * time.Millisecond},
				want:  ErrStartTimeout,
				texts: []string{"no handshake within 300ms"},
			},
			"kind not served": {
				spec:  Spec{Kind: "notifier", Name: "fixture", Path: bin.storage},
				want:  ErrKindNotServed,
				texts: []string{"serves storage, not notifier", "check the plugin's kind"},
			},
			"unknown kind": {
				spec:  Spec{Kind: "sink", Name: "fixture", Path: bin.storage},
				texts: []string{`unknown plugin kind "sink"`},
			},
		}
		for name, tc := range cases {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				p, err := Launch(t.Context(), tc.spec, tc.opts)
				if err == nil {
					p.Kill()
					t.Fatal("Launch succeeded, want an error")
				}
				if tc.spec.Kind == "storage" {
					checkError(t, err, tc.want, tc.texts...)
					return
				}
				if tc.want != nil && !errors.Is(err, tc.want) {
					t.Errorf("error %q is not %v", err, tc.want)
				}
				for _, text := range tc.texts {
					if !strings.Contains(err.Error(), text) {
						t.Errorf("error %q does not mention %q", err, text)
					}
				}
			})
		}
	})

	t.Run("good plugin with its checksum passes conformance", func(t *testing.T) {
		t.Parallel()
		spec := fixtureSpec(bin.storage)
		spec.SHA256 = goodSum
		p := launch(t, spec, Options{})
		if got := p.Kinds(); !slices.Equal(got, []string{"storage"}) {
			t.Errorf("Kinds = %v, want [storage]", got)
		}
		if got := p.SourceNames(); len(got) != 0 {
			t.Errorf("SourceNames = %v, want none", got)
		}
		if p.Protocol() != sdkplugin.ProtocolVersion {
			t.Errorf("Protocol = %d, want %d", p.Protocol(), sdkplugin.ProtocolVersion)
		}
		sdktest.StorageConformance(t, storageOf(t, p), nil)
		if _, err := p.Notifier(); !errors.Is(err, ErrKindNotServed) {
			t.Errorf("Notifier() error = %v, want ErrKindNotServed", err)
		}
	})

	t.Run("plugin errors keep their message", func(t *testing.T) {
		t.Parallel()
		p := launch(t, fixtureSpec(bin.storage, "-write=error"), Options{})
		err := storageOf(t, p).WriteBatch(t.Context(), &storage.Batch{RoundID: "r1"})
		checkError(t, err, nil, "storage plugin fixture: write batch: writing round r1: disk full")
		if errors.Is(err, ErrPluginExited) || errors.Is(err, ErrPluginHung) || p.Exited() {
			t.Errorf("a plugin's own error was taken for a crash: %v", err)
		}
	})

	t.Run("crash during a call", func(t *testing.T) {
		t.Parallel()
		p := launch(t, fixtureSpec(bin.storage, "-write=panic"), Options{})
		s := storageOf(t, p)
		err := s.WriteBatch(t.Context(), &storage.Batch{RoundID: "r7"})
		// One line: the plugin, the call, the panic and whom to tell;
		// not the stack.
		checkError(t, err, ErrPluginExited, "storage plugin fixture: write batch", `crashed with "panic: fixture store: write batch r7 failed on purpose"`, "report it to the plugin's author")
		if strings.Contains(err.Error(), "\n") || strings.Contains(err.Error(), "goroutine") {
			t.Errorf("the crash is not one line without the stack: %q", err)
		}
		_, err = s.Describe(t.Context())
		checkError(t, err, ErrPluginExited, "describe", "crashed with")
	})

	t.Run("hang past the call timeout kills the plugin", func(t *testing.T) {
		t.Parallel()
		p := launch(t, fixtureSpec(bin.storage, "-write=hang"), Options{CallTimeout: 500 * time.Millisecond})
		s := storageOf(t, p)
		// A second call in flight when the first one hangs learns why the
		// plugin went away.
		inFlight := make(chan error, 1)
		go func() {
			time.Sleep(100 * time.Millisecond)
			inFlight <- s.WriteBatch(context.Background(), &storage.Batch{RoundID: "r2"})
		}()
		start := time.Now()
		err := s.WriteBatch(context.Background(), &storage.Batch{RoundID: "r1"})
		checkError(t, err, ErrPluginHung, "write batch got no answer within 500ms", "killed")
		checkError(t, <-inFlight, ErrPluginHung, "write batch got no answer")
		if elapsed := time.Since(start); elapsed > 10*time.Second {
			t.Errorf("the hung call returned after %s", elapsed)
		}
		if !p.Exited() {
			t.Error("the hung plugin is still running")
		}
		start = time.Now()
		_, err = s.Describe(t.Context())
		checkError(t, err, ErrPluginHung, "describe")
		if elapsed := time.Since(start); elapsed > 5*time.Second {
			t.Errorf("a call on the killed plugin took %s; it should fail at once, not wait out the 500ms call deadline and more", elapsed)
		}
	})

	t.Run("the caller's own deadline does not kill the plugin", func(t *testing.T) {
		t.Parallel()
		p := launch(t, fixtureSpec(bin.storage, "-write=hang"), Options{})
		s := storageOf(t, p)
		ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
		defer cancel()
		err := s.WriteBatch(ctx, &storage.Batch{RoundID: "r1"})
		checkError(t, err, context.DeadlineExceeded, "write batch")
		if errors.Is(err, ErrPluginHung) || p.Exited() {
			t.Errorf("the plugin was killed for the caller's deadline: %v", err)
		}
		if _, err := s.Describe(t.Context()); err != nil {
			t.Errorf("Describe after the caller's deadline: %v", err)
		}
	})

	t.Run("plugin log is mirrored under the plugin's name", func(t *testing.T) {
		t.Parallel()
		var log syncbuf.Buffer
		logger := hclog.New(&hclog.LoggerOptions{Output: &log, Level: hclog.Info})
		p := launch(t, fixtureSpec(bin.storage), Options{Logger: logger})
		if err := storageOf(t, p).Open(t.Context(), []byte(`{"password":"s3cret"}`)); err != nil {
			t.Fatal(err)
		}
		p.Kill() // flushes the plugin's stderr into the log
		got := log.String()
		for _, want := range []string{"plugin.storage.fixture", "opening the fixture store", "config_bytes=21"} {
			if !strings.Contains(got, want) {
				t.Errorf("host log lacks %q:\n%s", want, got)
			}
		}
		if strings.Contains(got, "s3cret") {
			t.Errorf("host log shows the plugin's config:\n%s", got)
		}
	})

	t.Run("kill is idempotent and later calls fail", func(t *testing.T) {
		t.Parallel()
		p := launch(t, fixtureSpec(bin.storage), Options{})
		s := storageOf(t, p)
		p.Kill()
		p.Kill()
		_, err := s.Describe(t.Context())
		checkError(t, err, ErrPluginExited, "stopped by cscs")
	})
}

func TestBuiltinSpec(t *testing.T) {
	t.Parallel()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		kind, name string
		wantErr    string
	}{
		"storage":      {kind: "storage", name: "sqlite"},
		"notifier":     {kind: "notifier", name: "smtp"},
		"unknown kind": {kind: "sink", name: "x", wantErr: `unknown kind "sink"`},
		"no name":      {kind: "source", wantErr: "no name"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			spec, err := BuiltinSpec(tc.kind, tc.name)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want one mentioning %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := Spec{Kind: tc.kind, Name: tc.name, Path: exe, Args: []string{"plugin", "serve", tc.kind, tc.name}, PipeTLS: true}
			if fmt.Sprintf("%#v", spec) != fmt.Sprintf("%#v", want) {
				t.Errorf("BuiltinSpec = %#v, want %#v", spec, want)
			}
		})
	}
}

func TestSpecFormattingHidesConfig(t *testing.T) {
	t.Parallel()
	spec := Spec{Kind: "notifier", Name: "smtp", Path: "/usr/bin/cscs", Config: []byte(`{"password":"hunter2"}`)}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		got := fmt.Sprintf(verb, spec)
		if strings.Contains(got, "hunter2") {
			t.Errorf("%s shows the config: %s", verb, got)
		}
		if !strings.Contains(got, "smtp") {
			t.Errorf("%s does not name the plugin: %s", verb, got)
		}
	}
	if got, want := spec.String(), "notifier plugin smtp"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got, want := (Spec{Path: "/opt/p"}).String(), "plugin /opt/p"; got != want {
		t.Errorf("String() of an unnamed spec = %q, want %q", got, want)
	}
}

func TestStderrTail(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 2*maxStderrLine)
	cases := map[string]struct {
		writes []string
		want   string
	}{
		"last line":           {writes: []string{"one\n", "two\n"}, want: "two"},
		"line split in parts": {writes: []string{"par", "tial li", "ne\n"}, want: "partial line"},
		"panic wins":          {writes: []string{"panic: boom\n\ngoroutine 1 [running]:\nmain.main()\n\t/src/main.go:9 +0x1d\n"}, want: "panic: boom"},
		"hclog json":          {writes: []string{`{"@level":"error","@message":"write failed","@module":"fixture","error":"disk full"}` + "\n"}, want: "write failed: disk full"},
		"not hclog json":      {writes: []string{"{not json\n"}, want: "{not json"},
		"long line truncated": {writes: []string{long + "\n"}, want: long[:maxStderrLine] + "…"},
		"unfinished line":     {writes: []string{"done\n", "no newline yet"}, want: "done"},
		"blank lines skipped": {writes: []string{"real\n", "\n  \n"}, want: "real"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var tail stderrTail
			for _, w := range tc.writes {
				if n, err := tail.Write([]byte(w)); n != len(w) || err != nil {
					t.Fatalf("Write = %d, %v", n, err)
				}
			}
			if got := tail.summary(); got != tc.want {
				t.Errorf("summary = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestUndeliveredSendsAreTemporary(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		err  error
		want bool
	}{
		"crash":            {err: fmt.Errorf("x: %w", ErrPluginExited), want: true},
		"hang":             {err: fmt.Errorf("x: %w", ErrPluginHung), want: true},
		"unreachable":      {err: fmt.Errorf("x: %w", sdkplugin.ErrUnavailable), want: true},
		"caller deadline":  {err: fmt.Errorf("x: %w", context.DeadlineExceeded), want: true},
		"plugin's failure": {err: errors.New("smtp 550 mailbox unavailable"), want: false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := Failed(tc.err); got != tc.want {
				t.Errorf("Failed(%v) = %t, want %t", tc.err, got, tc.want)
			}
		})
	}
}

// TestStartupCost measures the time from Launch to the first Describe
// reply of a built plugin (median of 10). It runs only when
// CSCS_MEASURE_PLUGIN_STARTUP is set.
func TestStartupCost(t *testing.T) {
	if os.Getenv("CSCS_MEASURE_PLUGIN_STARTUP") == "" {
		t.Skip("set CSCS_MEASURE_PLUGIN_STARTUP=1 to measure plugin start-up")
	}
	bin := sdktest.Build(t, "./testdata/launch/storage")
	sum, err := FileSHA256(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ pinned, pipeTLS bool }{{false, false}, {true, false}, {false, true}} {
		spec := fixtureSpec(bin)
		if c.pinned {
			spec.SHA256 = sum
		}
		spec.PipeTLS = c.pipeTLS
		var samples []time.Duration
		for range 10 {
			start := time.Now()
			p, err := Launch(t.Context(), spec, Options{})
			if err != nil {
				t.Fatal(err)
			}
			s, err := p.Storage()
			if err == nil {
				_, err = s.Describe(t.Context())
			}
			samples = append(samples, time.Since(start))
			p.Kill()
			if err != nil {
				t.Fatal(err)
			}
		}
		sort.Slice(samples, func(i, j int) bool { return samples[i] < samples[j] })
		t.Logf("launch to first Describe (checksum pinned: %t, TLS keys from the host: %t): median %s, min %s, max %s",
			c.pinned, c.pipeTLS, (samples[4]+samples[5])/2, samples[0], samples[9])
	}
}

// TestSourceNamed talks to a binary serving two sources from one process,
// the way a round talks to the built-in sources: with the TLS keys the
// host made (a plugin that ignored them would serve without TLS, and the
// host's TLS handshake would fail).
func TestSourceNamed(t *testing.T) {
	t.Parallel()
	bin := sdktest.Build(t, "./testdata/launch/sources")
	p := launch(t, Spec{Kind: sdkplugin.KindSource, Name: "sources fixture", Path: bin, PipeTLS: true}, Options{CallTimeout: 2 * time.Second})
	if got := p.SourceNames(); !slices.Equal(got, []string{"fast", "slow"}) {
		t.Errorf("SourceNames = %v, want [fast slow]", got)
	}
	linux := source.Platform{OS: "linux", Arch: "amd64"}
	for _, name := range []string{"fast", "slow"} {
		s, err := p.SourceNamed(name)
		if err != nil {
			t.Fatal(err)
		}
		d, err := s.Describe(t.Context())
		if err != nil || d.Name != name {
			t.Errorf("SourceNamed(%q).Describe = %q, %v; want the source named %q", name, d.Name, err, name)
		}
	}
	fast, _ := p.SourceNamed("fast")
	if m, err := fast.Module(t.Context(), linux); err != nil || m.Builtin != "fast" {
		t.Errorf("fast Module = %+v, %v", m, err)
	}
	// No name is the binary's only source; this binary has several.
	only, err := p.SourceNamed("")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := only.Describe(t.Context()); err == nil || !strings.Contains(err.Error(), "the call names no source") {
		t.Errorf("SourceNamed(\"\").Describe: %v, want the binary to say the call names no source", err)
	}
	unknown, _ := p.SourceNamed("disk")
	_, err = unknown.Describe(t.Context())
	for _, want := range []string{"source plugin disk", `no source named "disk"`, "serves the sources fast, slow"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("unknown source: error %v, want it to contain %q", err, want)
		}
	}
	// A hung source stops the process, and with it its neighbours: they
	// share it. Every error names its own source.
	slow, _ := p.SourceNamed("slow")
	if _, err := slow.Module(t.Context(), linux); !errors.Is(err, ErrPluginHung) || !strings.Contains(err.Error(), "source plugin slow") {
		t.Fatalf("slow Module: %v, want ErrPluginHung naming source plugin slow", err)
	}
	if _, err := fast.Describe(t.Context()); !errors.Is(err, ErrPluginHung) || !strings.Contains(err.Error(), "source plugin fast") {
		t.Errorf("fast after slow hung: %v, want ErrPluginHung naming source plugin fast", err)
	}
}

func TestBuiltinSourcesSpec(t *testing.T) {
	t.Parallel()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		storage, notifier string
		wantArgs          []string
		wantName          string
	}{
		{"", "", []string{"plugin", "serve", "sources"}, "built-in sources"},
		{"sqlite", "", []string{"plugin", "serve", "--storage", "sqlite", "sources"}, "built-in sources, storage sqlite"},
		{"sqlite", "smtp", []string{"plugin", "serve", "--storage", "sqlite", "--notifier", "smtp", "sources"}, "built-in sources, storage sqlite, notifier smtp"},
		{"", "smtp", []string{"plugin", "serve", "--notifier", "smtp", "sources"}, "built-in sources, notifier smtp"},
	} {
		spec, err := BuiltinSourcesSpec(tc.storage, tc.notifier)
		if err != nil {
			t.Fatal(err)
		}
		if spec.Path != exe || !slices.Equal(spec.Args, tc.wantArgs) || spec.Kind != sdkplugin.KindSource || !spec.PipeTLS || spec.Name != tc.wantName {
			t.Errorf("BuiltinSourcesSpec(%q, %q) = %#v, want %s %s named %q", tc.storage, tc.notifier, spec, exe, strings.Join(tc.wantArgs, " "), tc.wantName)
		}
	}
}
