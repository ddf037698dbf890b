package round

import (
	"context"
	"strings"
	"testing"

	"github.com/cscs-dev/cscs/core/demo"
	"github.com/cscs-dev/cscs/core/internal/testagent"
)

// startDemo starts an in-process SSH fleet of hosts with a local mail
// sink, closed when the test ends; -short skips the test.
func startDemo(t *testing.T, hosts int) *demo.Demo {
	t.Helper()
	if testing.Short() {
		t.Skip("runs rounds against an in-process SSH fleet")
	}
	d, err := demo.Start(context.Background(), demo.Options{Dir: t.TempDir(), Hosts: hosts, User: "demo"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	return d
}

// demoPlan loads d's configuration files as they are now and plans
// rounds with them as a server would, without a CPU sampling window;
// adjust, when not nil, changes the environment first.
func demoPlan(t *testing.T, d *demo.Demo, adjust func(*Environment)) *Plan {
	t.Helper()
	var diags strings.Builder
	cfg, err := Load(context.Background(), Files{Inventory: d.Inventory, Email: d.Email}, LoadOptions{Version: "test"}, &diags)
	if err != nil {
		t.Fatalf("Load: %v\n%s", err, diags.String())
	}
	settings := DefaultSettings()
	settings.CPUSample = 0
	env := Environment{Version: "test", DataDir: d.DataDir, AgentDir: testagent.Dir(t), DB: d.DB, InProcessPlugins: true}
	if adjust != nil {
		adjust(&env)
	}
	plan, err := NewPlan(cfg, settings, env)
	if err != nil {
		t.Fatal(err)
	}
	return plan
}
