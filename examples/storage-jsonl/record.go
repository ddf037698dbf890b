package main

import (
	"math"
	"time"

	"github.com/cscs-dev/cscs/sdk/storage"
)

// Record is one line of the file: one host's collection in one round.
// Times are RFC 3339 in UTC and left out when unknown.
type Record struct {
	RoundID         string    `json:"round_id"`
	RoundStartedAt  time.Time `json:"round_started_at,omitzero"`
	RoundFinishedAt time.Time `json:"round_finished_at,omitzero"`

	HostIP       string `json:"host_ip"`
	HostPort     int    `json:"host_port"`
	Hostname     string `json:"hostname,omitempty"`
	OS           string `json:"os,omitempty"`
	Arch         string `json:"arch,omitempty"`
	AgentVersion string `json:"agent_version,omitempty"`

	Status        string    `json:"status"`
	Error         string    `json:"error,omitempty"`
	StartedAt     time.Time `json:"started_at,omitzero"`
	FinishedAt    time.Time `json:"finished_at,omitzero"`
	AgentUploaded bool      `json:"agent_uploaded"`
	TimingsMS     TimingsMS `json:"timings_ms"`
	Samples       []Sample  `json:"samples"`
}

// TimingsMS are a collection's phase durations in milliseconds.
type TimingsMS struct {
	Connect float64 `json:"connect"`
	Detect  float64 `json:"detect"`
	Upload  float64 `json:"upload"`
	Exec    float64 `json:"exec"`
	Total   float64 `json:"total"`
}

// Sample is one metric value. Value is null when the value was not a
// finite number (JSON has no NaN or infinity).
type Sample struct {
	Metric string    `json:"metric"`
	Value  *float64  `json:"value"`
	Unit   string    `json:"unit"`
	Time   time.Time `json:"time,omitzero"`
}

// recordKey is what makes a record unique: writing a key twice is a
// repeated write, not new data.
type recordKey struct {
	roundID string
	hostIP  string
	port    int
}

func (r Record) key() recordKey {
	return recordKey{roundID: r.RoundID, hostIP: r.HostIP, port: r.HostPort}
}

// newRecord is the line for c of round b.
func newRecord(b *storage.Batch, c storage.Collection) Record {
	samples := make([]Sample, 0, len(c.Samples))
	for _, s := range c.Samples {
		samples = append(samples, Sample{Metric: s.Metric, Value: finite(s.Value), Unit: s.Unit, Time: s.Time.UTC()})
	}
	return Record{
		RoundID:         b.RoundID,
		RoundStartedAt:  b.StartedAt.UTC(),
		RoundFinishedAt: b.FinishedAt.UTC(),
		HostIP:          c.HostIP,
		HostPort:        c.HostPort,
		Hostname:        c.Hostname,
		OS:              c.OS,
		Arch:            c.Arch,
		AgentVersion:    c.AgentVersion,
		Status:          string(c.Status),
		Error:           c.Error,
		StartedAt:       c.StartedAt.UTC(),
		FinishedAt:      c.FinishedAt.UTC(),
		AgentUploaded:   c.AgentUploaded,
		TimingsMS: TimingsMS{
			Connect: milliseconds(c.Timings.Connect),
			Detect:  milliseconds(c.Timings.Detect),
			Upload:  milliseconds(c.Timings.Upload),
			Exec:    milliseconds(c.Timings.Exec),
			Total:   milliseconds(c.Timings.Total),
		},
		Samples: samples,
	}
}

func milliseconds(d time.Duration) float64 {
	return float64(d) / float64(time.Millisecond)
}

func finite(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}
