// Package plugin is what a CSCS plugin binary and the CSCS core share to
// talk to each other: the handshake, the plugin kinds, Serve for the
// plugin's main and the plugin sets a host dispenses from. Other packages
// import it as sdkplugin.
//
// A plugin's main is one call:
//
//	func main() {
//		sdkplugin.Serve(sdkplugin.ServeConfig{Storage: &mystore.Store{}})
//	}
//
// Plugins run as child processes of the core and speak gRPC over
// hashicorp/go-plugin; the protocol of each kind is in sdk/proto.
package plugin

import (
	goplugin "github.com/hashicorp/go-plugin"

	"github.com/cscs-dev/cscs/sdk/internal/convert"
	"github.com/cscs-dev/cscs/sdk/notifier"
	"github.com/cscs-dev/cscs/sdk/source"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// ProtocolVersion is the version of the plugin protocol this SDK speaks
// (the v1 packages of sdk/proto). A host and a plugin must agree on it.
const ProtocolVersion = 1

// The plugin kinds. They are also the names in a go-plugin PluginSet.
const (
	KindSource   = "source"
	KindStorage  = "storage"
	KindNotifier = "notifier"
	// KindInfo is the service every plugin binary serves beside its
	// plugins; dispensing it yields an Info.
	KindInfo = "info"
)

// Kinds lists the plugin kinds in a stable order (KindInfo is no plugin
// kind).
func Kinds() []string {
	return []string{KindSource, KindStorage, KindNotifier}
}

// magicCookieKey and magicCookieValue keep a plugin binary from running as
// a plugin when started by hand. They are a courtesy, not a security
// measure: trust comes from the checksum the host pins.
const (
	magicCookieKey   = "CSCS_PLUGIN"
	magicCookieValue = "4663fcd96f5cfa904e233b6c07e6dfe8900be62c37f80c92"
)

// EnvLogLevel names the environment variable through which a host tells a
// plugin the hclog level to log at ("trace", "debug", "info", "warn",
// "error"); NewLogger reads it. Unset means "info".
const EnvLogLevel = "CSCS_PLUGIN_LOG_LEVEL"

// ErrUnavailable is wrapped by the error of a call on a dispensed plugin
// that could not reach the plugin at all: its process exited or the
// connection broke. Test for it with errors.Is.
var ErrUnavailable = convert.ErrUnavailable

// Handshake returns the handshake a host and a plugin must both use.
func Handshake() goplugin.HandshakeConfig {
	return goplugin.HandshakeConfig{
		ProtocolVersion:  ProtocolVersion,
		MagicCookieKey:   magicCookieKey,
		MagicCookieValue: magicCookieValue,
	}
}

// ClientPluginSets returns what a host passes as go-plugin's
// ClientConfig.VersionedPlugins. Dispensing KindStorage yields a
// storage.Storage, KindSource a source.Source (that is also a
// source.Decoder), KindNotifier a notifier.Notifier and KindInfo an Info.
// Each call returns a new map.
func ClientPluginSets() map[int]goplugin.PluginSet {
	return map[int]goplugin.PluginSet{
		ProtocolVersion: {
			KindSource:   &source.GRPCPlugin{},
			KindStorage:  &storage.GRPCPlugin{},
			KindNotifier: &notifier.GRPCPlugin{},
			KindInfo:     &infoGRPCPlugin{},
		},
	}
}
