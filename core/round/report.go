package round

import (
	"time"

	"github.com/cscs-dev/cscs/sdk/storage"
)

// Report is the machine-readable form of a Result (what `cscs run
// --output json` prints): the round, its counts per status, where it was
// stored, and each host with its phases and metrics.
type Report struct {
	// Schema names the format: ReportSchema.
	Schema     string         `json:"schema"`
	RoundID    string         `json:"round_id"`
	StartedAt  time.Time      `json:"started_at"`
	FinishedAt time.Time      `json:"finished_at"`
	Counts     map[string]int `json:"counts"`
	Hosts      []HostReport   `json:"hosts"`
	Database   string         `json:"database,omitempty"`
}

// ReportSchema is the name and version of Report's JSON format
// (docs/json.md).
const ReportSchema = "cscs/run/v1"

// HostReport is one host of a Report.
type HostReport struct {
	IP            string             `json:"ip"`
	Port          int                `json:"port"`
	Status        storage.Status     `json:"status"`
	Error         string             `json:"error,omitempty"`
	Hostname      string             `json:"hostname,omitempty"`
	OS            string             `json:"os,omitempty"`
	Arch          string             `json:"arch,omitempty"`
	AgentVersion  string             `json:"agent_version,omitempty"`
	AgentUploaded bool               `json:"agent_uploaded"`
	DurationMS    float64            `json:"duration_ms"`
	PhasesMS      map[string]float64 `json:"phases_ms"`
	Metrics       map[string]float64 `json:"metrics,omitempty"`
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// Report returns the machine-readable form of r.
func (r *Result) Report() Report {
	b := r.Batch
	out := Report{Schema: ReportSchema, RoundID: b.RoundID, StartedAt: b.StartedAt, FinishedAt: b.FinishedAt,
		Counts: map[string]int{}, Database: r.Storages}
	for _, c := range b.Collections {
		out.Counts[string(c.Status)]++
		h := HostReport{IP: c.HostIP, Port: c.HostPort, Status: c.Status, Error: c.Error,
			Hostname: c.Hostname, OS: c.OS, Arch: c.Arch, AgentVersion: c.AgentVersion,
			AgentUploaded: c.AgentUploaded, DurationMS: ms(c.Timings.Total),
			PhasesMS: map[string]float64{"connect": ms(c.Timings.Connect), "detect": ms(c.Timings.Detect),
				"upload": ms(c.Timings.Upload), "exec": ms(c.Timings.Exec)}}
		if len(c.Samples) > 0 {
			h.Metrics = make(map[string]float64, len(c.Samples))
			for _, s := range c.Samples {
				h.Metrics[storage.FoldedName(s.Metric, s.Labels)] = s.Value
			}
		}
		out.Hosts = append(out.Hosts, h)
	}
	return out
}
