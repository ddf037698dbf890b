// Launching plugins: the core's side of sdk/plugin. Launch starts a plugin
// binary (an installed external plugin or the cscs binary itself serving a
// built-in), checks what it serves, and hands out its plugins wrapped so
// that every call has a deadline and every error names the plugin.

package pluginhost

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"

	sdkplugin "github.com/cscs-dev/cscs/sdk/plugin"
)

// Defaults for Options.
const (
	DefaultStartTimeout = 20 * time.Second
	DefaultCallTimeout  = 30 * time.Second
)

// exitWait bounds how long a failed call waits for the plugin process to
// finish exiting, to tell a crash from another failure.
const exitWait = 2 * time.Second

// Spec says which plugin to launch and how.
type Spec struct {
	// Kind is sdkplugin.KindSource, KindStorage or KindNotifier. Empty
	// launches the binary without checking a kind (to ask what it serves).
	Kind string
	// Name is the plugin's name, used in messages and the logger's name.
	Name string
	// Path is the executable; Args its arguments.
	Path string
	Args []string
	// SHA256 pins the executable's checksum (lowercase hex); empty for
	// built-ins, which are the running cscs binary.
	SHA256 string
	// Config is the operator's configuration for the plugin (a JSON
	// object), for the caller to pass to Open or Configure. Launch does not
	// read it, and it never appears in messages or logs.
	Config []byte
	// PipeTLS has the host make the connection's TLS keys (Ed25519) and
	// hand the plugin its own over an inherited pipe (sdkplugin.NewPipeTLS)
	// instead of go-plugin's automatic TLS, whose P-521 keys cost both
	// processes about 30 ms of CPU. Only for plugins built with this SDK
	// (the built-ins); ignored on Windows, which has no inherited pipes.
	PipeTLS bool
}

// String names the plugin as messages do: "storage plugin sqlite".
func (s Spec) String() string {
	kind := s.Kind
	if kind == "" {
		kind = "plugin"
	} else {
		kind += " plugin"
	}
	if s.Name != "" {
		return kind + " " + s.Name
	}
	return kind + " " + s.Path
}

// GoString keeps Config out of %#v.
func (s Spec) GoString() string {
	return fmt.Sprintf("pluginhost.Spec{Kind:%q, Name:%q, Path:%q, Args:%q, SHA256:%q, Config:<%d bytes>, PipeTLS:%t}",
		s.Kind, s.Name, s.Path, s.Args, s.SHA256, len(s.Config), s.PipeTLS)
}

func (s Spec) validate() error {
	if s.Kind != "" && !slices.Contains(sdkplugin.Kinds(), s.Kind) {
		return fmt.Errorf("%s: unknown plugin kind %q; use one of %s", s, s.Kind, strings.Join(sdkplugin.Kinds(), ", "))
	}
	if s.Path == "" {
		return fmt.Errorf("%s: no executable path", s)
	}
	if s.SHA256 != "" {
		if b, err := hex.DecodeString(s.SHA256); err != nil || len(b) != sha256.Size {
			return fmt.Errorf("%s: pinned checksum %q is not a SHA-256 in hex; reinstall the plugin with `cscs plugins install`", s, s.SHA256)
		}
	}
	return nil
}

// BuiltinSpec returns the Spec of a built-in plugin: the running cscs
// binary re-executed as `cscs plugin serve <kind> <name>`.
func BuiltinSpec(kind, name string) (Spec, error) {
	if !slices.Contains(sdkplugin.Kinds(), kind) {
		return Spec{}, fmt.Errorf("built-in plugin %q: unknown kind %q; use one of %s", name, kind, strings.Join(sdkplugin.Kinds(), ", "))
	}
	if name == "" {
		return Spec{}, fmt.Errorf("built-in %s plugin: no name", kind)
	}
	exe, err := os.Executable()
	if err != nil {
		return Spec{}, fmt.Errorf("built-in %s plugin %s: finding the cscs executable to re-run: %w", kind, name, err)
	}
	return Spec{Kind: kind, Name: name, Path: exe, Args: []string{"plugin", "serve", kind, name}, PipeTLS: true}, nil
}

