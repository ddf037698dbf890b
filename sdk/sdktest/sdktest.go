// Package sdktest is the test kit for CSCS plugin authors.
//
// In process: Storage, Source and Notifier wrap an implementation in a real
// gRPC client and server (the plugin glue of this SDK) so that a test
// exercises what the core will see, conversion included.
//
// Out of process: Build compiles a plugin main package and Launch starts the
// binary the way the CSCS core does (same handshake, same plugin sets,
// gRPC only, automatic mTLS).
//
// Conformance: StorageConformance, SourceConformance and
// NotifierConformance check the lifecycle rules of each contract against
// any implementation, in process or launched, and that the configuration
// schema a plugin declares is valid. SchemaMatchesStruct checks that
// schema against the struct the plugin decodes its configuration into.
package sdktest

import (
	"testing"

	goplugin "github.com/hashicorp/go-plugin"

	"github.com/cscs-dev/cscs/sdk/notifier"
	sdkplugin "github.com/cscs-dev/cscs/sdk/plugin"
	"github.com/cscs-dev/cscs/sdk/source"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// Storage serves impl over an in-memory gRPC connection and returns the
// client side: every call goes through the wire conversion. The
// connection is closed when the test ends.
func Storage(t testing.TB, impl storage.Storage) storage.Storage {
	t.Helper()
	return dispenseInProcess(t, sdkplugin.KindStorage, &storage.GRPCPlugin{Impl: impl}).(storage.Storage)
}

// Source serves impl over an in-memory gRPC connection and returns the
// client side, which also implements source.Decoder (its Decode returns an
// error wrapping source.ErrNoDecoder when impl is no Decoder).
func Source(t testing.TB, impl source.Source) source.Source {
	t.Helper()
	return dispenseInProcess(t, sdkplugin.KindSource, &source.GRPCPlugin{Impl: impl}).(source.Source)
}

// SourceSet serves set over an in-memory gRPC connection, as a binary
// serving several sources (sdkplugin.ServeConfig.Sources) does, and
// returns the client side; name the source of each call with
// sdkplugin.CallFor.
func SourceSet(t testing.TB, set map[string]source.Source) source.Source {
	t.Helper()
	return dispenseInProcess(t, sdkplugin.KindSource, &source.GRPCPlugin{Set: set}).(source.Source)
}

// Notifier serves impl over an in-memory gRPC connection and returns the
// client side.
func Notifier(t testing.TB, impl notifier.Notifier) notifier.Notifier {
	t.Helper()
	return dispenseInProcess(t, sdkplugin.KindNotifier, &notifier.GRPCPlugin{Impl: impl}).(notifier.Notifier)
}

// dispenseInProcess connects a go-plugin gRPC client and server that serve
// p under kind and returns what the client dispenses.
func dispenseInProcess(t testing.TB, kind string, p goplugin.Plugin) any {
	t.Helper()
	client, server := goplugin.TestPluginGRPCConn(t, false, goplugin.PluginSet{kind: p})
	t.Cleanup(func() {
		// Stop the server first: closing the client first would also stop
		// it (through go-plugin's controller), racing with this Stop.
		server.Stop()
		_ = client.Close()
	})
	raw, err := client.Dispense(kind)
	if err != nil {
		t.Fatalf("sdktest: dispensing %s: %v", kind, err)
	}
	return raw
}
