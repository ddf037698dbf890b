package round

import (
	"slices"
	"testing"

	"github.com/cscs-dev/cscs/core/alert"
	"github.com/cscs-dev/cscs/core/config"
)

// TestOnly: a plan for some clients carries each one's own rules and
// down limit, in order, and leaves the whole plan as it was.
func TestOnly(t *testing.T) {
	clients := []config.Client{{IP: "10.0.0.1"}, {IP: "10.0.0.2"}, {IP: "10.0.0.3"}}
	rules := [][]alert.Rule{{{ID: "a"}}, {{ID: "b"}}, {{ID: "c"}}}
	down := []alert.DownLimit{{}, {Set: true, Rounds: 7}, {Set: true}}
	p := &Plan{Config: &Config{Inventory: &config.Config{Clients: clients}, Rules: rules, Down: down}}
	sub := p.Only([]int{1, 2})
	var ips, ids []string
	for i, cl := range sub.Config.Inventory.Clients {
		ips = append(ips, cl.IP)
		ids = append(ids, sub.Config.Rules[i][0].ID)
	}
	if !slices.Equal(ips, []string{"10.0.0.2", "10.0.0.3"}) || !slices.Equal(ids, []string{"b", "c"}) {
		t.Errorf("Only(1, 2): clients %v with rules %v", ips, ids)
	}
	if !slices.Equal(sub.Config.Down, down[1:]) {
		t.Errorf("Only(1, 2): down limits %v, want %v", sub.Config.Down, down[1:])
	}
	if len(p.Config.Inventory.Clients) != 3 || len(p.Config.Rules) != 3 {
		t.Error("Only changed the whole plan")
	}
	if p.Only([]int{0, 1, 2}) != p {
		t.Error("Only of every client is not the plan itself")
	}
}