// BuiltinSourcesSpec returns the Spec of every built-in source served from
// one process, with the built-in storage named storage and the built-in
// notifier named notifier beside them unless empty: the running cscs
// binary re-executed as `cscs plugin serve [--storage NAME] [--notifier
// NAME] sources`. Address each source with Plugin.SourceNamed, the storage
// with Plugin.StorageAs, the notifier with Plugin.NotifierAs.
func BuiltinSourcesSpec(storage, notifier string) (Spec, error) {
	exe, err := os.Executable()
	if err != nil {
		return Spec{}, fmt.Errorf("built-in sources: finding the cscs executable to re-run: %w", err)
	}
	spec := Spec{Kind: sdkplugin.KindSource, Name: "built-in sources", Path: exe, Args: []string{"plugin", "serve"}, PipeTLS: true}
	if storage != "" {
		spec.Name += ", storage " + storage
		spec.Args = append(spec.Args, "--storage", storage)
	}
	if notifier != "" {
		spec.Name += ", notifier " + notifier
		spec.Args = append(spec.Args, "--notifier", notifier)
	}
	spec.Args = append(spec.Args, "sources")
	return spec, nil
}

// Options tune Launch.
type Options struct {
	// Logger receives go-plugin's messages and the plugin's own log (its
	// stderr), under the name "plugin.<kind>.<name>". Nil discards them.
	Logger hclog.Logger
	// StartTimeout bounds the start and handshake (DefaultStartTimeout
	// when zero); a shorter deadline on Launch's context wins.
	StartTimeout time.Duration
	// CallTimeout bounds every call to the plugin (DefaultCallTimeout when
	// zero). A call that exceeds it kills the plugin.
	CallTimeout time.Duration
}

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	if o.StartTimeout <= 0 {
		o.StartTimeout = DefaultStartTimeout
	}
	if o.CallTimeout <= 0 {
		o.CallTimeout = DefaultCallTimeout
	}
	return o
}

// Plugin is a running plugin binary. Get its plugins with Storage, Source
// or Notifier; Kill it when done.
type Plugin struct {
	spec   Spec
	opts   Options
	cmd    *exec.Cmd
	client *goplugin.Client
	rpc    goplugin.ClientProtocol
	stderr *stderrTail
	kinds  []string
	// sourceNames are the sources of a binary serving several.
	sourceNames []string

	mu      sync.Mutex
	stopped error // why the host killed the plugin; nil while usable
}

// Launch starts the plugin binary spec names, completes the handshake and
// asks which kinds it serves; when spec.Kind is set, the binary must serve
// it. The error of a failed launch names the plugin and says what to do.
func Launch(ctx context.Context, spec Spec, opts Options) (*Plugin, error) {
	opts = opts.withDefaults()
	if err := spec.validate(); err != nil {
		return nil, err
	}
	if _, err := os.Stat(spec.Path); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w: %s does not exist; install the plugin with `cscs plugins install` or correct its path", spec, ErrBinaryNotFound, spec.Path)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: launch: %w", spec, err)
	}
	startTimeout := opts.StartTimeout
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < startTimeout {
		startTimeout = max(time.Until(deadline), time.Millisecond)
	}

	p := &Plugin{spec: spec, opts: opts, stderr: &stderrTail{}}
	p.cmd = exec.Command(spec.Path, spec.Args...)
	p.cmd.Env = []string{sdkplugin.EnvLogLevel + "=" + logLevel(opts.Logger)}
	cfg := &goplugin.ClientConfig{
		HandshakeConfig:  sdkplugin.Handshake(),
		VersionedPlugins: sdkplugin.ClientPluginSets(),
		Cmd:              p.cmd,
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		AutoMTLS:         true,
		Managed:          false,
		StartTimeout:     startTimeout,
		Logger:           opts.Logger.Named(loggerName(spec)),
		Stderr:           p.stderr,
	}
	if spec.SHA256 != "" {
		sum, _ := hex.DecodeString(spec.SHA256) // checked by validate
		cfg.SecureConfig = &goplugin.SecureConfig{Checksum: sum, Hash: sha256.New()}
	}
	if spec.PipeTLS && runtime.GOOS != "windows" {
		keys, err := pipeTLS(p.cmd, cfg)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", spec, err)
		}
		defer keys.Close() // the child has its copy once started
	}
	p.client = goplugin.NewClient(cfg)

	rpc, err := p.client.Client()
	if err != nil {
		p.client.Kill()
		return nil, p.startError(err, startTimeout)
	}
	p.rpc = rpc

	if err := p.askKinds(ctx); err != nil {
		p.client.Kill()
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		p.client.Kill()
		return nil, fmt.Errorf("%s: launch: %w", spec, err)
	}
	return p, nil
}

