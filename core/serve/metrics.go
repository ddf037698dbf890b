package serve

import (
	"context"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cscs-dev/cscs/core/round"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// metrics are the collector's own figures and, through hostMetrics, the
// values of its latest round, in a registry of the service's own.
type metrics struct {
	registry  *prometheus.Registry
	rounds    prometheus.Counter
	skipped   prometheus.Counter
	duration  prometheus.Histogram
	reloads   *prometheus.CounterVec
	hosts     *prometheus.GaugeVec
	up        *prometheus.GaugeVec
	lastOK    *prometheus.GaugeVec
	stored    prometheus.Gauge
	notified  prometheus.Gauge
	plugins   prometheus.Counter
	mailSent  prometheus.Counter
	mailHeld  prometheus.Gauge
	collected *hostMetrics
	backlog   *backlogMetrics
	cluster   *clusterMetrics
}

// newMetrics makes the service's registry; readFleet gives the outbox and
// spool figures at each scrape, now the time their ages are taken at, and
// readCluster the cluster's (nil outside one).
func newMetrics(readFleet func(context.Context) (round.Fleet, error), readCluster func(context.Context) (*clusterView, error),
	now func() time.Time) *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		rounds:   prometheus.NewCounter(prometheus.CounterOpts{Name: "cscs_rounds_total", Help: "Rounds that ran to their end."}),
		skipped: prometheus.NewCounter(prometheus.CounterOpts{Name: "cscs_rounds_skipped_total",
			Help: "Scheduled round starts that fell inside a longer round and were not run."}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "cscs_round_duration_seconds",
			Help: "Wall time of a round, from the first host to the stored batch.", Buckets: prometheus.ExponentialBuckets(0.25, 2, 10)}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cscs_config_reloads_total",
			Help: "Configuration reloads by result: ok, or refused (the configuration had errors)."}, []string{"result"}),
		hosts: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "cscs_hosts",
			Help: "Hosts by the status of their latest collection."}, []string{"status"}),
		up: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "cscs_host_up",
			Help: "1 when the host's latest collection succeeded, else 0."}, []string{"host"}),
		lastOK: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "cscs_host_last_success_timestamp_seconds",
			Help: "When the host was last collected successfully, in Unix seconds."}, []string{"host"}),
		stored: prometheus.NewGauge(prometheus.GaugeOpts{Name: "cscs_last_round_stored",
			Help: "1 when every storage took the latest round, 0 when one spooled it."}),
		notified: prometheus.NewGauge(prometheus.GaugeOpts{Name: "cscs_last_round_notified",
			Help: "1 when every notification of the latest round was queued in the outbox (they are sent beside the rounds)."}),
		mailSent: prometheus.NewCounter(prometheus.CounterOpts{Name: "cscs_notifications_sent_total",
			Help: "Notifications sent by the deliveries beside the rounds."}),
		mailHeld: prometheus.NewGauge(prometheus.GaugeOpts{Name: "cscs_notifiers_held",
			Help: "Notifiers that could not reach their service (refused, silent) and wait for their backoff; their notifications wait in the outbox."}),
		plugins: prometheus.NewCounter(prometheus.CounterOpts{Name: "cscs_plugin_failures_total",
			Help: "Plugins that failed in a round: not started or loaded, or stopped answering (storage, notifier)."}),
		collected: &hostMetrics{},
		backlog:   newBacklogMetrics(readFleet, now),
	}
	m.cluster = newClusterMetrics(readCluster, m.backlog.readErrors)
	m.registry.MustRegister(m.rounds, m.skipped, m.duration, m.reloads, m.hosts, m.up, m.lastOK, m.stored, m.notified,
		m.plugins, m.mailSent, m.mailHeld, m.collected, m.backlog, m.cluster)
	return m
}

// observe records a round that ran to its end, and the fleet as the
// service knows it after it.
func (m *metrics) observe(res *round.Result, took time.Duration, fleet []HostView) {
	m.rounds.Inc()
	m.duration.Observe(took.Seconds())
	m.hosts.Reset()
	for _, st := range storage.Statuses {
		m.hosts.WithLabelValues(string(st)).Set(0)
	}
	m.up.Reset()
	m.lastOK.Reset()
	collections := make([]storage.Collection, len(fleet))
	for i, h := range fleet {
		collections[i] = h.Collection
		m.hosts.WithLabelValues(string(h.Collection.Status)).Inc()
		m.up.WithLabelValues(h.Label).Set(bool01(h.Collection.Status == storage.StatusOK))
		if !h.LastOK.IsZero() {
			m.lastOK.WithLabelValues(h.Label).Set(float64(h.LastOK.UnixMilli()) / 1000)
		}
	}
	m.stored.Set(bool01(res.Stored))
	m.notified.Set(bool01(res.Notified))
	m.plugins.Add(float64(res.PluginFailures))
	m.collected.set(collections)
}

// observeDelivery records a delivery beside the rounds.
func (m *metrics) observeDelivery(d round.Delivery) {
	m.mailSent.Add(float64(d.Sent))
	m.mailHeld.Set(float64(d.Held))
}

