package serve

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/cscs-dev/cscs/core/round"
)

// Chart geometry, in the SVG's own units (it scales to the page's width).
const (
	chartWidth  = 360
	chartHeight = 140
	chartLeft   = 56 // room for the value labels
	chartRight  = 8
	chartTop    = 10
	chartBottom = 24 // room for the time labels
)

// chart is one metric's recent values drawn as an SVG line by the server:
// no script, the page's template writes it out.
type chart struct {
	Metric, Unit  string
	Width, Height int
	// Line is the polyline's points, "x,y x,y …".
	Line string
	Dots []chartDot
	// Min and Max label the value axis, From and To the time axis, Span
	// the time the values cover.
	Min, Max, From, To, Span string
	// Plot is the plot area's corners, for the axes.
	PlotLeft, PlotRight, PlotTop, PlotBottom float64
}

// chartDot is one value: where it is drawn and its tooltip.
type chartDot struct {
	X, Y  float64
	Title string
}

// newChart draws series scaled to its own minimum and maximum, over the
// time from its first value to its last.
func newChart(s round.Series, unit string) chart {
	c := chart{Metric: s.Metric, Unit: unit, Width: chartWidth, Height: chartHeight,
		PlotLeft: chartLeft, PlotRight: chartWidth - chartRight, PlotTop: chartTop, PlotBottom: chartHeight - chartBottom}
	if len(s.Points) == 0 {
		return c
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, p := range s.Points {
		lo, hi = math.Min(lo, p.Value), math.Max(hi, p.Value)
	}
	first, last := s.Points[0].At, s.Points[len(s.Points)-1].At
	c.Min, c.Max = formatValue(lo, unit), formatValue(hi, unit)
	c.From, c.To = first.UTC().Format("15:04:05"), last.UTC().Format("15:04:05 UTC")
	c.Span = formatSpan(last.Sub(first), len(s.Points))
	line := make([]string, len(s.Points))
	for i, p := range s.Points {
		x := c.PlotLeft + scale(float64(p.At.Sub(first)), 0, float64(last.Sub(first)))*(c.PlotRight-c.PlotLeft)
		y := c.PlotBottom - scale(p.Value, lo, hi)*(c.PlotBottom-c.PlotTop)
		x, y = round1(x), round1(y)
		line[i] = strconv.FormatFloat(x, 'f', -1, 64) + "," + strconv.FormatFloat(y, 'f', -1, 64)
		c.Dots = append(c.Dots, chartDot{X: x, Y: y, Title: formatValue(p.Value, unit) + " at " + p.At.UTC().Format("2006-01-02 15:04:05 UTC")})
	}
	c.Line = strings.Join(line, " ")
	return c
}

// scale is v's place between lo and hi, 0 to 1; the middle when they are
// equal (one value, or a flat line).
func scale(v, lo, hi float64) float64 {
	if hi <= lo {
		return 0.5
	}
	return (v - lo) / (hi - lo)
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }

// formatSpan says how much time n values cover.
func formatSpan(d time.Duration, n int) string {
	if n == 1 {
		return "1 value"
	}
	return fmt.Sprintf("%d values over %s", n, d.Round(time.Second))
}

// formatValue writes a value in its unit for a person: bytes in KiB, MiB,
// GiB…, seconds as a duration, percent with a sign, counts plainly.
func formatValue(v float64, unit string) string {
	switch unit {
	case "bytes":
		return formatBytes(v)
	case "seconds":
		if math.Abs(v) >= 1 {
			return time.Duration(v * float64(time.Second)).Round(time.Second).String()
		}
		return strconv.FormatFloat(v, 'g', 3, 64) + " s"
	case "percent":
		return strconv.FormatFloat(v, 'f', 1, 64) + " %"
	}
	return strconv.FormatFloat(v, 'g', 6, 64)
}

func formatBytes(v float64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB"}
	i := 0
	for math.Abs(v) >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	if i == 0 {
		return strconv.FormatFloat(v, 'f', 0, 64) + " B"
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + " " + units[i]
}
