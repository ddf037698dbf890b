package report

import (
	"errors"
	"fmt"
	"math"
	"unicode"
	"unicode/utf8"

	"github.com/cscs-dev/cscs/agent/protocol"
)

// Limits bound what a report may contain. A zero field means the
// DefaultLimits value.
type Limits struct {
	// MaxCiphertextBytes caps the agent's encrypted output, and the
	// decrypted report.
	MaxCiphertextBytes int64
	// MaxModules caps the module entries in a report.
	MaxModules int
	// MaxMetrics caps the metrics across all modules.
	MaxMetrics int
	// MaxErrorBytes caps a module's error text.
	MaxErrorBytes int
}

// DefaultLimits returns limits generous for the built-in modules and a
// good number of external ones.
func DefaultLimits() Limits {
	return Limits{
		MaxCiphertextBytes: 16 << 20,
		MaxModules:         64,
		MaxMetrics:         4096,
		MaxErrorBytes:      protocol.MaxErrorBytes,
	}
}

// withDefaults fills l's zero (or negative) fields from DefaultLimits.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxCiphertextBytes <= 0 {
		l.MaxCiphertextBytes = d.MaxCiphertextBytes
	}
	if l.MaxModules <= 0 {
		l.MaxModules = d.MaxModules
	}
	if l.MaxMetrics <= 0 {
		l.MaxMetrics = d.MaxMetrics
	}
	if l.MaxErrorBytes <= 0 {
		l.MaxErrorBytes = d.MaxErrorBytes
	}
	return l
}

// Fixed bounds on the report's short strings.
const (
	maxNameBytes     = 64 // metric and module names
	maxUnitBytes     = 32
	maxHostnameBytes = 255
	maxPlatformBytes = 32 // os, arch
	maxVersionBytes  = 128
)

// check verifies a decoded report's content against l.
func (l Limits) check(rep *protocol.Report) error {
	if err := checkText("hostname", rep.Hostname, maxHostnameBytes, false); err != nil {
		return err
	}
	if err := checkText("agent_version", rep.AgentVersion, maxVersionBytes, false); err != nil {
		return err
	}
	if !isName(rep.OS, maxPlatformBytes) || !isName(rep.Arch, maxPlatformBytes) {
		return fmt.Errorf("os/arch %.40q/%.40q is not a short lowercase platform name", rep.OS, rep.Arch)
	}
	if rep.CollectedAt.IsZero() {
		return errors.New("collected_at is missing")
	}
	if len(rep.Modules) > l.MaxModules {
		return fmt.Errorf("%d module entries, more than the %d allowed", len(rep.Modules), l.MaxModules)
	}
	seen := make(map[string]bool, len(rep.Modules))
	metrics := 0
	for _, m := range rep.Modules {
		if !isName(m.Name, maxNameBytes) {
			return fmt.Errorf("module name %.80q is not lowercase [a-z0-9_.] of at most %d characters", m.Name, maxNameBytes)
		}
		if seen[m.Name] {
			return fmt.Errorf("module %s appears twice", m.Name)
		}
		seen[m.Name] = true
		if err := checkText("module "+m.Name+" error", m.Error, l.MaxErrorBytes, true); err != nil {
			return err
		}
		if !isFinite(m.DurationMS) || m.DurationMS < 0 {
			return fmt.Errorf("module %s has duration %v, not a finite non-negative number", m.Name, m.DurationMS)
		}
		metrics += len(m.Metrics)
		if metrics > l.MaxMetrics {
			return fmt.Errorf("more than the %d metrics allowed", l.MaxMetrics)
		}
		for _, mt := range m.Metrics {
			if err := checkMetric(m.Name, mt); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkMetric(module string, mt protocol.Metric) error {
	if !isName(mt.Name, maxNameBytes) {
		return fmt.Errorf("module %s has metric name %.80q, not lowercase [a-z0-9_.] of at most %d characters", module, mt.Name, maxNameBytes)
	}
	if !isFinite(mt.Value) {
		return fmt.Errorf("metric %s has value %v, not a finite number", mt.Name, mt.Value)
	}
	if mt.Unit != "" && !isName(mt.Unit, maxUnitBytes) {
		return fmt.Errorf("metric %s has unit %.40q, not lowercase [a-z0-9_.] of at most %d characters", mt.Name, mt.Unit, maxUnitBytes)
	}
	return nil
}

// isName reports whether s is 1..max characters of [a-z0-9_.].
func isName(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// checkText accepts valid UTF-8 of at most max bytes made of printable
// characters (and, when multiline, tabs and newlines): no terminal escape
// sequences or other control characters reach a log or a mail. U+FFFD is
// refused too: the JSON decoder puts it where the input was not UTF-8.
func checkText(field, s string, max int, multiline bool) error {
	if len(s) > max {
		return fmt.Errorf("%s is %d bytes, more than the %d allowed", field, len(s), max)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%s is not valid UTF-8", field)
	}
	for _, r := range s {
		if multiline && (r == '\n' || r == '\t') {
			continue
		}
		if r == utf8.RuneError {
			return fmt.Errorf("%s is not valid UTF-8", field)
		}
		if !unicode.IsPrint(r) {
			return fmt.Errorf("%s contains the non-printable character %U", field, r)
		}
	}
	return nil
}

func isFinite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }
