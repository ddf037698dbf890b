package alert

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/cscs-dev/cscs/sdk/storage"
)

// DefaultRepeat is how long a rule keeps firing before its mail is
// repeated, unless the configuration says otherwise.
const DefaultRepeat = 4 * time.Hour

// HostInfo is the client a round evaluated.
type HostInfo struct {
	// IP and Port are the client as configured (IP may be a host name).
	IP   string
	Port int
	// Hostname is what the host reported about itself; it is hostile text.
	Hostname string
	// Mail is the client's mail attribute, where its alerts go; may be
	// empty.
	Mail string
	// OS and Arch are the host's platform as reported this round.
	OS, Arch string
	// Status is the outcome of the host's collection this round; the down
	// rule reads it (see DownRule). Empty means unknown: the down rule is
	// then skipped.
	Status storage.Status
	// Error is why the collection failed, person-readable and with the
	// fix (empty when Status is ok); it is hostile text.
	Error string
	// Labels are, while a rule on one labelled sample is decided (see
	// ForSeries), that sample's labels: an expression rule reads them as
	// `labels`. Nil otherwise.
	Labels map[string]string
}

// State is the alert state of one rule on one host.
type State struct {
	Firing bool
	// Since is when the rule entered its current state (started firing,
	// or resolved, or was first evaluated).
	Since time.Time
	// LastNotified is when a mail about this rule was last composed.
	LastNotified time.Time
	// LastValue is the value of the metric at the last evaluation.
	LastValue float64
	// Streak counts the rounds in a row a rule with Rule.For > 1 held
	// without firing yet (for the down rule, Since is then when the
	// streak began).
	Streak int
}

// TimedValue is one past value of a metric.
type TimedValue struct {
	Time  time.Time
	Value float64
}

// StateStore keeps alert state and recent values. The core's state
// database implements it; MemoryStore is an in-memory one.
type StateStore interface {
	// Get returns the state of rule ruleID on a host; ok is false when the
	// rule was never evaluated there.
	Get(ctx context.Context, hostIP string, hostPort int, ruleID string) (s State, ok bool, err error)
	// Put replaces the state of rule ruleID on a host.
	Put(ctx context.Context, hostIP string, hostPort int, ruleID string, s State) error
	// RecentValues returns up to n of the latest values of metric on a
	// host, oldest first.
	RecentValues(ctx context.Context, hostIP string, hostPort int, metric string, n int) ([]TimedValue, error)
}

// Kind is what happened to a rule in a round.
type Kind int

// Kinds, from worst to least bad; a mail's subject names the worst.
const (
	// Fired: the rule was ok (or never evaluated) and now fires.
	Fired Kind = iota + 1
	// Repeated: the rule keeps firing and its last mail is at least the
	// repeat interval old.
	Repeated
	// Resolved: the rule fired and now holds no more.
	Resolved
)

