// Package sources turns a round's source plugins into what each host runs:
// for a platform, the agent's built-in modules to request and the external
// artifacts to ship beside the agent. The plugins are asked once per round
// (Describe) and once per platform (Module), never per host.
package sources

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/cscs-dev/cscs/sdk/source"
)

// Named is a source with the name the operator knows it by (for errors).
type Named struct {
	Name   string
	Source source.Source
}

// Loaded is a source whose description was read.
type Loaded struct {
	Desc   source.Description
	Source source.Source
}

// External is one artifact module for a platform.
type External struct {
	Source   string
	Artifact source.Artifact
	// SHA256 is the hex checksum of Artifact.Data.
	SHA256 string
}

// Plan is what one platform runs.
type Plan struct {
	Builtins []string
	External []External
	// Skipped explains sources that support the platform but failed to
	// say how to measure it; their metrics are missing on its hosts.
	Skipped []string
	// BuiltinSources[i] is the source that asked for Builtins[i].
	BuiltinSources []string
}

// Only returns the part of p that the named sources run, in a new Plan.
func (p Plan) Only(names []string) Plan {
	keep := func(name string) bool { return slices.Contains(names, name) }
	out := Plan{Skipped: p.Skipped}
	for i, b := range p.Builtins {
		if keep(p.BuiltinSources[i]) {
			out.Builtins = append(out.Builtins, b)
			out.BuiltinSources = append(out.BuiltinSources, p.BuiltinSources[i])
		}
	}
	for _, e := range p.External {
		if keep(e.Source) {
			out.External = append(out.External, e)
		}
	}
	return out
}

// Set is the round's sources. It is safe for concurrent use.
type Set struct {
	loaded []Loaded
	units  map[string]string

	mu    sync.Mutex
	plans map[source.Platform]*planOnce
}

type planOnce struct {
	once sync.Once
	plan Plan
}

// Failure is a source left out of the round and why.
type Failure struct {
	// Name is the name the operator knows the source by.
	Name string
	Err  error
}

// Load describes every source. A source that fails to describe itself, or
// repeats another's name, is left out with a Failure in the returned
// list; the round goes on with the rest.
func Load(ctx context.Context, named []Named) (*Set, []Failure) {
	s := &Set{units: make(map[string]string), plans: make(map[source.Platform]*planOnce)}
	var failed []Failure
	seen := make(map[string]string)
	for _, n := range named {
		d, err := n.Source.Describe(ctx)
		if err != nil {
			failed = append(failed, Failure{n.Name, fmt.Errorf("source %s: describe: %w; its metrics are skipped this round", n.Name, err)})
			continue
		}
		if d.Name == "" {
			d.Name = n.Name
		}
		if other, dup := seen[d.Name]; dup {
			failed = append(failed, Failure{n.Name, fmt.Errorf("source %s: name %q is already used by %s; rename one of them", n.Name, d.Name, other)})
			continue
		}
		seen[d.Name] = n.Name
		for _, m := range d.Metrics {
			s.units[m.Name] = m.Unit
		}
		s.loaded = append(s.loaded, Loaded{Desc: d, Source: n.Source})
	}
	return s, failed
}

// Loaded returns the sources that described themselves.
func (s *Set) Loaded() []Loaded { return s.loaded }

// Unit is the declared unit of a metric ("" when undeclared).
func (s *Set) Unit(metric string) (string, bool) {
	u, ok := s.units[metric]
	return u, ok
}

// Descriptions returns what every loaded source said about itself.
func (s *Set) Descriptions() []source.Description {
	out := make([]source.Description, len(s.loaded))
	for i, l := range s.loaded {
		out[i] = l.Desc
	}
	return out
}

// PlanFor returns what hosts of platform p run; computed once per platform.
func (s *Set) PlanFor(ctx context.Context, p source.Platform) Plan {
	s.mu.Lock()
	po, ok := s.plans[p]
	if !ok {
		po = &planOnce{}
		s.plans[p] = po
	}
	s.mu.Unlock()
	po.once.Do(func() { po.plan = s.plan(ctx, p) })
	return po.plan
}

func (s *Set) plan(ctx context.Context, p source.Platform) Plan {
	var pl Plan
	for _, l := range s.loaded {
		name := l.Desc.Name
		if !l.Desc.Supports(p) {
			continue
		}
		m, err := l.Source.Module(ctx, p)
		if err != nil {
			pl.Skipped = append(pl.Skipped, fmt.Sprintf("%s: %v", name, err))
			continue
		}
		switch {
		case m.Builtin != "":
			pl.Builtins = append(pl.Builtins, m.Builtin)
			pl.BuiltinSources = append(pl.BuiltinSources, name)
		case m.Artifact != nil:
			if err := checkArtifact(m.Artifact); err != nil {
				pl.Skipped = append(pl.Skipped, fmt.Sprintf("%s: %v", name, err))
				continue
			}
			sum := sha256.Sum256(m.Artifact.Data)
			pl.External = append(pl.External, External{Source: name, Artifact: *m.Artifact, SHA256: hex.EncodeToString(sum[:])})
		default:
			pl.Skipped = append(pl.Skipped, fmt.Sprintf("%s: the plugin returned neither a built-in module nor an artifact", name))
		}
	}
	sort.Sort(byModule{&pl})
	return pl
}

// byModule sorts a plan's built-in modules by name, keeping each with its
// source.
type byModule struct{ p *Plan }

func (b byModule) Len() int           { return len(b.p.Builtins) }
func (b byModule) Less(i, j int) bool { return b.p.Builtins[i] < b.p.Builtins[j] }
func (b byModule) Swap(i, j int) {
	b.p.Builtins[i], b.p.Builtins[j] = b.p.Builtins[j], b.p.Builtins[i]
	b.p.BuiltinSources[i], b.p.BuiltinSources[j] = b.p.BuiltinSources[j], b.p.BuiltinSources[i]
}

// maxArtifact bounds an artifact a plugin hands over.
const maxArtifact = 64 << 20

func checkArtifact(a *source.Artifact) error {
	switch {
	case len(a.Data) == 0:
		return fmt.Errorf("artifact %q is empty", a.FileName)
	case len(a.Data) > maxArtifact:
		return fmt.Errorf("artifact %q is %d bytes, more than the %d allowed", a.FileName, len(a.Data), maxArtifact)
	case a.FileName == "" || a.FileName != path.Base(a.FileName) || strings.ContainsAny(a.FileName, `\/:`) || strings.HasPrefix(a.FileName, "."):
		return fmt.Errorf("artifact file name %q must be a plain file name", a.FileName)
	}
	return nil
}

// Decoder returns the decoder of the source named name, when the source
// said it decodes its modules' raw output.
func (s *Set) Decoder(name string) (source.Decoder, bool) {
	for _, l := range s.loaded {
		if l.Desc.Name == name && l.Desc.Decodes {
			d, ok := l.Source.(source.Decoder)
			return d, ok
		}
	}
	return nil, false
}
