package alert

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/cscs-dev/cscs/core/config"
)

// Op is the comparison of a rule: the rule fires while value Op threshold
// holds.
type Op string

// The comparisons a limit may start with; a limit without one compares
// with Above.
const (
	Above   Op = ">"
	AtLeast Op = ">="
	Below   Op = "<"
	AtMost  Op = "<="
)

// Holds reports whether value compared with threshold by o is true, that
// is whether a rule with this comparison fires.
func (o Op) Holds(value, threshold float64) bool {
	switch o {
	case Above:
		return value > threshold
	case AtLeast:
		return value >= threshold
	case Below:
		return value < threshold
	case AtMost:
		return value <= threshold
	}
	return false
}

// unitKind is what a metric measures, as far as limits are concerned.
type unitKind int

const (
	kindPlain   unitKind = iota // counts and ratios: plain numbers only
	kindPercent                 // percent points, 0-100
	kindBytes
	kindSeconds
)

// kindOf maps a declared metric unit to its kind; unknown units take
// plain numbers.
func kindOf(metricUnit string) unitKind {
	switch metricUnit {
	case "percent":
		return kindPercent
	case "bytes":
		return kindBytes
	case "seconds":
		return kindSeconds
	}
	return kindPlain
}

// noun says what a quantity of kind k is, for diagnostics.
func (k unitKind) noun() string {
	switch k {
	case kindPercent:
		return "a percentage"
	case kindBytes:
		return "a size"
	case kindSeconds:
		return "a duration"
	}
	return "a plain number"
}

// durationUnits are the duration suffixes, in seconds; case matters ("M"
// is not minutes).
var durationUnits = map[string]float64{"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}

// byteUnits are the size suffixes in lower case, in bytes; they match
// case-insensitively.
var byteUnits = map[string]float64{
	"b":  1,
	"kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12,
	"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
}

// classifyUnit returns the kind a written unit belongs to and its factor
// to the base unit (percent points, bytes, seconds); ok is false for a
// unit that is none of them.
func classifyUnit(u string) (kind unitKind, factor float64, ok bool) {
	if u == "%" {
		return kindPercent, 1, true
	}
	if f, ok := durationUnits[u]; ok {
		return kindSeconds, f, true
	}
	if f, ok := byteUnits[strings.ToLower(u)]; ok {
		return kindBytes, f, true
	}
	return kindPlain, 0, false
}

// limit is a parsed limit attribute.
type limit struct {
	op Op
	// threshold is in the metric's base unit.
	threshold float64
}

// finding is one problem with a limit; an Error means the limit cannot be
// used.
type finding struct {
	severity config.Severity
	message  string
	fix      string
}

// comparisonFixes are the comparisons operators mistype, and what they
// meant.
var comparisonFixes = map[string]Op{"=>": AtLeast, "=<": AtMost, ">>": Above, "<<": Below}

// parseLimit parses text, a limit as written in config.xml, for an alert
// of type t:
//
//	[> | < | >= | <=] number [unit]
//
// The unit must fit the metric: % for percent metrics, B, KB, MB, GB, TB
// (1000-based) or KiB, MiB, GiB, TiB (1024-based) for bytes, s, m, h, d, w
// for seconds, none for counts and ratios. A plain number on a percent
// metric is read as percent with a Warning; on bytes and seconds metrics
// it is in bytes and seconds.
func parseLimit(text string, t Type) (limit, []finding) {
	kind := kindOf(t.Unit)
	example := exampleLimit(kind)
	s := strings.TrimSpace(text)
	if s == "" {
		return limit{}, []finding{{config.Error, "the limit is empty", "write a limit such as " + example}}
	}

	lim := limit{op: Above}
	for _, op := range []Op{AtLeast, AtMost, Above, Below} {
		if rest, ok := strings.CutPrefix(s, string(op)); ok {
			lim.op, s = op, strings.TrimSpace(rest)
			break
		}
	}
	if opText := leadingComparison(text); opText != "" && opText != string(lim.op) {
		rest := strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(text), "=<>!"))
		fix := "start the limit with >, <, >= or <= (or with nothing, which means >), as in >" + orExample(rest, example)
		if op, ok := comparisonFixes[opText]; ok {
			fix = "write " + string(op) + orExample(rest, example)
		}
		return limit{}, []finding{{config.Error, fmt.Sprintf("%q is not a comparison", opText), fix}}
	}

	numText, unit := splitNumber(s)
	unit = strings.TrimSpace(unit)
	if numText == "" {
		msg := fmt.Sprintf("%q does not start with a number", s)
		if strings.HasPrefix(s, "-") {
			msg = "a limit cannot be negative"
		}
		return limit{}, []finding{{config.Error, msg, "write a limit such as " + example}}
	}
	number, err := strconv.ParseFloat(numText, 64)
	switch {
	case errors.Is(err, strconv.ErrRange):
		return limit{}, []finding{{config.Error, fmt.Sprintf("%s is too large", numText), "write a limit such as " + example}}
	case err != nil || strings.HasSuffix(numText, "."):
		return limit{}, []finding{{config.Error, fmt.Sprintf("%q is not a number", numText), "write a number such as " + example}}
	}
	if strings.HasPrefix(unit, ",") {
		return limit{}, []finding{{config.Error, "a comma is not a decimal point",
			"write " + string(lim.op) + numText + "." + strings.TrimPrefix(unit, ",")}}
	}

	var findings []finding
	switch unitKind, factor, known := classifyUnit(unit); {
	case unit == "":
		lim.threshold = number
		if kind == kindPercent {
			findings = append(findings, finding{config.Warning,
				fmt.Sprintf("%q has no unit; read as %s%%", strings.TrimSpace(text), numText),
				"write " + numText + "%"})
		}
	case kind == kindBytes && len(unit) == 1 && strings.Contains("kmgtKMGT", unit):
		u := strings.ToUpper(unit)
		return limit{}, []finding{{config.Error, fmt.Sprintf("the unit %q is ambiguous", unit),
			fmt.Sprintf("write %s%siB (1024-based) or %s%sB (1000-based)", numText, u, numText, u)}}
	case !known:
		return limit{}, []finding{{config.Error, fmt.Sprintf("unknown unit %q", unit), unitsFix(t, kind)}}
	case unitKind != kind:
		return limit{}, []finding{{config.Error,
			fmt.Sprintf("%q is %s, but %s compares %s (%s)", strings.TrimSpace(text), unitKind.noun(), t.Name, kind.noun(), t.Metric),
			mismatchFix(t, kind, numText, number)}}
	default:
		lim.threshold = number * factor
	}

	if why := never(lim, kind); why != "" {
		findings = append(findings, finding{config.Warning,
			fmt.Sprintf("%s %s can never fire", t.Name, strings.TrimSpace(text)),
			"check the limit; " + why})
	}
	return lim, findings
}

