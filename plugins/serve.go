package plugins

import (
	"flag"
	"fmt"
	"os"

	"github.com/cscs-dev/cscs/sdk/notifier"
	sdkplugin "github.com/cscs-dev/cscs/sdk/plugin"
	"github.com/cscs-dev/cscs/sdk/source"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// Serve serves the built-in plugin of kind named name, made for version,
// through the public SDK until the host ends it. Started by hand, without
// the handshake the core gives it, sdkplugin.Serve prints that the binary
// is a plugin and exits the process with status 1.
func Serve(kind, name, version string) error {
	b, ok := Lookup(kind, name)
	if !ok {
		return fmt.Errorf("no built-in %s plugin %q", kind, name)
	}
	impl := b.New(version)
	var cfg sdkplugin.ServeConfig
	ok = false
	switch kind {
	case KindStorage:
		cfg.Storage, ok = impl.(storage.Storage)
	case KindSource:
		cfg.Source, ok = impl.(source.Source)
	case KindNotifier:
		cfg.Notifier, ok = impl.(notifier.Notifier)
	}
	if !ok {
		return notImplementing(b, impl)
	}
	sdkplugin.Serve(cfg)
	return nil
}

// Beside names the built-ins the process of the built-in sources serves
// beside them: a round's storage and the notifier of its mail, so that a
// round starts one plugin process for all three. Empty names none.
type Beside struct {
	Storage  string
	Notifier string
}

// ServeSources serves every built-in source from one process, with the
// built-in storage and notifier beside names; it blocks like Serve.
func ServeSources(beside Beside, version string) error {
	cfg := sdkplugin.ServeConfig{Sources: map[string]source.Source{}}
	for _, b := range Builtins() {
		if b.Kind != KindSource {
			continue
		}
		impl, ok := b.New(version).(source.Source)
		if !ok {
			return notImplementing(b, impl)
		}
		cfg.Sources[b.Name] = impl
	}
	var err error
	if beside.Storage != "" {
		if cfg.Storage, err = builtinAs[storage.Storage](KindStorage, beside.Storage, version); err != nil {
			return err
		}
	}
	if beside.Notifier != "" {
		if cfg.Notifier, err = builtinAs[notifier.Notifier](KindNotifier, beside.Notifier, version); err != nil {
			return err
		}
	}
	sdkplugin.Serve(cfg)
	return nil
}

// builtinAs makes the built-in plugin of kind named name for version, as
// the T its kind's contract is.
func builtinAs[T any](kind, name, version string) (T, error) {
	var zero T
	b, ok := Lookup(kind, name)
	if !ok {
		return zero, fmt.Errorf("no built-in %s plugin %q", kind, name)
	}
	impl := b.New(version)
	t, ok := impl.(T)
	if !ok {
		return zero, notImplementing(b, impl)
	}
	return t, nil
}

// notImplementing is the error for built-in b whose New made impl, which
// does not implement b's kind.
func notImplementing(b Builtin, impl any) error {
	return fmt.Errorf("built-in %s plugin %s is a %T, which does not implement the %s contract; this is a bug in cscs", b.Kind, b.Name, impl, b.Kind)
}

// ProtocolVersion is the plugin protocol version the built-ins speak.
const ProtocolVersion = sdkplugin.ProtocolVersion

// ServeTestBinary lets a test binary stand in for cscs when a test starts
// a built-in plugin out of process (the pipeline re-executes the binary as
// `<binary> plugin serve <kind> <name>`, or `<binary> plugin serve
// [--storage NAME] [--notifier NAME] sources`): called first in TestMain,
// it serves the plugins and exits when args ask for them, and returns
// otherwise.
func ServeTestBinary(args []string) {
	if len(args) < 4 || args[1] != "plugin" || args[2] != "serve" {
		return
	}
	fs := flag.NewFlagSet("plugin serve", flag.ContinueOnError)
	var beside Beside
	fs.StringVar(&beside.Storage, "storage", "", "")
	fs.StringVar(&beside.Notifier, "notifier", "", "")
	if fs.Parse(args[3:]) != nil {
		return
	}
	var err error
	switch rest := fs.Args(); {
	case len(rest) == 1 && rest[0] == "sources":
		err = ServeSources(beside, "test")
	case len(rest) == 2 && beside == Beside{}:
		err = Serve(rest[0], rest[1], "test")
	default:
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0)
}
