// Command protocol2 is a storage plugin built for plugin protocol 2, which
// this cscs does not speak.
package main

import (
	"context"

	goplugin "github.com/hashicorp/go-plugin"

	sdkplugin "github.com/cscs-dev/cscs/sdk/plugin"
	"github.com/cscs-dev/cscs/sdk/storage"
)

type store struct{}

func (store) Describe(context.Context) (storage.Description, error) {
	return storage.Description{Name: "future"}, nil
}
func (store) Open(context.Context, []byte) error               { return nil }
func (store) WriteBatch(context.Context, *storage.Batch) error { return nil }
func (store) Close(context.Context) error                      { return nil }

func main() {
	handshake := sdkplugin.Handshake()
	handshake.ProtocolVersion = 2
	goplugin.Serve(&goplugin.ServeConfig{
		HandshakeConfig: handshake,
		VersionedPlugins: map[int]goplugin.PluginSet{
			2: {sdkplugin.KindStorage: &storage.GRPCPlugin{Impl: store{}}},
		},
		GRPCServer: goplugin.DefaultGRPCServer,
	})
}