// leadingComparison returns the run of comparison characters text starts
// with (after spaces), e.g. "=>" for "=>90%".
func leadingComparison(text string) string {
	s := strings.TrimSpace(text)
	end := 0
	for end < len(s) && strings.IndexByte("=<>!", s[end]) >= 0 {
		end++
	}
	return s[:end]
}

// splitNumber splits s into its leading run of digits and dots and the
// rest.
func splitNumber(s string) (number, rest string) {
	end := 0
	for end < len(s) && (s[end] >= '0' && s[end] <= '9' || s[end] == '.') {
		end++
	}
	return s[:end], s[end:]
}

// never says why a rule with lim can never fire on a metric of kind k,
// whose values are never negative and, for percentages, never above 100;
// it returns "" when the rule can fire.
func never(lim limit, k unitKind) string {
	switch {
	case lim.op == Below && lim.threshold <= 0:
		return "values are never below 0"
	case k == kindPercent && (lim.op == Above && lim.threshold >= 100 || lim.op == AtLeast && lim.threshold > 100):
		return "percentages go from 0 to 100"
	}
	return ""
}

// exampleLimit is a limit that fits a metric of kind k.
func exampleLimit(k unitKind) string {
	switch k {
	case kindPercent:
		return "90%"
	case kindBytes:
		return "2GiB"
	case kindSeconds:
		return "10m"
	}
	return "4"
}

func orExample(rest, example string) string {
	if rest == "" {
		return example
	}
	return rest
}

// unitsFix lists the units that fit type t.
func unitsFix(t Type, k unitKind) string {
	switch k {
	case kindPercent:
		return t.Name + " is a percentage: write a number followed by %, such as 90%"
	case kindBytes:
		return "use B, KB, MB, GB, TB (1000-based) or KiB, MiB, GiB, TiB (1024-based), as in 2GiB"
	case kindSeconds:
		return "use s, m, h, d or w (seconds, minutes, hours, days, weeks), as in 10m or 10d"
	}
	return t.Name + " is a plain number: write it without a unit, such as 4"
}

// mismatchFix says how to write a limit for type t whose unit was of the
// wrong kind; number is the number the operator wrote.
func mismatchFix(t Type, k unitKind, numText string, number float64) string {
	switch k {
	case kindPercent:
		if number > 100 {
			numText = "90"
		}
		return t.Name + " is a percentage: write " + numText + "%"
	case kindBytes:
		return t.Name + " is a size in bytes: write a size such as 2GiB (1024-based) or 2GB (1000-based)"
	case kindSeconds:
		return t.Name + " is a duration: write a duration such as 10m, 12h or 10d"
	}
	return t.Name + " is a plain number: write " + numText
}
