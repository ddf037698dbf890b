package alert

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/cscs-dev/cscs/core/config"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// The built-in down rule: a host whose collection fails a number of
// rounds in a row is DOWN. Its rule ID and type are both "down", in the
// state and in the storages' alerts table; the status page shows a host
// as DOWN while this rule fires.
const (
	// DownType is the down rule's type (and its <alert type>).
	DownType = config.DownAlertType
	// DownRuleID is the down rule's ID in the alert state.
	DownRuleID = "down"
	// UpMetric is the down rule's synthetic metric: 1 for a host collected
	// this round, 0 for one that failed. It is not stored as a sample.
	UpMetric = "host.up"
	// DefaultDownAfter is how many failed rounds in a row make a host
	// DOWN unless config.xml (<alert type="down" limit="5"/>) or an
	// overlay group (down_after = 5) says otherwise.
	DefaultDownAfter = 3
	// MaxDownAfter is the largest count of rounds a down limit may give.
	MaxDownAfter = config.MaxRounds
)

// DownRule is the down rule firing after rounds failed rounds in a row,
// with severity critical; rounds must be 1 or more.
func DownRule(rounds int) Rule {
	return Rule{
		ID: DownRuleID, Type: DownType, Metric: UpMetric, Op: Below, Threshold: 1,
		LimitText: "down " + roundsText(rounds), Severity: "critical", For: rounds,
	}
}

// IsDown reports whether r is the built-in down rule.
func (r Rule) IsDown() bool { return r.ID == DownRuleID }

// roundsText is "1 round" or "n rounds".
func roundsText(n int) string {
	if n == 1 {
		return "1 round"
	}
	return strconv.Itoa(n) + " rounds"
}

// upValue is a host's UpMetric this round: 1 when collected, 0 when the
// collection failed. ok is false when the round says nothing about the
// host: it was cancelled (the collector stopped mid-round) or its status
// is unknown.
func upValue(host HostInfo) (value float64, ok bool) {
	switch host.Status {
	case storage.StatusOK:
		return 1, true
	case storage.StatusCancelled, "":
		return 0, false
	}
	return 0, true
}

// downSince makes the down rule's Since the first failed round: set when
// a streak of failed rounds begins, and kept when the streak makes it
// fire, so that its mail and the status page say since when the host
// fails. (Other rules keep Since as when they fired.)
func downSince(prev, next State, now time.Time, kind Kind) State {
	switch {
	case next.Streak == 1:
		next.Since = now
	case kind == Fired && prev.Streak > 0:
		next.Since = prev.Since
	}
	return next
}

// DownLimit is a client's <alert type="down"> setting.
type DownLimit struct {
	// Set is false when the client has no <alert type="down">.
	Set bool
	// Rounds is the count of failed rounds in a row that fires; 0 turns
	// DOWN alerts off for the client.
	Rounds int
	// Pos is where the <alert> element is.
	Pos config.Pos
}

// downLimitPattern is a count of rounds: "5", "5 rounds", "1 round".
var downLimitPattern = regexp.MustCompile(`^([0-9]+)\s*(rounds?)?$`)

// CompileDown reads the <alert type="down"> elements of a client: a
// limit is a count of failed rounds in a row ("5", "5 rounds"), or "off"
// (or "0") to turn DOWN alerts off. A bad limit is an Error diagnostic at
// the element saying what to write; a second down alert is dropped with
// a Warning; one whose limit the inventory loader already reported is
// skipped. Compile leaves these elements to it.
func CompileDown(alerts []config.Alert) (DownLimit, config.Diagnostics) {
	var (
		out   DownLimit
		diags config.Diagnostics
	)
	for _, a := range alerts {
		if a.Type != DownType || a.LimitReported {
			continue
		}
		if out.Set {
			diags = append(diags, config.Diagnostic{Severity: config.Warning, Pos: a.Pos, Field: "alert down",
				Message: fmt.Sprintf("a second down alert; the one on line %d applies", out.Pos.Line), Fix: "remove one of them"})
			continue
		}
		rounds, err := parseDownLimit(a.Limit)
		if err != nil {
			diags = append(diags, config.Diagnostic{Severity: config.Error, Pos: a.Pos, Field: "alert down attribute limit",
				Message: err.Error(), Fix: `write a count of failed rounds in a row, such as limit="5" or limit="5 rounds", or limit="off" to turn DOWN alerts off`})
			continue
		}
		out = DownLimit{Set: true, Rounds: rounds, Pos: a.Pos}
	}
	diags.Sort()
	return out, diags
}

// parseDownLimit reads a down limit: a count of rounds, or "off" for 0.
func parseDownLimit(text string) (int, error) {
	s := strings.ToLower(strings.TrimSpace(text))
	if s == "off" {
		return 0, nil
	}
	m := downLimitPattern.FindStringSubmatch(s)
	if m == nil {
		if strings.HasPrefix(s, "-") {
			return 0, fmt.Errorf("a count of rounds cannot be negative")
		}
		return 0, fmt.Errorf("%q is not a count of rounds", strings.TrimSpace(text))
	}
	n, err := strconv.Atoi(m[1])
	if err != nil || n > MaxDownAfter {
		return 0, fmt.Errorf("%s rounds is too many; the most is %d", m[1], MaxDownAfter)
	}
	return n, nil
}