// pipeTLS sets cfg to dial with keys made by the host and passes the
// plugin its keys on an inherited pipe: the read end becomes the child's
// descriptor 3, named in its environment. The returned read end is to be
// closed once the child started.
func pipeTLS(cmd *exec.Cmd, cfg *goplugin.ClientConfig) (*os.File, error) {
	client, bundle, err := sdkplugin.NewPipeTLS()
	if err != nil {
		return nil, err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("plugin TLS: %w", err)
	}
	// The bundle (a few KiB) fits the pipe's buffer: write it all now.
	_, err = w.Write(bundle)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("plugin TLS: %w", err)
	}
	cmd.ExtraFiles = []*os.File{r}
	cmd.Env = append(cmd.Env, sdkplugin.EnvTLSFD+"=3")
	cfg.AutoMTLS = false
	cfg.TLSConfig = client
	return r, nil
}

// askKinds asks the binary's info service which kinds it serves and checks
// spec.Kind among them.
func (p *Plugin) askKinds(ctx context.Context) error {
	raw, err := p.rpc.Dispense(sdkplugin.KindInfo)
	if err != nil {
		return fmt.Errorf("%s: %w", p.spec, err)
	}
	info := raw.(sdkplugin.Info)
	err = p.call(ctx, p.spec.String(), "asking which kinds it serves", func(ctx context.Context) error {
		var err error
		p.kinds, p.sourceNames, err = info.Served(ctx)
		return err
	})
	if err != nil {
		return err
	}
	if p.spec.Kind != "" && !slices.Contains(p.kinds, p.spec.Kind) {
		return fmt.Errorf("%s: %w: %s serves %s, not %s; check the plugin's kind in the configuration",
			p.spec, ErrKindNotServed, p.spec.Path, servedList(p.kinds), p.spec.Kind)
	}
	return nil
}

// Spec returns the Spec the plugin was launched with.
func (p *Plugin) Spec() Spec { return p.spec }

// Kinds returns the plugin kinds the binary serves.
func (p *Plugin) Kinds() []string { return slices.Clone(p.kinds) }

// SourceNames returns the names of the sources of a binary serving
// several (reach each with SourceNamed), sorted; none for a binary serving
// one source (Source) or none.
func (p *Plugin) SourceNames() []string { return slices.Clone(p.sourceNames) }

// Protocol returns the plugin protocol version negotiated with the binary.
func (p *Plugin) Protocol() int { return p.client.NegotiatedVersion() }

// Exited reports whether the plugin process has ended (crashed, exited or
// killed).
func (p *Plugin) Exited() bool { return p.client.Exited() }

// Kill stops the plugin process and waits for it; safe to call more than
// once. Calls afterwards fail.
func (p *Plugin) Kill() {
	p.mu.Lock()
	if p.stopped == nil {
		p.stopped = fmt.Errorf("%w: it was stopped by cscs", ErrPluginExited)
	}
	p.mu.Unlock()
	p.client.Kill()
}

