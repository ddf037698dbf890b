package round

import (
	"encoding/json"
	"fmt"
	"maps"

	"github.com/cscs-dev/cscs/core/config"
	"github.com/cscs-dev/cscs/core/overlay"
	"github.com/cscs-dev/cscs/core/round/remote"
	"github.com/cscs-dev/cscs/sdk/source"
)

// hostPolicy applies the overlay's groups to each host: the sources they
// allow and their module settings.
type hostPolicy struct {
	ov *overlay.Overlay
	// modules caches each module block's JSON by group and source.
	modules map[string]json.RawMessage
}

// newHostPolicy prepares the module settings of every group; the
// settings of the round (base) win over a group's, key by key.
func newHostPolicy(ov *overlay.Overlay, base map[string]json.RawMessage) (*hostPolicy, error) {
	p := &hostPolicy{ov: ov, modules: map[string]json.RawMessage{}}
	for _, g := range ov.Groups {
		for _, m := range g.Modules {
			raw, err := m.JSON()
			if err == nil {
				raw, err = mergeObjects(raw, base[m.Source])
			}
			if err != nil {
				return nil, fmt.Errorf("group %s module %s: %w", g.Name, m.Source, err)
			}
			p.modules[g.Name+"/"+m.Source] = raw
		}
	}
	return p, nil
}

// mergeObjects returns the JSON object a with the keys of over replacing
// its own.
func mergeObjects(a, over json.RawMessage) (json.RawMessage, error) {
	if len(over) == 0 {
		return a, nil
	}
	var merged, top map[string]json.RawMessage
	if err := json.Unmarshal(a, &merged); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(over, &top); err != nil {
		return nil, err
	}
	if merged == nil {
		merged = map[string]json.RawMessage{}
	}
	maps.Copy(merged, top)
	return json.Marshal(merged)
}

// ForHost is the sources and module settings of the groups cl is in on
// platform pl.
func (p *hostPolicy) ForHost(cl config.Client, pl source.Platform) remote.HostPlan {
	groups := p.ov.GroupsOf(cl.IP, pl.OS)
	plan := remote.HostPlan{Sources: overlay.SourcesFor(groups)}
	for _, g := range groups {
		for _, m := range g.Modules {
			if plan.ModuleConfig == nil {
				plan.ModuleConfig = map[string]json.RawMessage{}
			}
			plan.ModuleConfig[m.Source] = p.modules[g.Name+"/"+m.Source]
		}
	}
	return plan
}
