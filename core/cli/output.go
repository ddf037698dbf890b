package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"github.com/cscs-dev/cscs/core/round"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// isTerminal reports whether w is an interactive terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// progress reports finished hosts: a single updating line on a terminal,
// one plain log line per host on a pipe.
type progress struct {
	w   io.Writer
	tty bool
}

var _ round.Reporter = (*progress)(nil)

// Note prints a round's note; a problem under the command's name.
func (p *progress) Note(n round.Note) {
	if n.Problem {
		fmt.Fprintf(p.w, "cscs run: %s\n", n.Text)
		return
	}
	fmt.Fprintln(p.w, n.Text)
}

// HostDone prints a finished host.
func (p *progress) HostDone(done, total int, c storage.Collection) {
	line := fmt.Sprintf("[%*d/%d] %s %s %s", len(fmt.Sprint(total)), done, total,
		hostLabel(c), c.Status, c.Timings.Total.Round(time.Millisecond))
	if c.Status != storage.StatusOK && c.Error != "" {
		line += ": " + c.Error
	}
	if p.tty {
		// Failures stay on screen; successes are overwritten by the next line.
		if c.Status != storage.StatusOK {
			fmt.Fprintf(p.w, "\r\033[K%s\n", line)
		} else {
			fmt.Fprintf(p.w, "\r\033[K%s", line)
		}
		if done == total {
			fmt.Fprint(p.w, "\r\033[K")
		}
		return
	}
	fmt.Fprintln(p.w, line)
}

func hostLabel(c storage.Collection) string {
	if c.HostPort == 22 || c.HostPort == 0 {
		return c.HostIP
	}
	return fmt.Sprintf("%s:%d", c.HostIP, c.HostPort)
}

func sampleValue(c storage.Collection, metric string) (float64, bool) {
	for _, s := range c.Samples {
		if s.Metric == metric {
			return s.Value, true
		}
	}
	return 0, false
}

// writeTable prints the summary table of a round.
func writeTable(w io.Writer, b *storage.Batch) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "HOST\tSTATUS\tCPU\tMEM\tUPTIME\tDURATION\tDETAIL")
	for _, c := range b.Collections {
		cpu, mem, up := "-", "-", "-"
		if v, ok := sampleValue(c, "cpu.percent"); ok {
			cpu = fmt.Sprintf("%.1f%%", v)
		}
		if v, ok := sampleValue(c, "memory.used_percent"); ok {
			mem = fmt.Sprintf("%.1f%%", v)
		}
		if v, ok := sampleValue(c, "uptime.seconds"); ok {
			up = formatUptime(time.Duration(v) * time.Second)
		}
		detail := c.Hostname
		if c.Status != storage.StatusOK {
			detail = firstLine(c.Error, 100)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", hostLabel(c), c.Status, cpu, mem, up,
			c.Timings.Total.Round(time.Millisecond), detail)
	}
	_ = tw.Flush()
}

// summaryLine is e.g. "50 hosts in 2.1s: 48 ok, 1 unreachable, 1 timeout".
func summaryLine(res *round.Result) string {
	b := res.Batch
	counts := res.Summary()
	parts := make([]string, 0, len(counts))
	for _, s := range storage.Statuses {
		if n := counts[s]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, s))
		}
	}
	return fmt.Sprintf("%d hosts in %s: %s", len(b.Collections),
		b.FinishedAt.Sub(b.StartedAt).Round(time.Millisecond), strings.Join(parts, ", "))
}

func formatUptime(d time.Duration) string {
	days := int(d.Hours()) / 24
	h := int(d.Hours()) % 24
	m := int(d.Minutes()) % 60
	if days > 0 {
		return fmt.Sprintf("%dd%02dh", days, h)
	}
	return fmt.Sprintf("%dh%02dm", h, m)
}

func firstLine(s string, max int) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}

// jsonRound is the --output json form of a round.
type jsonRound struct {
	RoundID    string           `json:"round_id"`
	StartedAt  time.Time        `json:"started_at"`
	FinishedAt time.Time        `json:"finished_at"`
	Counts     map[string]int   `json:"counts"`
	Hosts      []jsonCollection `json:"hosts"`
	Database   string           `json:"database,omitempty"`
}

type jsonCollection struct {
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

func writeJSON(w io.Writer, b *storage.Batch, dbPath string) error {
	out := jsonRound{RoundID: b.RoundID, StartedAt: b.StartedAt, FinishedAt: b.FinishedAt,
		Counts: map[string]int{}, Database: dbPath}
	for _, c := range b.Collections {
		out.Counts[string(c.Status)]++
		jc := jsonCollection{IP: c.HostIP, Port: c.HostPort, Status: c.Status, Error: c.Error,
			Hostname: c.Hostname, OS: c.OS, Arch: c.Arch, AgentVersion: c.AgentVersion,
			AgentUploaded: c.AgentUploaded, DurationMS: ms(c.Timings.Total),
			PhasesMS: map[string]float64{"connect": ms(c.Timings.Connect), "detect": ms(c.Timings.Detect),
				"upload": ms(c.Timings.Upload), "exec": ms(c.Timings.Exec)}}
		if len(c.Samples) > 0 {
			jc.Metrics = make(map[string]float64, len(c.Samples))
			for _, s := range c.Samples {
				jc.Metrics[s.Metric] = s.Value
			}
		}
		out.Hosts = append(out.Hosts, jc)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
