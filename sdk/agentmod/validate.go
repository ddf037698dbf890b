package agentmod

import (
	labelset "github.com/cscs-dev/cscs/sdk/internal/labels"

	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// ValidSourceName reports whether name can name a source: a lowercase
// letter, then lowercase letters, digits and '_', at most MaxSourceName
// bytes.
func ValidSourceName(name string) bool {
	if name == "" || len(name) > MaxSourceName || name[0] < 'a' || name[0] > 'z' {
		return false
	}
	for i := 0; i < len(name); i++ {
		if !isWordByte(name[i]) {
			return false
		}
	}
	return true
}

// ValidateMetricName checks that name belongs to source: source, a dot,
// then words of lowercase letters, digits and '_' joined by dots, at most
// MaxMetricName bytes in all.
func ValidateMetricName(source, name string) error {
	rest, ok := strings.CutPrefix(name, source+".")
	if !ok {
		return fmt.Errorf("metric name %q does not start with %q; prefix every metric with the source name", clip(name), source+".")
	}
	if len(name) > MaxMetricName {
		return fmt.Errorf("metric name %q is %d bytes, more than the %d allowed", clip(name), len(name), MaxMetricName)
	}
	for word := range strings.SplitSeq(rest, ".") {
		if word == "" {
			return fmt.Errorf("metric name %q has an empty part; join words with single dots", clip(name))
		}
		for i := 0; i < len(word); i++ {
			if !isWordByte(word[i]) {
				return fmt.Errorf("metric name %q has a character other than a-z, 0-9, '_' and '.'", clip(name))
			}
		}
	}
	return nil
}

// units are the metric units the core understands.
var units = [...]string{"percent", "bytes", "seconds", "count", "", "bytes_per_second", "per_second"}

// Validate checks r as the agent does before accepting it from a module of
// source: metric names (ValidateMetricName), units, finite values, events
// with a channel and an RFC 3339 time (in UTC, in the years 0000 to 9999, not the zero time),
// and the cursor's size.
func (r Result) Validate(source string) error {
	var errs []error
	seen := make(map[string]bool, len(r.Metrics))
	for _, m := range r.Metrics {
		if err := ValidateMetricName(source, m.Name); err != nil {
			errs = append(errs, err)
			continue
		}
		if !validUnit(m.Unit) {
			errs = append(errs, fmt.Errorf("metric %s has unit %q; use percent, bytes, seconds, count, bytes_per_second, per_second or \"\"", m.Name, clip(m.Unit)))
		}
		if err := labelset.Check(m.Labels); err != nil {
			errs = append(errs, fmt.Errorf("metric %s: %w", m.Name, err))
		} else if key := labelset.Folded(m.Name, m.Labels); seen[key] {
			errs = append(errs, fmt.Errorf("metric %s comes twice with the same labels; give one value per metric and labels", m.Name))
		} else {
			seen[key] = true
		}
		if math.IsNaN(m.Value) || math.IsInf(m.Value, 0) {
			errs = append(errs, fmt.Errorf("metric %s has the non-finite value %v", m.Name, m.Value))
		}
	}
	for i, e := range r.Events {
		if e.Channel == "" {
			errs = append(errs, fmt.Errorf("event %d has no channel", i))
		}
		if at, err := time.Parse(time.RFC3339Nano, e.Time); err != nil {
			errs = append(errs, fmt.Errorf("event %d has time %q; use RFC 3339, e.g. 2006-01-02T15:04:05Z", i, clip(e.Time)))
		} else if y := at.UTC().Year(); y < 0 || y > 9999 {
			// A report holds times in UTC, and JSON has no year outside these.
			errs = append(errs, fmt.Errorf("event %d has time %q, outside the years 0000 to 9999 in UTC", i, clip(e.Time)))
		} else if at.IsZero() {
			// The zero time is how a report says "no time".
			errs = append(errs, fmt.Errorf("event %d has time %q, the zero time; give the time the event happened", i, clip(e.Time)))
		}
	}
	if len(r.Cursor) > MaxCursorBytes {
		errs = append(errs, fmt.Errorf("cursor is %d bytes, more than the %d allowed", len(r.Cursor), MaxCursorBytes))
	}
	return joinErrors(errs)
}

// joinErrors makes one line of the first few errors.
func joinErrors(errs []error) error {
	const shown = 3
	if len(errs) == 0 {
		return nil
	}
	var msgs []string
	for _, err := range errs[:min(len(errs), shown)] {
		msgs = append(msgs, err.Error())
	}
	if len(errs) > shown {
		msgs = append(msgs, fmt.Sprintf("and %d more problems", len(errs)-shown))
	}
	return errors.New(strings.Join(msgs, "; "))
}

func validUnit(u string) bool {
	for _, ok := range units {
		if u == ok {
			return true
		}
	}
	return false
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_'
}

// clip shortens text from a module before it is quoted in an error.
func clip(s string) string {
	const max = 80
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}
