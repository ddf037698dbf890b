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
	// quiet (-q) prints only failed hosts and problems.
	quiet bool
}

var _ round.Reporter = (*progress)(nil)

// progress reports a round on stderr, as -q asks.
func (s *settings) progress(env *Env) *progress {
	return &progress{w: env.Stderr, tty: isTerminal(env.Stderr), quiet: s.quiet}
}

// Note prints a round's note; a problem under the command's name.
func (p *progress) Note(n round.Note) {
	if p.quiet && !n.Problem {
		return
	}
	if n.Problem {
		fmt.Fprintf(p.w, "cscs run: %s\n", n.Text)
		return
	}
	fmt.Fprintln(p.w, n.Text)
}

// HostDone prints a finished host.
func (p *progress) HostDone(done, total int, c storage.Collection) {
	if p.quiet && c.Error == "" {
		return
	}
	line := fmt.Sprintf("[%*d/%d] %s %s %s", len(fmt.Sprint(total)), done, total,
		round.HostLabel(c.HostIP, c.HostPort), c.Status, c.Timings.Total.Round(time.Millisecond))
	if c.Error != "" { // a failed host, or an ok one with errors
		line += ": " + c.Error
	}
	if p.tty {
		// Failures stay on screen; successes are overwritten by the next line.
		if c.Error != "" {
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
		detail, status := c.Hostname, string(c.Status)
		if c.Error != "" {
			detail = firstLine(c.Error, 100)
		}
		if round.PartlyFailed(c) {
			status = "ok, errors"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", round.HostLabel(c.HostIP, c.HostPort), status, cpu, mem, up,
			c.Timings.Total.Round(time.Millisecond), detail)
	}
	_ = tw.Flush()
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

// writeJSON writes the result of a round as `cscs run --output json`
// does (schema cscs/run/v1, docs/json.md).
func writeJSON(w io.Writer, res *round.Result) error { return writeJSONValue(w, res.Report()) }

// writeJSONValue writes v as indented JSON: a command's --output json.
func writeJSONValue(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
