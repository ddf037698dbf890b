package serve

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cscs-dev/cscs/core/cluster"
	"github.com/cscs-dev/cscs/core/config"
	"github.com/cscs-dev/cscs/core/round"
	"github.com/cscs-dev/cscs/core/state"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// RunCluster runs the service as a member of a cluster (package cluster)
// until ctx ends: instead of a schedule of its own, it collects the
// chunks of hosts that the cluster's jobs give it, and delivers the
// shared outbox beside them (the outbox's claims send each notification
// once, whichever member sends it). It returns an error when it cannot
// join the cluster.
func (s *Service) RunCluster(ctx context.Context, opts cluster.Options) error {
	m, stop := s.startMailer(ctx)
	defer stop()
	if opts.Logger == nil {
		opts.Logger = s.opts.Logger
	}
	settings := s.currentPlan().Settings
	if opts.Chunk <= 0 {
		opts.Chunk = cluster.DefaultChunk
	}
	if opts.Workers <= 0 {
		// As many hosts at once as --concurrency allows a round.
		opts.Workers = (settings.Concurrency + opts.Chunk - 1) / opts.Chunk
	}
	if opts.JobTimeout <= 0 {
		opts.JobTimeout = jobTimeout(settings, opts.Chunk)
	}
	member, err := cluster.Join(ctx, opts, &clusterFleet{s: s, mailer: m})
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.member = member
	s.mu.Unlock()
	return member.Run(ctx)
}

// jobTimeout bounds a cluster job of chunk hosts: as many host timeouts
// as the round's concurrency needs for them, and a minute for the plugins
// and the storing.
func jobTimeout(settings round.Settings, chunk int) time.Duration {
	waves := (chunk + settings.Concurrency - 1) / settings.Concurrency
	return time.Duration(waves)*settings.HostTimeout + time.Minute
}

// ClusterOptions checks the cluster flags of `cscs serve` against plan
// (--cluster given, the state on PostgreSQL, each --site an overlay group)
// and returns the cluster's options; an error names the flag and the fix.
func ClusterOptions(plan *round.Plan, inCluster bool, sites []string, chunk int) (*cluster.Options, error) {
	switch {
	case !inCluster:
		return nil, errors.New("--site and --cluster-chunk go with --cluster")
	case !state.IsPostgres(plan.Env.State):
		return nil, errors.New("--cluster needs --state postgres://…: the instances of a cluster share their state on PostgreSQL")
	case chunk < 1:
		return nil, fmt.Errorf("--cluster-chunk %d: want 1 or more hosts a job", chunk)
	}
	for _, site := range sites {
		if err := cluster.CheckSite(site); err != nil {
			return nil, fmt.Errorf("--site: %w", err)
		}
		if !hasGroup(plan, site) {
			return nil, fmt.Errorf("--site %s: no overlay group %q; a site is an overlay group (group \"%s\" { … } in an --overlay file)", site, site, site)
		}
	}
	return &cluster.Options{State: plan.Env.State, Sites: sites, Chunk: chunk}, nil
}

// hasGroup reports whether the overlays of plan have a group named name.
func hasGroup(plan *round.Plan, name string) bool {
	if plan.Config.Overlay == nil {
		return false
	}
	for _, g := range plan.Config.Overlay.Groups {
		if g.Name == name {
			return true
		}
	}
	return false
}

// clusterMember is the cluster the service is a member of; nil when it
// runs its own schedule.
func (s *Service) clusterMember() *cluster.Member {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.member
}

// clusterFleet is the service as a cluster sees it.
type clusterFleet struct {
	s      *Service
	mailer *mailer
}

// Tick is the shortest interval of the clients. A cluster cannot know
// which OS a host runs before someone collects it, so groups that
// select by OS do not set intervals in a cluster.
func (f *clusterFleet) Tick() time.Duration {
	f.s.mu.Lock()
	defer f.s.mu.Unlock()
	_, tick := f.s.intervalsLocked(noOS)
	return tick
}

// noOS is the OS of every client for a cluster's schedule: unknown.
func noOS(config.Client) string { return "" }

// Due returns the clients due in the interval of length tick starting at
// slot: a client whose interval is n ticks is due in every n-th interval
// since the Unix epoch, so every member answers alike.
func (f *clusterFleet) Due(slot time.Time, tick time.Duration) []cluster.Host {
	f.s.mu.Lock()
	defer f.s.mu.Unlock()
	intervals, _ := f.s.intervalsLocked(noOS)
	n := slot.UnixNano() / int64(tick)
	var out []cluster.Host
	for i, cl := range f.s.plan.Config.Inventory.Clients {
		every := max(1, int64((intervals[i]+tick/2)/tick))
		if n%every != 0 {
			continue
		}
		h := cluster.Host{Label: round.HostLabel(cl.IP, cl.Port)}
		if ov := f.s.plan.Config.Overlay; ov != nil {
			for _, g := range ov.GroupsOf(cl.IP, "") {
				h.Groups = append(h.Groups, g.Name)
			}
		}
		out = append(out, h)
	}
	return out
}

// Collect runs a round of the clients labelled labels that the current
// plan still has.
func (f *clusterFleet) Collect(ctx context.Context, _ time.Time, labels []string) (collected, failed int) {
	plan := f.s.currentPlan()
	want := make(map[string]bool, len(labels))
	for _, l := range labels {
		want[l] = true
	}
	var indices []int
	for i, cl := range plan.Config.Inventory.Clients {
		if want[round.HostLabel(cl.IP, cl.Port)] {
			indices = append(indices, i)
		}
	}
	if len(indices) == 0 {
		return 0, 0
	}
	res, _, _ := f.s.runOnce(ctx, plan.Only(indices), f.s.opts.Now(), f.mailer)
	for _, c := range res.Batch.Collections {
		if c.Status != storage.StatusOK {
			failed++
		}
	}
	return len(res.Batch.Collections), failed
}
