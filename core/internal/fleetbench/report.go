package fleetbench

import (
	"fmt"
	"io"
	"sort"
	"text/tabwriter"
	"time"
)

// Result is one case of the benchmark measured several times.
type Result struct {
	Case  string
	Hosts int
	// Skipped, when not empty, says why the case was not measured.
	Skipped string
	// Note is printed after the figures.
	Note    string
	Samples []Sample
}

// Median returns the sample of median wall time (the lower middle one for
// an even count) with, field by field, the medians of CPU and peak RSS.
func (r Result) Median() Sample {
	if len(r.Samples) == 0 {
		return Sample{}
	}
	walls := make([]time.Duration, len(r.Samples))
	cpus := make([]time.Duration, len(r.Samples))
	rss := make([]int64, len(r.Samples))
	kids := make([]int64, len(r.Samples))
	machine := make([]time.Duration, len(r.Samples))
	for i, s := range r.Samples {
		walls[i], cpus[i], rss[i], kids[i], machine[i] = s.Wall, s.CPU, s.PeakRSS, s.ChildPeakRSS, s.MachineCPU
	}
	return Sample{Wall: median(walls), CPU: median(cpus), PeakRSS: median(rss), ChildPeakRSS: median(kids), MachineCPU: median(machine)}
}

func median[T time.Duration | int64](v []T) T {
	s := append([]T(nil), v...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[(len(s)-1)/2]
}

// HostsPerSecond is Hosts divided by the median wall time.
func (r Result) HostsPerSecond() float64 {
	w := r.Median().Wall
	if w <= 0 {
		return 0
	}
	return float64(r.Hosts) / w.Seconds()
}

// WriteTable prints one line per result: median wall time, hosts/s, core
// CPU seconds, CPU ms per host, peak RSS (core, and largest child) and the
// whole machine's busy CPU seconds (the hosts' share shows there).
func WriteTable(w io.Writer, results []Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "hosts\tcase\truns\twall s\thosts/s\tcore CPU s\tCPU ms/host\tpeak RSS MB\tchild peak MB\tmachine CPU s\t")
	var notes []string
	for _, r := range results {
		if r.Skipped != "" {
			fmt.Fprintf(tw, "%d\t%s\t-\t%s\t\t\t\t\t\t\t\n", r.Hosts, r.Case, r.Skipped)
			continue
		}
		m := r.Median()
		fmt.Fprintf(tw, "%d\t%s\t%d\t%.3f\t%.1f\t%.3f\t%.2f\t%.1f\t%.1f\t%.2f\t\n", r.Hosts, r.Case, len(r.Samples),
			m.Wall.Seconds(), r.HostsPerSecond(), m.CPU.Seconds(), perHostMS(m.CPU, r.Hosts), mb(m.PeakRSS), mb(m.ChildPeakRSS), m.MachineCPU.Seconds())
		if r.Note != "" {
			notes = append(notes, fmt.Sprintf("%d hosts, %s: %s", r.Hosts, r.Case, r.Note))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, n := range notes {
		if _, err := fmt.Fprintln(w, n); err != nil {
			return err
		}
	}
	return nil
}

// Ratio is a named quotient of two median figures and the target it must
// stay under, or reach when AtLeast is set (0: no target).
type Ratio struct {
	Name    string
	Value   float64
	Target  float64
	AtLeast bool
}

// WriteRatios prints each ratio and whether it meets its target.
func WriteRatios(w io.Writer, ratios []Ratio) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, r := range ratios {
		verdict := ""
		switch {
		case r.Target > 0 && r.AtLeast:
			verdict = fmt.Sprintf("target ≥ %.2f: %s", r.Target, map[bool]string{true: "met", false: "MISSED"}[r.Value >= r.Target])
		case r.Target > 0:
			verdict = fmt.Sprintf("target ≤ %.2f: %s", r.Target, map[bool]string{true: "met", false: "MISSED"}[r.Value <= r.Target])
		}
		fmt.Fprintf(tw, "%s\t%.2f\t%s\n", r.Name, r.Value, verdict)
	}
	return tw.Flush()
}

func perHostMS(d time.Duration, hosts int) float64 {
	if hosts <= 0 {
		return 0
	}
	return float64(d.Microseconds()) / 1000 / float64(hosts)
}

func mb(b int64) float64 { return float64(b) / (1 << 20) }