func bool01(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// hostMetrics exposes every sample of the hosts' latest collections
// as a gauge cscs_host_<metric> (dots and other characters a name may not
// hold become underscores) with the host's address and name as labels, so
// a Prometheus can scrape hosts that run no exporter through CSCS.
type hostMetrics struct {
	mu          sync.Mutex
	collections []storage.Collection
}

func (h *hostMetrics) set(c []storage.Collection) {
	h.mu.Lock()
	h.collections = c
	h.mu.Unlock()
}

// Describe sends nothing: the families depend on the sources, so the
// collector is unchecked.
func (h *hostMetrics) Describe(chan<- *prometheus.Desc) {}

// Collect sends one gauge per host and sample of its latest collection;
// a sample's labels (a file system's mount, an interface) become labels
// of its gauge.
func (h *hostMetrics) Collect(ch chan<- prometheus.Metric) {
	h.mu.Lock()
	collections := h.collections
	h.mu.Unlock()
	descs := map[string]*prometheus.Desc{}
	for _, c := range collections {
		if c.Status != storage.StatusOK {
			continue
		}
		host := round.HostLabel(c.HostIP, c.HostPort)
		for _, s := range c.Samples {
			name := MetricName(s.Metric)
			labelNames, values := sampleLabels(s.Labels)
			key := name + "{" + strings.Join(labelNames, ",")
			d, ok := descs[key]
			if !ok {
				help := "The host's " + s.Metric + " in its latest collection"
				if s.Unit != "" {
					help += ", in " + s.Unit
				}
				d = prometheus.NewDesc(name, help+".", append([]string{"host", "hostname"}, labelNames...), nil)
				descs[key] = d
			}
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, s.Value, append([]string{host, c.Hostname}, values...)...)
		}
	}
}

// sampleLabels are a sample's labels as Prometheus label names, sorted,
// and their values. A label named like one the gauge has already (host,
// hostname) is prefixed with "sample_".
func sampleLabels(labels map[string]string) (names, values []string) {
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		name := k
		if name == "host" || name == "hostname" {
			name = "sample_" + name
		}
		names = append(names, name)
		values = append(values, labels[k])
	}
	return names, values
}

// MetricName is the Prometheus name of a CSCS metric: cscs_host_ and the
// metric with every character outside [a-zA-Z0-9_] turned into "_"
// ("cpu.percent" → "cscs_host_cpu_percent", "load.1" → "cscs_host_load_1").
// A name that would end in a suffix Prometheus keeps for counters,
// histograms and summaries (_total, _count, _sum, _bucket) gets "_value"
// after it: these are gauges ("cpu.count" → "cscs_host_cpu_count_value").
func MetricName(metric string) string {
	name := "cscs_host_" + strings.Map(func(r rune) rune {
		if r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, metric)
	for _, reserved := range []string{"_total", "_count", "_sum", "_bucket"} {
		if strings.HasSuffix(name, reserved) {
			return name + "_value"
		}
	}
	return name
}

// backlogMetrics exposes what waits at scrape time, read from the state
// database and the spool: the outbox by status and each storage's spool.
type backlogMetrics struct {
	read                      func(context.Context) (round.Fleet, error)
	now                       func() time.Time
	outbox, spooled, spoolAge *prometheus.Desc
	readErrors                prometheus.Counter
}

// backlogReadTimeout bounds one scrape's reads of the state database,
// which may wait for a running round's write.
const backlogReadTimeout = 5 * time.Second

func newBacklogMetrics(read func(context.Context) (round.Fleet, error), now func() time.Time) *backlogMetrics {
	return &backlogMetrics{
		read: read, now: now,
		outbox: prometheus.NewDesc("cscs_outbox_notifications",
			"Notifications in the outbox by status: pending, sending, sent, and failed (refused for good).", []string{"status"}, nil),
		spooled: prometheus.NewDesc("cscs_spool_rounds",
			"Rounds waiting in a storage's spool to be stored by the next round.", []string{"storage"}, nil),
		spoolAge: prometheus.NewDesc("cscs_spool_oldest_round_age_seconds",
			"Age of the oldest round waiting in a storage's spool; 0 when none waits.", []string{"storage"}, nil),
		readErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "cscs_status_read_errors_total",
			Help: "Scrapes that could not read the outbox or the spool (the state database or the spool directory)."}),
	}
}

func (b *backlogMetrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- b.outbox
	ch <- b.spooled
	ch <- b.spoolAge
	b.readErrors.Describe(ch)
}

// Collect reads the outbox and the spools; what could not be read is left
// out and counted in cscs_status_read_errors_total.
func (b *backlogMetrics) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), backlogReadTimeout)
	defer cancel()
	fleet, err := b.read(ctx)
	if err != nil {
		b.readErrors.Inc()
	}
	for status, n := range fleet.Outbox {
		ch <- prometheus.MustNewConstMetric(b.outbox, prometheus.GaugeValue, float64(n), status)
	}
	now := b.now()
	for _, sp := range fleet.Spools {
		ch <- prometheus.MustNewConstMetric(b.spooled, prometheus.GaugeValue, float64(sp.Rounds), sp.Storage)
		age := 0.0
		if sp.Rounds > 0 && !sp.Oldest.IsZero() {
			age = max(now.Sub(sp.Oldest).Seconds(), 0)
		}
		ch <- prometheus.MustNewConstMetric(b.spoolAge, prometheus.GaugeValue, age, sp.Storage)
	}
	b.readErrors.Collect(ch)
}
