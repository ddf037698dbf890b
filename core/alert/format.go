package alert

import (
	"fmt"
	"math"
	"net"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Lengths at which text in mails is cut.
const (
	maxHostnameLen = 64
	maxFieldLen    = 120
)

// hostKey is a host as ip:port, for errors.
func hostKey(ip string, port int) string { return net.JoinHostPort(ip, strconv.Itoa(port)) }

// cleanText makes text from a host or a plugin safe to put in a mail:
// invalid UTF-8 becomes U+FFFD, control and invisible formatting
// characters (newlines, escapes, bidirectional overrides, zero-width
// characters) are removed, and the result is cut to maxRunes runes, ending in
// "…" when cut.
func cleanText(s string, maxRunes int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	n := 0
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			continue
		}
		if n == maxRunes {
			return strings.TrimSpace(b.String()) + "…"
		}
		b.WriteRune(r)
		n++
	}
	return strings.TrimSpace(b.String())
}

// formatValue formats a metric value in its declared unit: percent with
// one decimal, bytes in binary units, seconds as a duration, counts as
// integers and ratios with two decimals.
func formatValue(v float64, unit string) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	switch unit {
	case "percent":
		return fmt.Sprintf("%.1f%%", v)
	case "bytes":
		return formatBytes(v)
	case "seconds":
		return formatSeconds(v)
	case "count":
		if v == math.Trunc(v) {
			return fmt.Sprintf("%.0f", v)
		}
	case "bytes_per_second":
		return formatBytes(v) + "/s"
	case "per_second":
		return fmt.Sprintf("%.2f/s", v)
	}
	return fmt.Sprintf("%.2f", v)
}

// formatBytes formats a size in B, KiB, MiB, GiB, TiB or PiB.
func formatBytes(v float64) string {
	if v < 0 {
		return "-" + formatBytes(-v)
	}
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB"}
	if v < 1024 {
		return fmt.Sprintf("%.0f B", v)
	}
	i := 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	return fmt.Sprintf("%.1f %s", v, units[i])
}

// formatSeconds formats a duration in seconds by its two largest units:
// 3d4h, 4h12m, 12m30s, 45s.
func formatSeconds(v float64) string {
	if v < 0 {
		return "-" + formatSeconds(-v)
	}
	if v < 60 {
		if v == math.Trunc(v) {
			return fmt.Sprintf("%.0fs", v)
		}
		return fmt.Sprintf("%.1fs", v)
	}
	total := int64(math.Round(v))
	days, hours, mins, secs := total/86400, total%86400/3600, total%3600/60, total%60
	pair := func(a int64, ua string, b int64, ub string) string {
		if b == 0 {
			return fmt.Sprintf("%d%s", a, ua)
		}
		return fmt.Sprintf("%d%s%d%s", a, ua, b, ub)
	}
	switch {
	case days > 0:
		return pair(days, "d", hours, "h")
	case hours > 0:
		return pair(hours, "h", mins, "m")
	}
	return pair(mins, "m", secs, "s")
}

// formatTime formats a time in mails; the zero time is "unknown".
func formatTime(t time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	return t.Format("2006-01-02 15:04:05 MST")
}