// call runs fn under the call timeout and returns its error wrapped with
// who and op, classified: a call past the timeout kills the plugin
// (ErrPluginHung); a call the process died during reports its exit
// (ErrPluginExited).
func (p *Plugin) call(ctx context.Context, who, op string, fn func(context.Context) error) error {
	p.mu.Lock()
	stopped := p.stopped
	p.mu.Unlock()
	if stopped != nil {
		return fmt.Errorf("%s: %s: %w", who, op, stopped)
	}
	if p.client.Exited() {
		return fmt.Errorf("%s: %s: %w", who, op, p.exitError())
	}

	ours := time.Now().Add(p.opts.CallTimeout)
	callCtx, cancel := context.WithDeadline(ctx, ours)
	defer cancel()
	err := fn(callCtx)
	if err == nil {
		return nil
	}
	// The call timed out on our deadline (not the caller's shorter one).
	// The plugin's side may notice first (gRPC carries the deadline and the
	// server resets the stream), so compare clocks rather than waiting for
	// callCtx to report it.
	callerDeadline, callerHas := ctx.Deadline()
	if !time.Now().Before(ours) && (!callerHas || !callerDeadline.Before(ours)) && ctx.Err() != context.Canceled {
		reason := fmt.Errorf("%w: %s got no answer within %s, so cscs killed the plugin; if it needs longer, raise the call timeout", ErrPluginHung, op, p.opts.CallTimeout)
		p.mu.Lock()
		if p.stopped == nil {
			p.stopped = reason
		}
		p.mu.Unlock()
		p.client.Kill()
		return fmt.Errorf("%s: %w", who, reason)
	}
	p.mu.Lock()
	stopped = p.stopped
	p.mu.Unlock()
	if stopped != nil { // another call hung and cscs killed the plugin meanwhile
		return fmt.Errorf("%s: %s: %w", who, op, stopped)
	}
	if errors.Is(err, sdkplugin.ErrUnavailable) && p.waitExited(exitWait) {
		p.mu.Lock()
		stopped := p.stopped
		p.mu.Unlock()
		if stopped != nil { // killed by cscs (another call hung, or Kill)
			return fmt.Errorf("%s: %s: %w", who, op, stopped)
		}
		return fmt.Errorf("%s: %s: %w", who, op, p.exitError())
	}
	return fmt.Errorf("%s: %s: %w", who, op, err)
}

