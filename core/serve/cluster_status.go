package serve

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cscs-dev/cscs/core/cluster"
)

// clusterReadTimeout bounds one scrape's or page's reads of the cluster.
const clusterReadTimeout = 5 * time.Second

// clusterView is the cluster on the fleet page; nil outside a cluster.
type clusterView struct {
	Self, Leader string
	Members      []clusterMemberRow
	Queues       []cluster.QueueStatus
}

// clusterMemberRow is one member on the fleet page.
type clusterMemberRow struct {
	cluster.MemberStatus
	Self, Leader bool
	SitesText    string
}

// readCluster reads the cluster the service is a member of: nil without
// one.
func (s *Service) readCluster(ctx context.Context) (*clusterView, error) {
	m := s.clusterMember()
	if m == nil {
		return nil, nil
	}
	st, err := m.Status(ctx)
	v := &clusterView{Self: st.Self, Leader: st.Leader, Queues: st.Queues}
	for _, mem := range st.Members {
		sites := "no site"
		if len(mem.Sites) > 0 {
			sites = strings.Join(mem.Sites, ", ")
		}
		v.Members = append(v.Members, clusterMemberRow{MemberStatus: mem, Self: mem.ID == st.Self, Leader: mem.ID == st.Leader, SitesText: sites})
	}
	return v, err
}

// clusterNotReady says why a member of a cluster is not ready: it has not
// written its heartbeat in the shared state for three heartbeats (it
// cannot reach PostgreSQL); "" when it is ready.
func clusterNotReady(m *cluster.Member, now time.Time) string {
	if beat := m.LastBeat(); now.Sub(beat) > 3*cluster.Heartbeat {
		return fmt.Sprintf("this cluster member last reached the shared state %s ago", now.Sub(beat).Round(time.Second))
	}
	return ""
}

// clusterMetrics exposes the cluster at scrape time: its members, what
// each collected in its latest interval, the leader, and the queues.
type clusterMetrics struct {
	read                              func(context.Context) (*clusterView, error)
	members, memberUp, memberHosts    *prometheus.Desc
	memberInterval, leader, jobs, lag *prometheus.Desc
	readErrors                        prometheus.Counter
}

func newClusterMetrics(read func(context.Context) (*clusterView, error), readErrors prometheus.Counter) *clusterMetrics {
	return &clusterMetrics{
		read:       read,
		readErrors: readErrors,
		members: prometheus.NewDesc("cscs_cluster_members",
			"Members of the cluster recorded in the shared state, by whether they beat within three heartbeats (alive) or not (gone).", []string{"state"}, nil),
		memberUp: prometheus.NewDesc("cscs_cluster_member_up",
			"1 when the member beat within three heartbeats, else 0.", []string{"member"}, nil),
		memberHosts: prometheus.NewDesc("cscs_cluster_member_hosts",
			"Hosts the member collected in its latest interval, by result: collected (all) or failed (not ok).", []string{"member", "result"}, nil),
		memberInterval: prometheus.NewDesc("cscs_cluster_member_interval_timestamp_seconds",
			"Start of the latest interval the member collected in, in Unix seconds.", []string{"member"}, nil),
		leader: prometheus.NewDesc("cscs_cluster_leader",
			"1 for the member elected leader (it dispatches each interval's hosts).", []string{"member"}, nil),
		jobs: prometheus.NewDesc("cscs_cluster_queue_jobs",
			"Jobs of the cluster by queue and state: waiting (available) or running.", []string{"queue", "state"}, nil),
		lag: prometheus.NewDesc("cscs_cluster_queue_lag_seconds",
			"How long the oldest waiting job of the queue has waited; 0 when none waits.", []string{"queue"}, nil),
	}
}

func (c *clusterMetrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.members, c.memberUp, c.memberHosts, c.memberInterval, c.leader, c.jobs, c.lag} {
		ch <- d
	}
}

// Collect reads the cluster; nothing outside one. A failed read is
// counted in cscs_status_read_errors_total and what was read is given.
func (c *clusterMetrics) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), clusterReadTimeout)
	defer cancel()
	v, err := c.read(ctx)
	if err != nil {
		c.readErrors.Inc()
	}
	if v == nil {
		return
	}
	alive := 0
	for _, m := range v.Members {
		up := 0.0
		if m.Alive {
			up = 1
			alive++
		}
		ch <- prometheus.MustNewConstMetric(c.memberUp, prometheus.GaugeValue, up, m.ID)
		ch <- prometheus.MustNewConstMetric(c.memberHosts, prometheus.GaugeValue, float64(m.Collected), m.ID, "collected")
		ch <- prometheus.MustNewConstMetric(c.memberHosts, prometheus.GaugeValue, float64(m.Failed), m.ID, "failed")
		if !m.SlotAt.IsZero() {
			ch <- prometheus.MustNewConstMetric(c.memberInterval, prometheus.GaugeValue, float64(m.SlotAt.Unix()), m.ID)
		}
	}
	ch <- prometheus.MustNewConstMetric(c.members, prometheus.GaugeValue, float64(alive), "alive")
	ch <- prometheus.MustNewConstMetric(c.members, prometheus.GaugeValue, float64(len(v.Members)-alive), "gone")
	if v.Leader != "" {
		ch <- prometheus.MustNewConstMetric(c.leader, prometheus.GaugeValue, 1, v.Leader)
	}
	for _, q := range v.Queues {
		ch <- prometheus.MustNewConstMetric(c.jobs, prometheus.GaugeValue, float64(q.Waiting), q.Name, "waiting")
		ch <- prometheus.MustNewConstMetric(c.jobs, prometheus.GaugeValue, float64(q.Running), q.Name, "running")
		ch <- prometheus.MustNewConstMetric(c.lag, prometheus.GaugeValue, q.Lag.Seconds(), q.Name)
	}
}
