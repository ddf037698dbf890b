package serve

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/core/round"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// planOf loads a config.xml and an overlay written into a temporary
// directory and plans with them; no host is contacted.
func planOf(t *testing.T, inventory, overlay string) *round.Plan {
	t.Helper()
	dir := t.TempDir()
	files := round.Files{Inventory: filepath.Join(dir, "config.xml"), Email: filepath.Join(dir, "email_config.json")}
	if err := os.WriteFile(files.Inventory, []byte(inventory), 0o600); err != nil {
		t.Fatal(err)
	}
	if overlay != "" {
		files.Overlays = []string{filepath.Join(dir, "groups.hcl")}
		if err := os.WriteFile(files.Overlays[0], []byte(overlay), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var diags strings.Builder
	cfg, err := round.Load(context.Background(), files, round.LoadOptions{Version: "test"}, &diags)
	if err != nil {
		t.Fatalf("Load: %v\n%s", err, diags.String())
	}
	plan, err := round.NewPlan(cfg, round.DefaultSettings(), round.Environment{Version: "test", DataDir: filepath.Join(dir, "data")})
	if err != nil {
		t.Fatal(err)
	}
	return plan
}

const threeClients = `<clients>
  <client ip="10.9.0.1" username="u" password="p" mail="ops@example.com"/>
  <client ip="10.9.0.2" username="u" password="p" mail="ops@example.com"/>
  <client ip="10.9.1.1" username="u" password="p" mail="ops@example.com"/>
</clients>
`

// TestGroupIntervals: with a one-second global interval and a group
// collected every four seconds, rounds come every second, the group's
// hosts are in every fourth of them and the others in each; a group with
// a shorter interval sets the tick. A host never collected is due at once.
func TestGroupIntervals(t *testing.T) {
	tests := []struct {
		name, overlay string
		base          time.Duration
		wantTick      time.Duration
		// due[k] lists the clients due at t0 + k ticks.
		due [][]string
	}{
		{
			name:     "no groups",
			base:     time.Second,
			wantTick: time.Second,
			due:      [][]string{{"10.9.0.1", "10.9.0.2", "10.9.1.1"}, {"10.9.0.1", "10.9.0.2", "10.9.1.1"}},
		},
		{
			name:     "a slower group",
			overlay:  "group \"slow\" {\n  ips = [\"10.9.1.0/24\"]\n  interval = \"4s\"\n}\n",
			base:     time.Second,
			wantTick: time.Second,
			due: [][]string{
				{"10.9.0.1", "10.9.0.2", "10.9.1.1"}, {"10.9.0.1", "10.9.0.2"}, {"10.9.0.1", "10.9.0.2"},
				{"10.9.0.1", "10.9.0.2"}, {"10.9.0.1", "10.9.0.2", "10.9.1.1"},
			},
		},
		{
			name:     "a faster group sets the tick",
			overlay:  "group \"fast\" {\n  ips = [\"10.9.0.2\"]\n  interval = \"2s\"\n}\n",
			base:     6 * time.Second,
			wantTick: 2 * time.Second,
			due: [][]string{
				{"10.9.0.1", "10.9.0.2", "10.9.1.1"}, {"10.9.0.2"}, {"10.9.0.2"}, {"10.9.0.1", "10.9.0.2", "10.9.1.1"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := New(planOf(t, threeClients, tt.overlay), nil, Options{Interval: tt.base, Jitter: -1})
			t0 := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
			for k, want := range tt.due {
				// A little late, as a jittered start is.
				now := t0.Add(time.Duration(k)*tt.wantTick + 50*time.Millisecond)
				plan, tick := svc.due(now)
				if tick != tt.wantTick {
					t.Fatalf("tick %d: %s, want %s", k, tick, tt.wantTick)
				}
				var got []string
				var batch storage.Batch
				if plan != nil {
					for _, cl := range plan.Config.Inventory.Clients {
						got = append(got, cl.IP)
						batch.Collections = append(batch.Collections, storage.Collection{HostIP: cl.IP, HostPort: cl.Port, Status: storage.StatusOK, FinishedAt: now})
					}
					if n := len(plan.Config.Inventory.Clients); len(plan.Config.Rules) != n || len(plan.Config.Down) != n {
						t.Fatalf("tick %d: %d rule lists and %d down limits for %d clients", k, len(plan.Config.Rules), len(plan.Config.Down), n)
					}
				}
				if !slices.Equal(got, want) {
					t.Fatalf("tick %d: due %v, want %v", k, got, want)
				}
				svc.record(&round.Result{Batch: &batch}, now)
			}
			if got := len(svc.Hosts()); got != 3 {
				t.Errorf("Hosts() lists %d hosts, want every collected one (3)", got)
			}
		})
	}
}

// TestPlanIntervalWins: the plan's interval (the overlay's round block, or
// --interval) is the base one, so a reload that changes it changes the
// schedule; Options.Interval serves only a plan without one.
func TestPlanIntervalWins(t *testing.T) {
	plan := planOf(t, threeClients, "")
	svc := New(plan, nil, Options{Interval: time.Minute, Jitter: -1})
	if _, tick := svc.due(time.Now()); tick != time.Minute {
		t.Errorf("tick %s without a plan interval, want Options.Interval (1m)", tick)
	}
	reloaded := *plan
	reloaded.Settings.Interval = 5 * time.Second
	svc.plan = &reloaded
	if _, tick := svc.due(time.Now()); tick != 5*time.Second || svc.Tick() != 5*time.Second {
		t.Errorf("tick %s (Tick %s) with a plan interval of 5s", tick, svc.Tick())
	}
}

// TestClusterDue: a cluster's schedule is the same on every member, from
// the configuration alone: the tick is the shortest interval, a group
// collected every fourth tick is due in the intervals whose number since
// the Unix epoch is a multiple of 4, and each host carries its groups for
// the sites.
func TestClusterDue(t *testing.T) {
	overlay := "group \"slow\" {\n  ips = [\"10.9.1.0/24\"]\n  interval = \"4s\"\n}\ngroup \"paris\" {\n  ips = [\"10.9.0.0/16\"]\n}\n"
	for _, member := range []string{"a", "b"} {
		t.Run(member, func(t *testing.T) {
			f := &clusterFleet{s: New(planOf(t, threeClients, overlay), nil, Options{Interval: time.Second, Jitter: -1})}
			tick := f.Tick()
			if tick != time.Second {
				t.Fatalf("tick %s, want 1s", tick)
			}
			epoch4 := time.Unix(1_796_000_000, 0) // a multiple of 4 s
			for k := range 8 {
				var got []string
				for _, h := range f.Due(epoch4.Add(time.Duration(k)*tick), tick) {
					got = append(got, h.Label+"@"+strings.Join(h.Groups, "+"))
				}
				want := []string{"10.9.0.1@paris", "10.9.0.2@paris"}
				if k%4 == 0 {
					want = append(want, "10.9.1.1@slow+paris")
				}
				if !slices.Equal(got, want) {
					t.Errorf("interval %d: due %v, want %v", k, got, want)
				}
			}
		})
	}
}
