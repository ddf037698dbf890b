package remote

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/core/config"
	"github.com/cscs-dev/cscs/core/internal/testkey"
	"github.com/cscs-dev/cscs/core/pipeline/sources"
	"github.com/cscs-dev/cscs/sdk/source"
)

// memCursors is a CursorStore in memory; failRead makes every read fail.
type memCursors struct {
	m        map[string]string
	failRead bool
}

func (s *memCursors) Cursor(_ context.Context, ip string, port int, ch string) (string, bool, error) {
	if s.failRead {
		return "", false, errors.New("state database is locked")
	}
	c, ok := s.m[fmt.Sprintf("%s:%d/%s", ip, port, ch)]
	return c, ok, nil
}

func (s *memCursors) SetCursor(_ context.Context, ip string, port int, ch, c string) error {
	s.m[fmt.Sprintf("%s:%d/%s", ip, port, ch)] = c
	return nil
}

// authlogOnly plans the agent's authlog module alone.
type authlogOnly struct{}

func (authlogOnly) PlanFor(context.Context, source.Platform) sources.Plan {
	return sources.Plan{Builtins: []string{"authlog"}}
}
func (authlogOnly) Decoder(string) (source.Decoder, bool) { return nil, false }
func (authlogOnly) Unit(string) (string, bool)            { return "", false }

// realAgentOnOneHost starts a one-host fleet and returns its client and
// the Settings that reach it with this machine's agent and a fresh core
// key; callers add what they test.
func realAgentOnOneHost(t *testing.T) (config.Client, Settings) {
	t.Helper()
	id := testkey.New(t)
	agent := thisMachinesAgent(t)
	h, hostKeys := oneHostFleet(t, "")
	return demoClient(h), Settings{Identity: id, Agents: fakeAgents{data: agent}, HostKeys: hostKeys,
		ConnectTimeout: 2 * time.Second, HandshakeTimeout: 2 * time.Second}
}

func TestCollectKeepsCursors(t *testing.T) {
	onlyOnLinux(t, "the authlog module runs on Linux")
	ctx := context.Background()
	client, settings := realAgentOnOneHost(t)
	logFile := filepath.Join(t.TempDir(), "auth.log")
	appendLine := func(user string) {
		f, err := os.OpenFile(logFile, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(f, "Jan  2 15:04:05 h sshd[1]: Failed password for %s from 10.0.0.1 port 22 ssh2\n", user)
		f.Close()
	}
	store := &memCursors{m: map[string]string{}}
	authlogSettings, _ := json.Marshal(map[string]string{"file": logFile})
	settings.Sources = authlogOnly{}
	settings.Cursors = store
	settings.ModuleConfig = map[string]json.RawMessage{"authlog": authlogSettings}
	c := New(settings)
	key := fmt.Sprintf("%s:%d/authlog", client.IP, client.Port)

	rounds := []struct {
		appendUser string
		failRead   bool
		wantUsers  []string
	}{
		{appendUser: "first", wantUsers: []string{"first"}},
		{wantUsers: nil},
		{appendUser: "second", wantUsers: []string{"second"}},
		// An unreadable cursor store: the module starts over (bounded) and
		// the round still succeeds.
		{failRead: true, wantUsers: []string{"first", "second"}},
	}
	for i, r := range rounds {
		if r.appendUser != "" {
			appendLine(r.appendUser)
		}
		store.failRead = r.failRead
		before := store.m[key]
		col := c.Collect(ctx, client)
		if col.Status != "ok" || col.Error != "" {
			t.Fatalf("round %d: status %s error %q", i+1, col.Status, col.Error)
		}
		var got []string
		for _, e := range col.Events {
			got = append(got, e.Fields["user"])
		}
		if fmt.Sprint(got) != fmt.Sprint(r.wantUsers) {
			t.Fatalf("round %d: event users %v, want %v", i+1, got, r.wantUsers)
		}
		if store.m[key] == "" {
			t.Fatalf("round %d: no cursor stored", i+1)
		}
		if r.appendUser != "" && store.m[key] == before {
			t.Errorf("round %d: cursor did not advance past the new line", i+1)
		}
	}
}

// echoConf plans one external module, a script that reports the
// "threshold" of the config it receives.
type echoConf struct{ script []byte }

func (e echoConf) PlanFor(context.Context, source.Platform) sources.Plan {
	sum := sha256.Sum256(e.script)
	return sources.Plan{External: []sources.External{{Source: "echoconf", SHA256: hex.EncodeToString(sum[:]),
		Artifact: source.Artifact{FileName: "echoconf.sh", Data: e.script, Interpreter: []string{"/bin/sh"}}}}}
}
func (echoConf) Decoder(string) (source.Decoder, bool) { return nil, false }
func (echoConf) Unit(string) (string, bool)            { return "", false }

// confPolicy gives every host the settings of the echoconf source.
type confPolicy struct{ settings json.RawMessage }

func (p confPolicy) ForHost(config.Client, source.Platform) HostPlan {
	if p.settings == nil {
		return HostPlan{}
	}
	return HostPlan{ModuleConfig: map[string]json.RawMessage{"echoconf": p.settings}}
}

// TestExternalModuleGetsItsSettings: a group's settings for an external
// source reach its module as the exec protocol's config.
func TestExternalModuleGetsItsSettings(t *testing.T) {
	onlyOnLinux(t, "the module is a shell script")
	ctx := context.Background()
	client, base := realAgentOnOneHost(t)
	script := []byte(`req=$(cat)
v=$(printf '%s' "$req" | sed -n 's/.*"threshold":\([0-9]*\).*/\1/p')
printf '{"metrics":[{"name":"echoconf.threshold","value":%s,"unit":"count"}]}\n' "${v:-0}"
`)
	tests := []struct {
		name     string
		settings json.RawMessage
		want     float64
	}{
		{name: "settings given", settings: json.RawMessage(`{"threshold": 7}`), want: 7},
		{name: "no settings", want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			settings := base
			settings.Sources = echoConf{script: script}
			settings.Policy = confPolicy{settings: tt.settings}
			c := New(settings)
			col := c.Collect(ctx, client)
			if col.Status != "ok" || col.Error != "" {
				t.Fatalf("status %s error %q", col.Status, col.Error)
			}
			got, found := 0.0, false
			for _, s := range col.Samples {
				if s.Metric == "echoconf.threshold" {
					got, found = s.Value, true
				}
			}
			if !found || got != tt.want {
				t.Errorf("echoconf.threshold = %v (found %v), want %v; samples %+v", got, found, tt.want, col.Samples)
			}
		})
	}
}