// String returns "FIRING", "STILL FIRING" or "RESOLVED", as in mails.
func (k Kind) String() string {
	switch k {
	case Fired:
		return "FIRING"
	case Repeated:
		return "STILL FIRING"
	case Resolved:
		return "RESOLVED"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Transition is one rule that fired, is repeated or resolved in a round.
type Transition struct {
	Kind Kind
	Rule Rule
	// Value is the metric's value in this round.
	Value float64
	// Since is when the rule started firing; for Resolved, when the
	// firing that ended started.
	Since time.Time
	// At is the round's time.
	At time.Time
	// Retired is set for a rule that fired and is no longer configured
	// (see Retired); its Rule holds only the ID and a type.
	Retired bool
}

// Update is a rule state to store once the round's mail is enqueued.
type Update struct {
	HostIP   string
	HostPort int
	RuleID   string
	State    State
}

// Transitions is the outcome of evaluating one host's rules in a round.
type Transitions struct {
	// Changes are the rules that fired, repeated or resolved, in rule
	// order; a mail tells about them.
	Changes []Transition
	// Updates are the new states of every rule that had a sample; Commit
	// stores them.
	Updates []Update
}

// Empty reports whether nothing fired, repeated or resolved.
func (t Transitions) Empty() bool { return len(t.Changes) == 0 }

// Commit stores the new states. Call it after the round's mail (if any)
// is safely in the outbox: if the core stops in between, the next round
// finds the old state and mails again, rather than never.
func (t Transitions) Commit(ctx context.Context, store StateStore) error {
	for _, u := range t.Updates {
		if err := store.Put(ctx, u.HostIP, u.HostPort, u.RuleID, u.State); err != nil {
			return fmt.Errorf("store alert state of rule %s on %s: %w", u.RuleID, hostKey(u.HostIP, u.HostPort), err)
		}
	}
	return nil
}

// Evaluate compares one host's samples of a round (metric name to value)
// with its rules and the state the store holds, and returns what changed:
//
//   - ok → firing: Fired (mail).
//   - firing → firing: Repeated (mail) when the last mail is at least repeat
//     old; repeat 0 (or less) means a mail every round, as the original
//     server.py did. Otherwise nothing to mail.
//   - firing → ok: Resolved (mail).
//
// A rule whose metric has no sample this round (the host was unreachable,
// the module failed, the source is not installed there) or whose sample
// is not a finite number is skipped: it neither fires nor resolves, and
// its state is kept as it is, because nothing was learned about it.
//
// The down rule (DownRule) reads host.Status instead of samples: it holds
// for a failed host, not for a collected one, and is skipped for a
// cancelled one. A down state that did not change (a host that stays up,
// or stays down between repeats) is not in Updates, which spares a state
// write per host per round.
//
// Evaluate only reads the store; the new states are in the result's
// Updates, for Commit.
func Evaluate(ctx context.Context, now time.Time, host HostInfo, rules []Rule, samples map[string]float64, store StateStore, repeat time.Duration) (Transitions, error) {
	var tr Transitions
	for _, r := range rules {
		fires, v, ok := decide(r, host, samples)
		if !ok {
			continue // no news about this rule: keep its state (see above)
		}
		prev, found, err := store.Get(ctx, host.IP, host.Port, r.ID)
		if err != nil {
			return Transitions{}, fmt.Errorf("read alert state of rule %s on %s: %w", r.ID, hostKey(host.IP, host.Port), err)
		}
		every := repeat
		if r.Repeat != 0 {
			every = r.Repeat
		}
		next, kind := step(prev, found, fires, v, now, every, r.For)
		if r.IsDown() {
			next = downSince(prev, next, now, kind)
			if unchanged(prev, found, next, kind) {
				continue
			}
		}
		tr.Updates = append(tr.Updates, Update{HostIP: host.IP, HostPort: host.Port, RuleID: r.ID, State: next})
		if kind != 0 {
			since := next.Since
			if kind == Resolved {
				since = prev.Since
			}
			tr.Changes = append(tr.Changes, Transition{Kind: kind, Rule: r, Value: v, Since: since, At: now})
		}
	}
	return tr, nil
}

// decide says whether rule r breaks on a host this round and the value
// its mail shows; ok is false when the round says nothing about it.
func decide(r Rule, host HostInfo, samples map[string]float64) (fires bool, value float64, ok bool) {
	if r.IsDown() {
		v, ok := upValue(host)
		return ok && r.Fires(v), v, ok
	}
	if len(r.Labels) > 0 {
		samples = seriesView(samples, r.Labels)
		host.Labels = r.Labels
	}
	if r.Cond != nil {
		fires, ok = r.Cond.Holds(host, samples)
		value, found := samples[r.Metric]
		if !found {
			value = math.NaN()
		}
		return fires, value, ok
	}
	v, found := samples[r.Metric]
	if !found || math.IsNaN(v) || math.IsInf(v, 0) {
		return false, 0, false
	}
	return r.Fires(v), v, true
}

// unchanged reports whether the next state of a rule equals the stored
// one, so that storing it again can be skipped.
func unchanged(prev State, found bool, next State, kind Kind) bool {
	return found && kind == 0 && next == prev
}

// step is the state machine of one rule: from the previous state (found
// is false when there was none) and whether the rule holds now, the next
// state and the transition (0 for none). A rule with forRounds > 1 fires
// only once it held that many rounds in a row.
func step(prev State, found, fires bool, v float64, now time.Time, repeat time.Duration, forRounds int) (State, Kind) {
	next := prev
	next.LastValue = v
	if fires && !prev.Firing && forRounds > 1 {
		next.Streak = prev.Streak + 1
		if next.Streak < forRounds {
			if !found {
				next.Since = now
			}
			return next, 0
		}
	}
	next.Streak = 0
	switch {
	case fires && !prev.Firing:
		next.Firing, next.Since, next.LastNotified = true, now, now
		return next, Fired
	case fires && dueAgain(prev.LastNotified, now, repeat):
		next.LastNotified = now
		return next, Repeated
	case fires:
		return next, 0
	case prev.Firing:
		next.Firing, next.Since, next.LastNotified = false, now, now
		return next, Resolved
	case !found:
		next.Since = now
	}
	return next, 0
}

// dueAgain reports whether a rule still firing, last mailed at last, is
// mailed again now. A clock set back before last counts as due, so a
// clock change cannot silence a rule for long.
func dueAgain(last, now time.Time, repeat time.Duration) bool {
	return repeat <= 0 || now.Sub(last) >= repeat || now.Before(last)
}

// RecentCount is how many recent values a mail shows per alert.
const RecentCount = 5

// Recent fetches up to n recent values of every metric tr mentions, for
// Compose.
func Recent(ctx context.Context, store StateStore, host HostInfo, tr Transitions, n int) (map[string][]TimedValue, error) {
	recent := make(map[string][]TimedValue)
	for _, c := range tr.Changes {
		m := c.Rule.SeriesMetric()
		if _, done := recent[m]; done || c.Rule.IsDown() || c.Retired {
			continue
		}
		vs, err := store.RecentValues(ctx, host.IP, host.Port, m, n)
		if err != nil {
			return nil, fmt.Errorf("read recent values of %s on %s: %w", m, hostKey(host.IP, host.Port), err)
		}
		recent[m] = vs
	}
	return recent, nil
}
