package plugin

import (
	"context"
	"os"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/cscs-dev/cscs/sdk/internal/member"
	"github.com/cscs-dev/cscs/sdk/notifier"
	"github.com/cscs-dev/cscs/sdk/source"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// maxMessageBytes bounds one gRPC message a plugin receives or sends. A
// source's artifact (a program shipped to hosts) and a large round travel
// in one message, so the default of 4 MiB is too small.
const maxMessageBytes = 256 << 20

// processStderr is the plugin process's real standard error, captured at
// start-up: goplugin.Serve later points os.Stderr at a pipe the host does
// not read, and plugin logs must reach the host.
var processStderr = os.Stderr

// ServeConfig says what a plugin binary serves. One binary may serve one
// plugin of each kind, or several sources; at least one must be set.
type ServeConfig struct {
	Source source.Source
	// Sources, instead of Source, serves several sources from one process,
	// by name: the host names the source in each call (CallFor). They share
	// the process, so one that crashes or hangs stops them all.
	Sources  map[string]source.Source
	Storage  storage.Storage
	Notifier notifier.Notifier
	// Logger receives the plugin machinery's own messages; nil means
	// NewLogger("plugin"). It must write hclog JSON to standard error for
	// the host to mirror it, as NewLogger's loggers do.
	Logger hclog.Logger
}

// kinds lists the kinds cfg serves, in the order of Kinds().
func (cfg ServeConfig) kinds() []string {
	var kinds []string
	if cfg.Source != nil || len(cfg.Sources) > 0 {
		kinds = append(kinds, KindSource)
	}
	if cfg.Storage != nil {
		kinds = append(kinds, KindStorage)
	}
	if cfg.Notifier != nil {
		kinds = append(kinds, KindNotifier)
	}
	return kinds
}

// pluginSet is what cfg serves, the info service included.
func (cfg ServeConfig) pluginSet() goplugin.PluginSet {
	set := goplugin.PluginSet{KindInfo: newInfoPlugin(cfg)}
	switch {
	case len(cfg.Sources) > 0:
		set[KindSource] = &source.GRPCPlugin{Set: cfg.Sources}
	case cfg.Source != nil:
		set[KindSource] = &source.GRPCPlugin{Impl: cfg.Source}
	}
	if cfg.Storage != nil {
		set[KindStorage] = &storage.GRPCPlugin{Impl: cfg.Storage}
	}
	if cfg.Notifier != nil {
		set[KindNotifier] = &notifier.GRPCPlugin{Impl: cfg.Notifier}
	}
	return set
}

// Serve serves the plugins cfg sets over gRPC and blocks until the host
// stops the plugin; then the process exits. It panics when cfg sets no
// plugin, or sets both Source and Sources. Started by hand instead of by CSCS, it prints that it is a plugin
// and exits with status 1.
//
// Nothing may be written to standard output before Serve: the host reads
// its handshake there.
func Serve(cfg ServeConfig) {
	if len(cfg.kinds()) == 0 {
		panic("sdkplugin.Serve: ServeConfig sets no plugin; set Source, Storage or Notifier")
	}
	if cfg.Source != nil && len(cfg.Sources) > 0 {
		panic("sdkplugin.Serve: ServeConfig sets both Source and Sources; serve one source with Source, several with Sources")
	}
	logger := cfg.Logger
	if logger == nil {
		logger = NewLogger("plugin")
	}
	goplugin.Serve(&goplugin.ServeConfig{
		HandshakeConfig:  Handshake(),
		VersionedPlugins: map[int]goplugin.PluginSet{ProtocolVersion: cfg.pluginSet()},
		GRPCServer:       newGRPCServer,
		Logger:           logger,
		// Keys the host made and handed over a pipe (EnvTLSFD); without
		// them, go-plugin's automatic mutual TLS.
		TLSProvider: serverTLS,
	})
	// The host stopped the plugin: a notifier holding connections
	// (notifier.Closer) ends them politely before the process exits.
	if c, ok := cfg.Notifier.(notifier.Closer); ok {
		_ = c.Close()
	}
}

// CallFor returns ctx whose calls to a plugin binary address its plugin
// named name, for a binary serving several plugins of a kind
// (ServeConfig.Sources). A binary serving one plugin of the kind ignores
// the name.
func CallFor(ctx context.Context, name string) context.Context {
	return member.WithName(ctx, name)
}

// newGRPCServer builds the plugin's gRPC server with go-plugin's options
// (TLS) and message limits large enough for artifacts and rounds.
func newGRPCServer(opts []grpc.ServerOption) *grpc.Server {
	opts = append(opts, grpc.MaxRecvMsgSize(maxMessageBytes), grpc.MaxSendMsgSize(maxMessageBytes))
	return grpc.NewServer(opts...)
}

// NewLogger returns a logger for plugin code: hclog JSON on the process's
// standard error, which the host parses and mirrors into its own log under
// the plugin's name, at the level the host asked for (EnvLogLevel).
func NewLogger(name string) hclog.Logger {
	level := hclog.LevelFromString(os.Getenv(EnvLogLevel))
	if level == hclog.NoLevel {
		level = hclog.Info
	}
	return hclog.New(&hclog.LoggerOptions{
		Name:       name,
		Level:      level,
		Output:     processStderr,
		JSONFormat: true,
	})
}
