package source_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"

	agentauthlog "github.com/cscs-dev/cscs/agent/modules/authlog"
	agentdisk "github.com/cscs-dev/cscs/agent/modules/disk"
	agenteventlog "github.com/cscs-dev/cscs/agent/modules/eventlog"
	agentnet "github.com/cscs-dev/cscs/agent/modules/net"
	"github.com/cscs-dev/cscs/sdk/schema"
	"github.com/cscs-dev/cscs/sdk/sdktest"
)

// moduleSettings describes, for each built-in source whose agent module
// reads settings, the module's Settings struct, its parser, a value for
// every setting the parser accepts, and the agent's bounds that the
// schema's descriptions quote.
func moduleSettings() map[string]struct {
	settings any
	parse    func(json.RawMessage) error
	valid    map[string]any
	bounds   []int
} {
	return map[string]struct {
		settings any
		parse    func(json.RawMessage) error
		valid    map[string]any
		bounds   []int
	}{
		"authlog": {
			settings: agentauthlog.Settings{},
			parse: func(raw json.RawMessage) error {
				_, err := agentauthlog.ParseSettings(raw)
				return err
			},
			valid:  map[string]any{"file": "/var/log/auth.log", "max_events": 100, "first_bytes": 4096},
			bounds: []int{agentauthlog.DefaultMaxEvents, agentauthlog.MaxMaxEvents, agentauthlog.MaxFirstBytes, agentauthlog.DefaultFirstBytes},
		},
		"disk": {
			settings: agentdisk.Settings{},
			parse: func(raw json.RawMessage) error {
				_, err := agentdisk.ParseSettings(raw)
				return err
			},
			valid:  map[string]any{"mounts": []string{"/", "C:"}, "types": []string{"ext4", "NTFS"}, "exclude_mounts": []string{"/mnt/backup"}},
			bounds: []int{agentdisk.MaxListed},
		},
		"eventlog": {
			settings: agenteventlog.Settings{},
			parse: func(raw json.RawMessage) error {
				_, _, err := agenteventlog.ParseSettings(raw)
				return err
			},
			valid: map[string]any{"channel": "System", "first_window": "36h", "event_ids": []int{4624, 4625}, "max": 50},
			bounds: []int{agenteventlog.DefaultMax, agenteventlog.MaxMax, agenteventlog.MaxEventIDs,
				int(agenteventlog.DefaultFirstWindow.Hours()), int(agenteventlog.MaxFirstWindow.Hours())},
		},
		"net": {
			settings: agentnet.Settings{},
			parse: func(raw json.RawMessage) error {
				_, err := agentnet.ParseSettings(raw)
				return err
			},
			valid:  map[string]any{"interfaces": []string{"eth*", "eno1", "Ethernet 2"}, "include_virtual": true},
			bounds: []int{agentnet.MaxInterfaces, agentnet.MaxPatternBytes},
		},
	}
}

// TestSettingsSchemasMatchTheAgent checks each built-in source's declared
// settings against its agent module: the schema names exactly the JSON
// keys of the module's Settings struct with fitting types, the module
// accepts a value of every declared setting, and the bounds the
// descriptions quote are the module's. Sources whose module reads no
// settings declare none.
func TestSettingsSchemasMatchTheAgent(t *testing.T) {
	withSettings := moduleSettings()
	for name, s := range builtinSources(t) {
		t.Run(name, func(t *testing.T) {
			d, err := s.Describe(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if err := d.Settings.Validate(); err != nil {
				t.Fatal(err)
			}
			mod, ok := withSettings[name]
			if !ok {
				if len(d.Settings.Attributes) > 0 {
					t.Fatalf("source %s declares settings %q, but the agent's module reads none", name, d.Settings.Names())
				}
				return
			}
			sdktest.SchemaMatchesStruct(t, d.Settings, mod.settings)
			checkAcceptsEverySetting(t, d.Settings, mod.valid, mod.parse)
			text := descriptions(d.Settings)
			for _, b := range mod.bounds {
				if !strings.Contains(text, strconv.Itoa(b)) {
					t.Errorf("the agent's %s module has the bound %d, which no setting's description of source %s quotes:\n%s", name, b, name, text)
				}
			}
		})
	}
	for name := range withSettings {
		if _, ok := builtinSources(t)[name]; !ok {
			t.Errorf("the agent's %s module reads settings, but no built-in source is named %s", name, name)
		}
	}
}

// checkAcceptsEverySetting passes parse one object holding every declared
// setting, then each setting alone.
func checkAcceptsEverySetting(t *testing.T, s schema.Schema, valid map[string]any, parse func(json.RawMessage) error) {
	t.Helper()
	for _, name := range s.Names() {
		if _, ok := valid[name]; !ok {
			t.Fatalf("the test has no valid value for setting %q: add one", name)
		}
	}
	all, _ := json.Marshal(valid)
	if err := parse(all); err != nil {
		t.Errorf("the agent refuses %s: %v", all, err)
	}
	for _, name := range s.Names() {
		one, _ := json.Marshal(map[string]any{name: valid[name]})
		if err := parse(one); err != nil {
			t.Errorf("the agent refuses %s: %v", one, err)
		}
	}
}

// descriptions lists the attributes' names and descriptions, one a line.
func descriptions(s schema.Schema) string {
	var b strings.Builder
	for _, a := range s.Attributes {
		fmt.Fprintf(&b, "%s: %s\n", a.Name, a.Description)
	}
	return b.String()
}

// TestSourcesPassConformanceWithTheirSettings runs the SDK conformance
// checks, schema validation included, on every built-in source over gRPC.
func TestSourcesPassConformanceWithTheirSettings(t *testing.T) {
	for name, s := range builtinSources(t) {
		t.Run(name, func(t *testing.T) {
			sdktest.SourceConformance(t, sdktest.Source(t, s))
		})
	}
}
