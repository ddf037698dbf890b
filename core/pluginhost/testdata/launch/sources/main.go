// Command sources is a test plugin binary serving two sources from one
// process, as `cscs plugin serve sources` does; "slow" answers Module only
// after its context ends.
package main

import (
	"context"

	sdkplugin "github.com/cscs-dev/cscs/sdk/plugin"
	"github.com/cscs-dev/cscs/sdk/source"
)

type named struct{ name string }

func (n named) Describe(context.Context) (source.Description, error) {
	return source.Description{Name: n.name, Version: "0.1.0", Platforms: []string{"linux/*"}}, nil
}

func (n named) Module(ctx context.Context, _ source.Platform) (source.Module, error) {
	if n.name == "slow" {
		<-ctx.Done()
		return source.Module{}, ctx.Err()
	}
	return source.Module{Builtin: n.name}, nil
}

func main() {
	sdkplugin.Serve(sdkplugin.ServeConfig{Sources: map[string]source.Source{
		"fast": named{name: "fast"},
		"slow": named{name: "slow"},
	}})
}
