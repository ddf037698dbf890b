package plugins

import (
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

// ServeSources serves every built-in source from one process, and the
// built-in storage named storageName beside them unless it is empty; it
// blocks like Serve.
func ServeSources(storageName, version string) error {
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
	if storageName != "" {
		b, ok := Lookup(KindStorage, storageName)
		if !ok {
			return fmt.Errorf("no built-in storage plugin %q", storageName)
		}
		impl := b.New(version)
		if cfg.Storage, ok = impl.(storage.Storage); !ok {
			return notImplementing(b, impl)
		}
	}
	sdkplugin.Serve(cfg)
	return nil
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
// `<binary> plugin serve <kind> <name>`): called first in TestMain, it
// serves the plugin and exits when args ask for one, and returns
// otherwise.
func ServeTestBinary(args []string) {
	if len(args) != 5 || args[1] != "plugin" || args[2] != "serve" {
		return
	}
	if err := Serve(args[3], args[4], "test"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0)
}
