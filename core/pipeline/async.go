package pipeline

import (
	"context"

	"github.com/cscs-dev/cscs/core/pipeline/sources"
	"github.com/cscs-dev/cscs/sdk/source"
)

// Pending is a pipeline being assembled in the background, so that plugin
// start-up overlaps the first hosts' connect and platform detection.
type Pending struct {
	done chan struct{}
	pipe *Pipeline
	err  error
}

// Start assembles the pipeline in the background.
func Start(ctx context.Context, opts Options) *Pending {
	p := &Pending{done: make(chan struct{})}
	go func() {
		defer close(p.done)
		p.pipe, p.err = Assemble(ctx, opts)
	}()
	return p
}

// Wait returns the assembled pipeline, or ctx's error if ctx ends first.
func (p *Pending) Wait(ctx context.Context) (*Pipeline, error) {
	select {
	case <-p.done:
		return p.pipe, p.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// PlanFor waits for the pipeline and plans platform pl; while the pipeline
// is not there (ctx ended, or assembly failed) the plan is empty with the
// reason in Skipped.
func (p *Pending) PlanFor(ctx context.Context, pl source.Platform) sources.Plan {
	pipe, err := p.Wait(ctx)
	if err != nil {
		return sources.Plan{Skipped: []string{"sources: " + err.Error()}}
	}
	return pipe.Sources.PlanFor(ctx, pl)
}

// Decoder returns a source's decoder once the pipeline is assembled.
func (p *Pending) Decoder(name string) (source.Decoder, bool) {
	select {
	case <-p.done:
		if p.err != nil {
			return nil, false
		}
		return p.pipe.Sources.Decoder(name)
	default:
		return nil, false
	}
}

// Unit returns a metric's declared unit once the pipeline is assembled;
// before that, or if assembly failed, ok is false.
func (p *Pending) Unit(metric string) (string, bool) {
	select {
	case <-p.done:
		if p.err != nil {
			return "", false
		}
		return p.pipe.Sources.Unit(metric)
	default:
		return "", false
	}
}