// waitExited reports whether the process exits within d.
func (p *Plugin) waitExited(d time.Duration) bool {
	deadline := time.Now().Add(d)
	for !p.client.Exited() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

// exitError describes an exited process: its exit status and the most
// telling line of its stderr.
func (p *Plugin) exitError() error {
	if line := p.stderr.panicLine(); line != "" {
		return fmt.Errorf("%w: it crashed with %q; report it to the plugin's author (its stack trace is in the plugin's debug log)", ErrPluginExited, line)
	}
	var b strings.Builder
	b.WriteString("the process ended")
	// ProcessState is set before go-plugin marks the client exited.
	if ps := p.cmd.ProcessState; ps != nil {
		fmt.Fprintf(&b, " (%s)", ps)
	}
	if line := p.stderr.summary(); line != "" {
		fmt.Fprintf(&b, "; its last error output: %q", line)
	}
	b.WriteString("; see the plugin's log, and report a crash to its author")
	return fmt.Errorf("%w: %s", ErrPluginExited, b.String())
}

var (
	pluginVersionRE = regexp.MustCompile(`Plugin version: (\d+)`)
	unrecognizedRE  = regexp.MustCompile(`Unrecognized remote plugin message: ([^\n]*)`)
)

// startError turns what go-plugin reports for a failed start into an error
// that names the plugin and says what to do.
func (p *Plugin) startError(err error, timeout time.Duration) error {
	s := p.spec
	msg := err.Error()
	switch {
	case errors.Is(err, goplugin.ErrChecksumsDoNotMatch):
		got := "a different checksum"
		if sum, ferr := FileSHA256(s.Path); ferr == nil {
			got = "sha256 " + sum
		}
		return fmt.Errorf("%s: %w: %s has %s, but %s was pinned when it was installed; the file changed since: reinstall it with `cscs plugins install`",
			s, ErrChecksumMismatch, s.Path, got, s.SHA256)
	case strings.HasPrefix(msg, "error verifying checksum"):
		return fmt.Errorf("%s: %w (%w): reading %s to verify it: %v; check the file, or reinstall it with `cscs plugins install`", s, ErrChecksumMismatch, ErrUnreadable, s.Path, err)
	case strings.Contains(msg, "incompatible API version"):
		theirs := "another version"
		if m := pluginVersionRE.FindStringSubmatch(msg); m != nil {
			theirs = m[1]
		}
		return fmt.Errorf("%s: %w: the plugin speaks plugin protocol %s, this cscs speaks %d; %s",
			s, ErrProtocolMismatch, theirs, sdkplugin.ProtocolVersion, protocolAdvice(theirs))
	case strings.Contains(msg, "incompatible core API version"):
		return fmt.Errorf("%s: %w: the plugin was built with an incompatible hashicorp/go-plugin; rebuild it with the CSCS SDK", s, ErrProtocolMismatch)
	case strings.Contains(msg, "unsupported plugin protocol"):
		return fmt.Errorf("%s: %w: the plugin serves net/rpc, cscs needs gRPC; rebuild it with the CSCS SDK (sdk/plugin.Serve)", s, ErrProtocolMismatch)
	case strings.HasPrefix(msg, "Unrecognized remote plugin message"):
		line := ""
		if m := unrecognizedRE.FindStringSubmatch(msg); m != nil {
			line = strings.TrimSpace(m[1])
		}
		if line == "" {
			// Stdout closed without a line: the process ended.
			p.waitExited(exitWait)
			return fmt.Errorf("%s: during start: %w", s, p.exitError())
		}
		if len(line) > maxStderrLine {
			line = line[:maxStderrLine] + "…"
		}
		return fmt.Errorf("%s: %w: %s printed %q on its standard output instead of the plugin handshake; is it a CSCS plugin? A plugin must call sdkplugin.Serve and print nothing to stdout before it",
			s, ErrNotAPlugin, s.Path, line)
	case strings.Contains(msg, "timeout while waiting for plugin to start"):
		return fmt.Errorf("%s: %w: no handshake within %s; the plugin may be stuck in its start-up (see its log)", s, ErrStartTimeout, timeout.Round(time.Millisecond))
	case strings.Contains(msg, "plugin exited before we could connect"):
		p.waitExited(exitWait)
		return fmt.Errorf("%s: during start: %w", s, p.exitError())
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("%s: %s cannot be executed: %w; make it executable (chmod +x) or reinstall it", s, s.Path, err)
	}
	var execErr *exec.Error
	var pathErr *fs.PathError
	if errors.As(err, &execErr) || errors.As(err, &pathErr) {
		return fmt.Errorf("%s: starting %s: %w; is it a program built for this system?", s, s.Path, err)
	}
	return fmt.Errorf("%s: start: %w", s, err)
}

// protocolAdvice says what to do about a plugin speaking protocol theirs.
func protocolAdvice(theirs string) string {
	v, err := strconv.Atoi(theirs)
	switch {
	case err != nil:
		return fmt.Sprintf("install a build of the plugin made for protocol %d", sdkplugin.ProtocolVersion)
	case v > sdkplugin.ProtocolVersion:
		return fmt.Sprintf("upgrade cscs, or install a build of the plugin made for protocol %d", sdkplugin.ProtocolVersion)
	default:
		return fmt.Sprintf("install a newer build of the plugin, made with a CSCS SDK for protocol %d", sdkplugin.ProtocolVersion)
	}
}

// loggerName is "plugin.<kind>.<name>" (or the binary's name).
func loggerName(s Spec) string {
	kind, name := s.Kind, s.Name
	if kind == "" {
		kind = "any"
	}
	if name == "" {
		name = filepath.Base(s.Path)
	}
	return "plugin." + kind + "." + name
}

// logLevel is the hclog level name the plugin should log at: the host
// logger's, but never quieter than errors, whose last line goes into the
// messages of a crash.
func logLevel(l hclog.Logger) string {
	switch level := l.GetLevel(); level {
	case hclog.NoLevel:
		return hclog.Info.String()
	case hclog.Off:
		return hclog.Error.String()
	default:
		return level.String()
	}
}

// servedList is "source and notifier", or "nothing".
func servedList(kinds []string) string {
	switch len(kinds) {
	case 0:
		return "nothing"
	case 1:
		return kinds[0]
	}
	return strings.Join(kinds[:len(kinds)-1], ", ") + " and " + kinds[len(kinds)-1]
}
