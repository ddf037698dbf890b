package main

import (
	"slices"
	"testing"

	sdkplugin "github.com/cscs-dev/cscs/sdk/plugin"
	"github.com/cscs-dev/cscs/sdk/sdktest"
)

// TestLaunchedPlugin builds this main package and starts it the way the
// CSCS core does, then asks it what the in-process tests ask.
func TestLaunchedPlugin(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and launches the plugin binary; skipped with -short")
	}
	t.Parallel()
	plugin := sdktest.Launch(t, sdktest.Build(t, "."))
	if kinds := plugin.Kinds(); !slices.Equal(kinds, []string{sdkplugin.KindSource}) {
		t.Fatalf("the binary serves %v, want only a source", kinds)
	}
	s := plugin.Source()

	t.Run("conformance", func(t *testing.T) { sdktest.SourceConformance(t, s) })
	t.Run("describe", func(t *testing.T) { checkDescription(t, s) })
	t.Run("module", func(t *testing.T) { checkModules(t, s) })
}
