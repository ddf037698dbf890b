package round

import (
	"time"

	"github.com/cscs-dev/cscs/core/alert"
	"github.com/cscs-dev/cscs/core/config"
	"github.com/cscs-dev/cscs/core/overlay"
)

// Intervals returns the time between two collections of each client,
// Intervals()[i] for Inventory.Clients[i]: the interval of the last
// overlay group of the client that sets one, else base. osOf gives the
// client's OS as last reported ("" when it was never reached), for groups
// that select by OS.
func (p *Plan) Intervals(base time.Duration, osOf func(cl config.Client) string) []time.Duration {
	clients := p.Config.Inventory.Clients
	out := make([]time.Duration, len(clients))
	for i, cl := range clients {
		out[i] = base
		if p.Config.Overlay == nil {
			continue
		}
		if d, ok := overlay.IntervalFor(p.Config.Overlay.GroupsOf(cl.IP, osOf(cl))); ok {
			out[i] = d
		}
	}
	return out
}

// Only returns a plan for the clients at indices (ascending) alone: a
// round of it collects, alerts on and stores those clients and no
// others. It shares everything else with p.
func (p *Plan) Only(indices []int) *Plan {
	if len(indices) == len(p.Config.Inventory.Clients) {
		return p
	}
	inv := *p.Config.Inventory
	inv.Clients = make([]config.Client, 0, len(indices))
	cfg := *p.Config
	// Every per-client slice of the configuration follows the clients.
	cfg.Rules = make([][]alert.Rule, 0, len(indices))
	cfg.Down = make([]alert.DownLimit, 0, len(indices))
	for _, i := range indices {
		inv.Clients = append(inv.Clients, p.Config.Inventory.Clients[i])
		cfg.Rules = append(cfg.Rules, p.Config.Rules[i])
		cfg.Down = append(cfg.Down, p.Config.Down[i])
	}
	cfg.Inventory = &inv
	sub := *p
	sub.Config = &cfg
	return &sub
}
