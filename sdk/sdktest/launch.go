package sdktest

import (
	"context"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"

	"github.com/cscs-dev/cscs/sdk/notifier"
	sdkplugin "github.com/cscs-dev/cscs/sdk/plugin"
	"github.com/cscs-dev/cscs/sdk/source"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// launchTimeout bounds a launched plugin's start and each Kinds call.
const launchTimeout = 30 * time.Second

// Build compiles the plugin main package pkgPath (an import path, or a
// directory such as "./cmd/myplugin" relative to the test's package) into
// a temporary directory and returns the binary's path. buildFlags go to
// `go build` before the package, e.g. "-ldflags", "-X main.x=y".
func Build(t testing.TB, pkgPath string, buildFlags ...string) string {
	t.Helper()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("sdktest.Build: the go command is needed to build %s: %v", pkgPath, err)
	}
	name := path.Base(filepath.ToSlash(strings.TrimRight(pkgPath, `/\`)))
	if name == "." || name == "/" || name == "" {
		name = "plugin"
	}
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	out := filepath.Join(t.TempDir(), name)
	args := append([]string{"build", "-o", out}, buildFlags...)
	args = append(args, pkgPath)
	if output, err := exec.CommandContext(t.Context(), goCmd, args...).CombinedOutput(); err != nil {
		t.Fatalf("sdktest.Build: go %s: %v\n%s", strings.Join(args, " "), err, output)
	}
	return out
}

// Launched is a plugin binary started by Launch. Its methods fail the test
// on error; it is killed when the test ends.
type Launched struct {
	t      testing.TB
	client *goplugin.Client
	rpc    goplugin.ClientProtocol
}

// Launch starts the plugin binary at binaryPath the way the CSCS core does:
// the SDK's handshake and plugin sets, gRPC only, automatic mTLS, the
// plugin's stderr mirrored into the test log.
func Launch(t testing.TB, binaryPath string) *Launched {
	t.Helper()
	logger := hclog.New(&hclog.LoggerOptions{
		Name:   "plugin",
		Level:  hclog.Debug,
		Output: &testLogWriter{t: t},
	})
	cmd := exec.Command(binaryPath)
	cmd.Env = []string{sdkplugin.EnvLogLevel + "=debug"}
	client := goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig:  sdkplugin.Handshake(),
		VersionedPlugins: sdkplugin.ClientPluginSets(),
		Cmd:              cmd,
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		AutoMTLS:         true,
		StartTimeout:     launchTimeout,
		Logger:           logger,
	})
	t.Cleanup(client.Kill)
	rpc, err := client.Client()
	if err != nil {
		t.Fatalf("sdktest.Launch: starting %s: %v", binaryPath, err)
	}
	return &Launched{t: t, client: client, rpc: rpc}
}

// Kinds returns the plugin kinds the binary serves.
func (l *Launched) Kinds() []string {
	l.t.Helper()
	kinds, _ := l.served()
	return kinds
}

// SourceNames returns the names of the sources a binary serving several
// serves (ServeConfig.Sources), sorted; none for a binary serving one.
// Name one in each call's context with sdkplugin.CallFor.
func (l *Launched) SourceNames() []string {
	l.t.Helper()
	_, names := l.served()
	return names
}

func (l *Launched) served() (kinds, sourceNames []string) {
	l.t.Helper()
	info := l.dispense(sdkplugin.KindInfo).(sdkplugin.Info)
	ctx, cancel := context.WithTimeout(l.t.Context(), launchTimeout)
	defer cancel()
	kinds, sourceNames, err := info.Served(ctx)
	if err != nil {
		l.t.Fatalf("sdktest: asking the plugin what it serves: %v", err)
	}
	return kinds, sourceNames
}

// Storage returns the binary's storage plugin; the test fails when the
// binary serves none.
func (l *Launched) Storage() storage.Storage {
	l.t.Helper()
	return l.dispenseServed(sdkplugin.KindStorage).(storage.Storage)
}

// Source returns the binary's source plugin (also a source.Decoder); the
// test fails when the binary serves none.
func (l *Launched) Source() source.Source {
	l.t.Helper()
	return l.dispenseServed(sdkplugin.KindSource).(source.Source)
}

// Notifier returns the binary's notifier plugin; the test fails when the
// binary serves none.
func (l *Launched) Notifier() notifier.Notifier {
	l.t.Helper()
	return l.dispenseServed(sdkplugin.KindNotifier).(notifier.Notifier)
}

// Exited reports whether the plugin process has exited.
func (l *Launched) Exited() bool { return l.client.Exited() }

// Kill stops the plugin process; later calls to it fail.
func (l *Launched) Kill() { l.client.Kill() }

func (l *Launched) dispenseServed(kind string) any {
	l.t.Helper()
	if kinds := l.Kinds(); !slices.Contains(kinds, kind) {
		l.t.Fatalf("sdktest: the plugin serves %v, not %s", kinds, kind)
	}
	return l.dispense(kind)
}

func (l *Launched) dispense(kind string) any {
	l.t.Helper()
	raw, err := l.rpc.Dispense(kind)
	if err != nil {
		l.t.Fatalf("sdktest: dispensing %s: %v", kind, err)
	}
	return raw
}

// testLogWriter writes the host-side plugin log into the test log. The
// plugin client is killed (and its log goroutines finished) in a cleanup,
// before the test completes, so t.Log is never called too late.
type testLogWriter struct {
	mu sync.Mutex
	t  testing.TB
}

func (w *testLogWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
