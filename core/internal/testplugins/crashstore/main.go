// Command crashstore is a test storage plugin named "crashy" that crashes
// in every WriteBatch, to show that a broken plugin costs only its own
// work: the round is stored elsewhere and spooled for this plugin.
package main

import (
	"context"

	sdkplugin "github.com/cscs-dev/cscs/sdk/plugin"
	"github.com/cscs-dev/cscs/sdk/storage"
)

type store struct{}

func (store) Describe(context.Context) (storage.Description, error) {
	return storage.Description{Name: "crashy", Version: "0.0.1"}, nil
}
func (store) Open(context.Context, []byte) error { return nil }
func (store) WriteBatch(_ context.Context, b *storage.Batch) error {
	panic("crashy: cannot store round " + b.RoundID)
}
func (store) Close(context.Context) error { return nil }

func main() { sdkplugin.Serve(sdkplugin.ServeConfig{Storage: store{}}) }
