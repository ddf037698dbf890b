package plugin_test

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"os/exec"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/sdk/notifier"
	sdkplugin "github.com/cscs-dev/cscs/sdk/plugin"
	"github.com/cscs-dev/cscs/sdk/sdktest"
	"github.com/cscs-dev/cscs/sdk/storage"
)

func TestHandshake(t *testing.T) {
	t.Parallel()
	h := sdkplugin.Handshake()
	if h.ProtocolVersion != sdkplugin.ProtocolVersion {
		t.Errorf("ProtocolVersion = %d, want %d", h.ProtocolVersion, sdkplugin.ProtocolVersion)
	}
	if h.MagicCookieKey != "CSCS_PLUGIN" || len(h.MagicCookieValue) < 32 {
		t.Errorf("cookie %s=%q: want CSCS_PLUGIN and a long fixed value", h.MagicCookieKey, h.MagicCookieValue)
	}
	if h != sdkplugin.Handshake() {
		t.Error("Handshake is not stable")
	}
}

func TestClientPluginSets(t *testing.T) {
	t.Parallel()
	sets := sdkplugin.ClientPluginSets()
	set, ok := sets[sdkplugin.ProtocolVersion]
	if !ok || len(sets) != 1 {
		t.Fatalf("sets for versions %v, want only %d", slices.Collect(maps.Keys(sets)), sdkplugin.ProtocolVersion)
	}
	for _, kind := range append(sdkplugin.Kinds(), sdkplugin.KindInfo) {
		if set[kind] == nil {
			t.Errorf("no plugin for %q", kind)
		}
	}
	delete(set, sdkplugin.KindStorage)
	if sdkplugin.ClientPluginSets()[sdkplugin.ProtocolVersion][sdkplugin.KindStorage] == nil {
		t.Error("changing one returned set changed the next")
	}
}

func TestServeWithoutPluginPanics(t *testing.T) {
	t.Parallel()
	defer func() {
		r := recover()
		if r == nil || !strings.Contains(fmt.Sprint(r), "sets no plugin") {
			t.Errorf("recover() = %v, want a panic saying no plugin is set", r)
		}
	}()
	sdkplugin.Serve(sdkplugin.ServeConfig{})
}

// TestServedBinary starts a real plugin binary that serves every kind and
// talks to it the way the core does.
func TestServedBinary(t *testing.T) {
	t.Parallel()
	bin := sdktest.Build(t, "./testdata/allkinds")

	t.Run("refuses to run by hand", func(t *testing.T) {
		t.Parallel()
		var stdout, stderr bytes.Buffer
		cmd := exec.CommandContext(t.Context(), bin)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 1 {
			t.Errorf("run by hand: %v, want exit status 1", err)
		}
		if !strings.Contains(stderr.String(), "This binary is a plugin") {
			t.Errorf("stderr = %q, want go-plugin's notice", stderr.String())
		}
		if stdout.Len() != 0 {
			t.Errorf("stdout = %q, want nothing", stdout.String())
		}
	})

	t.Run("serves every kind", func(t *testing.T) {
		t.Parallel()
		p := sdktest.Launch(t, bin)
		if got, want := p.Kinds(), []string{"source", "storage", "notifier"}; !reflect.DeepEqual(got, want) {
			t.Errorf("Kinds = %v, want %v", got, want)
		}
		if got := p.SourceNames(); len(got) != 0 {
			t.Errorf("SourceNames = %v, want none for a binary serving one source", got)
		}
		sdktest.StorageConformance(t, p.Storage(), []byte(`{"ok":true}`))
		sdktest.SourceConformance(t, p.Source())
		sdktest.NotifierConformance(t, p.Notifier(), nil)
	})

	t.Run("carries messages larger than 4 MiB", func(t *testing.T) {
		t.Parallel()
		p := sdktest.Launch(t, bin)
		s := p.Storage()
		if err := s.Open(t.Context(), []byte(`{"ok":true}`)); err != nil {
			t.Fatal(err)
		}
		const n = 120_000 // about 6 MiB on the wire
		c := storage.Collection{HostIP: "10.0.0.1", Status: storage.StatusOK}
		for i := range n {
			c.Samples = append(c.Samples, storage.Sample{
				Metric: "cpu.used_percent", Value: float64(i), Unit: "percent", Time: time.Unix(int64(i), 1),
			})
		}
		err := s.WriteBatch(t.Context(), &storage.Batch{RoundID: "count", Collections: []storage.Collection{c}})
		if want := fmt.Sprintf("received %d samples", n); err == nil || err.Error() != want {
			t.Errorf("WriteBatch error = %v, want the plugin's %q", err, want)
		}
	})

	t.Run("plugin errors come back with their message and kind", func(t *testing.T) {
		t.Parallel()
		p := sdktest.Launch(t, bin)
		err := p.Storage().Open(t.Context(), []byte(`{}`))
		if want := `config must be {"ok":true}, got {}`; err == nil || err.Error() != want {
			t.Errorf("Open error = %v, want %q", err, want)
		}
		err = p.Notifier().Send(t.Context(), notifier.Notification{Subject: "fail"})
		if err == nil || err.Error() != "mail server busy" || !notifier.IsTemporary(err) {
			t.Errorf("Send error = %v (temporary %t), want the temporary \"mail server busy\"", err, notifier.IsTemporary(err))
		}
	})
}
