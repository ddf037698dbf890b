package round

import (
	"context"
	"fmt"
	"math"
	"net"
	"slices"
	"strconv"
	"time"
	"unique"

	"github.com/cscs-dev/cscs/core/alert"
	"github.com/cscs-dev/cscs/core/alert/eventmail"
	"github.com/cscs-dev/cscs/core/config"
	"github.com/cscs-dev/cscs/core/outbox"
	"github.com/cscs-dev/cscs/core/overlay"
	"github.com/cscs-dev/cscs/core/state"
	"github.com/cscs-dev/cscs/sdk/metrics"
	"github.com/cscs-dev/cscs/sdk/notifier"
	"github.com/cscs-dev/cscs/sdk/source"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// noter writes a round's notes to its Reporter.
type noter struct{ rep Reporter }

func (n noter) problem(format string, args ...any) {
	n.rep.Note(Note{Problem: true, Text: fmt.Sprintf(format, args...)})
}

func (n noter) info(format string, args ...any) {
	n.rep.Note(Note{Text: fmt.Sprintf(format, args...)})
}

// HostLabel names a host for the operator: ip, or ip:port off port 22.
func HostLabel(ip string, port int) string {
	if port == 22 || port == 0 {
		return ip
	}
	return net.JoinHostPort(ip, strconv.Itoa(port))
}

// alerting is the alert stage of one round.
type alerting struct {
	plan  *Plan
	st    *state.DB // nil: the state database could not be opened
	notes noter
	// tried are notifications a delivery beside the rounds changed since
	// the last round; their records go to the storages with this round.
	tried []string
	// writes gathers what the round's rules write, for one transaction
	// after the loop (see raise).
	writes *roundWrites
	// cursors are the event cursors the round's hosts returned, written
	// with the round's mail.
	cursors *roundCursors
}

// roundWrites are the notifications and alert states a round's rules
// produced, written together by state.DB.CommitRound: a core that stops
// before leaves neither (the next round mails again), and a round of
// hundreds of mails takes one transaction instead of one per mail.
type roundWrites struct {
	queued  []state.Queued
	updates []alert.Update
}

// roundMail is what a round's alerts produced: whether notifying went
// well, and the alert states and outbox records that changed, for the
// storages.
type roundMail struct {
	ok            bool
	alerts        []storage.AlertState
	notifications []storage.NotificationRecord
	// ids are the notifications the records are of.
	ids []string
}

// raise evaluates every client's rules against this round's samples and
// its down rule against the collection's status, and queues one grouped
// notification per client in the outbox (kept in the core's state
// database); it sends nothing (see Deliverer). ok is false when a
// notification could not be queued.
//
// Every client with an event-log source for its platform also gets the
// round's event-log mail, without condition (see package eventmail).
func (a alerting) raise(ctx context.Context, eventSources []source.Description, batch *storage.Batch) roundMail {
	if a.st == nil {
		a.notes.problem("alerts skipped: the state database could not be opened")
		return roundMail{}
	}
	a.writes = &roundWrites{}
	rm := roundMail{ok: true}
	var queued []string
	var values []state.HostValues // stored in one transaction after the loop
	now := time.Now()
	firing := a.firingByHost(ctx)
	// One read of the round's hosts' states instead of one per rule and
	// host: on PostgreSQL most of the alert stage's time.
	if err := a.st.PrefetchAlerts(ctx, a.plan.stateHosts()); err != nil {
		a.notes.info("reading the round's alert states at once failed, they are read one by one: %v", err)
	}
	for i := range a.plan.Config.Inventory.Clients {
		out := a.client(ctx, i, batch.Collections[i], eventSources, firing, now)
		rm.ok = rm.ok && out.ok
		rm.alerts = append(rm.alerts, out.states...)
		queued = append(queued, out.queued...)
		if out.values != nil {
			values = append(values, *out.values)
		}
	}
	if err := a.st.CommitRound(ctx, a.writes.queued, a.writes.updates, a.cursors.take()); err != nil {
		a.notes.problem("queueing the round's %d notification(s) and storing its alert states and event cursors failed; the next round reads the events and mails again: %v",
			len(a.writes.queued), err)
		// Neither reached the state: the storages keep the states they have.
		rm.ok, queued, rm.alerts = false, nil, nil
	}
	if err := a.st.AddRoundValues(ctx, values); err != nil {
		a.notes.problem("keeping recent values: %v", err)
	}
	due, err := a.st.DueNotifications(ctx, time.Now(), 1000)
	if err != nil {
		a.notes.problem("outbox: %v", err)
	}
	rm.ids = slices.Concat(queued, due, a.tried)
	rm.notifications = outboxRecords(ctx, a.st, rm.ids, time.Now())
	return rm
}

// clientAlerts is what one client's alerts produced in a round.
type clientAlerts struct {
	ok     bool
	states []storage.AlertState
	queued []string
	// values are the round's samples to keep as recent values; nil when
	// the host was not collected.
	values *state.HostValues
}

// client evaluates the rules of client i for its collection col: the
// down rule for every host (a cancelled one is skipped by the rule
// itself), the other rules and the event-log mail only for a collected
// host, which alone has values.
func (a alerting) client(ctx context.Context, i int, col storage.Collection,
	eventSources []source.Description, firing map[string]map[string]alert.State, now time.Time) clientAlerts {
	cl := a.plan.Config.Inventory.Clients[i]
	out := clientAlerts{ok: true}
	collected := col.Status == storage.StatusOK
	host := alert.HostInfo{IP: cl.IP, Port: cl.Port, Hostname: col.Hostname, Mail: cl.Mail, OS: col.OS, Arch: col.Arch,
		Status: col.Status, Error: col.Error}
	groups := a.groupsOf(ctx, cl, col)
	route := func(kind, severity string) []string {
		return a.channelsFor(overlay.Notice{Kind: kind, Severity: severity, Groups: overlay.GroupNames(groups), Host: cl.IP})
	}
	var rules []alert.Rule
	var samples map[string]float64
	if collected {
		samples = make(map[string]float64, len(col.Samples))
		for _, sm := range col.Samples {
			// The maps are kept until the round's values are stored:
			// one copy of a folded name that the hosts share (the same
			// mount, the same interface) instead of one per host.
			samples[unique.Make(storage.FoldedName(sm.Metric, sm.Labels)).Value()] = sm.Value
		}
		rules = append(slices.Clone(a.plan.Config.Rules[i]), a.plan.overlayRules.forHost(groups)...)
		rules = alert.ForSeries(rules, col.Samples)
	}
	if down, on := downRule(a.plan.Config.Down[i], groups); on {
		rules = append(rules, down)
	}
	// A collected host had all its rules evaluated: those that fire and
	// are no longer configured resolve.
	var retired alert.Transitions
	if collected {
		retired = alert.Retired(now, host, firing[clientLabel(cl)], rules, a.plan.Config.SkippedTypes)
	}
	states, ids, err := a.host(ctx, host, rules, samples, retired, now, route)
	if err != nil {
		a.notes.problem("alerts for %s: %v", clientLabel(cl), err)
		out.ok = false
	}
	out.states, out.queued = states, ids
	if !collected {
		return out
	}
	out.values = &state.HostValues{HostIP: cl.IP, HostPort: cl.Port, At: col.FinishedAt, Values: samples}
	var allowed []string
	if a.plan.Config.Overlay != nil {
		allowed = overlay.SourcesFor(groups)
	}
	out.queued = append(out.queued, a.queueEventLog(cl, col, eventSources, allowed, now, route("eventlog", "info"))...)
	return out
}

// groupsOf are the overlay groups of a client this round. A host not
// reached has no OS this round; the platform detected in an earlier
// round stands in for it, so that groups with an os selector keep their
// down_after and routes for it.
func (a alerting) groupsOf(ctx context.Context, cl config.Client, col storage.Collection) []*overlay.Group {
	ov := a.plan.Config.Overlay
	if ov == nil {
		return nil
	}
	goos := col.OS
	if goos == "" && col.Status != storage.StatusOK {
		if p, ok, err := a.st.Platform(ctx, cl.IP, cl.Port, cl.Username); err == nil && ok {
			goos = p.OS
		}
	}
	return ov.GroupsOf(cl.IP, goos)
}

// channelsFor are the notifier instances a notification goes to.
func (a alerting) channelsFor(n overlay.Notice) []string {
	if a.plan.Config.Overlay == nil {
		return []string{overlay.DefaultNotifier}
	}
	return a.plan.Config.Overlay.Route(n)
}

// needsTo reports whether channel mails, and so needs the client's
// address: the email channel and the overlay's smtp instances.
func (a alerting) needsTo(channel string) bool {
	if channel == state.DefaultChannel {
		return true
	}
	in, ok := notifierInstance(a.plan.Config.Overlay, channel)
	return ok && in.Plugin == "smtp"
}

// queueEventLog queues the round's event-log mail for a client whose
// platform has an event-log source (among allowed, when not nil): its new
// events, or a line saying there were none, on each of channels. It
// returns the notifications' ids.
func (a alerting) queueEventLog(cl config.Client, col storage.Collection,
	eventSources []source.Description, allowed []string, now time.Time, channels []string) []string {
	applies := false
	for _, d := range eventSources {
		if d.YieldsEvents && d.Supports(source.Platform{OS: col.OS, Arch: col.Arch}) && (allowed == nil || slices.Contains(allowed, d.Name)) {
			applies = true
		}
	}
	if !applies {
		return nil
	}
	msg := eventmail.Compose(eventmail.Host{IP: cl.IP, Port: cl.Port, Hostname: col.Hostname, Mail: cl.Mail}, col.Events,
		ownSessionLines(col), 0, now)
	n := notifier.Notification{
		Kind: storage.NotificationEventLog, Subject: msg.Subject, Body: msg.Body,
		Host: cl.IP + ":" + strconv.Itoa(cl.Port), CreatedAt: now,
	}
	if msg.To != "" {
		n.To = []string{msg.To}
	}
	return a.enqueueOn(channels, n, nil)
}

// ownSessionLines is how many log records of the collector's own SSH
// sessions the agent's authlog module left out of col's events.
func ownSessionLines(col storage.Collection) int {
	n := 0
	for _, s := range col.Samples {
		if s.Metric == metrics.AuthlogOwnLines && s.Value > 0 && s.Value < 1e9 {
			n += int(s.Value)
		}
	}
	return n
}

// enqueueOn queues n once per channel, each under its own id, for the
// round's commit, and returns the ids. A channel that mails is skipped
// when n has no recipient (noMail, when not nil, is called then, once).
func (a alerting) enqueueOn(channels []string, n notifier.Notification, noMail func()) []string {
	var ids []string
	warned := false
	for _, ch := range channels {
		if len(n.To) == 0 && a.needsTo(ch) {
			if noMail != nil && !warned {
				noMail()
				warned = true
			}
			continue
		}
		n.ID = outbox.NewID()
		a.writes.queued = append(a.writes.queued, state.Queued{Channel: ch, N: n, DueAt: n.CreatedAt})
		ids = append(ids, n.ID)
	}
	return ids
}

// host runs one host's rules and returns the states it wrote and the ids
// of the notifications it queued, on the channels route gives for the
// mail's kind and worst severity. The mail and the new states are written
// with the round's (see roundWrites).
func (a alerting) host(ctx context.Context, host alert.HostInfo, rules []alert.Rule, samples map[string]float64,
	retired alert.Transitions, now time.Time, route func(kind, severity string) []string) ([]storage.AlertState, []string, error) {
	tr, err := alert.Evaluate(ctx, now, host, rules, samples, a.st, a.plan.Settings.AlertRepeat)
	if err != nil {
		return nil, nil, err
	}
	tr.Merge(retired)
	var queued []string
	if !tr.Empty() {
		recent, err := alert.Recent(ctx, a.st, host, tr, alert.RecentCount)
		if err != nil {
			return nil, nil, err
		}
		if msg, ok := alert.Compose(host, tr, recent, now); ok {
			n := notifier.Notification{
				Kind: storage.NotificationAlert, Subject: msg.Subject, Body: msg.Body,
				Host: host.IP + ":" + strconv.Itoa(host.Port), CreatedAt: now,
			}
			if msg.To != "" {
				n.To = []string{msg.To}
			}
			queued = a.enqueueOn(route(storage.NotificationAlert, worstSeverity(tr)), n, func() {
				a.notes.problem("%s: %s, but the client has no mail address; add mail=\"…\" to its <client>", host.IP, msg.Subject)
			})
		}
	}
	a.writes.updates = append(a.writes.updates, tr.Updates...)
	return alertStates(tr, rules, now), queued, nil
}

// firingByHost reads the rules firing on every host before the round, by
// host label and rule ID, for alert.Retired; nil (no rule is retired this
// round) when the state database cannot say.
func (a alerting) firingByHost(ctx context.Context) map[string]map[string]alert.State {
	all, err := a.st.FiringAlerts(ctx)
	if err != nil {
		a.notes.problem("alerts of removed or changed rules are not resolved this round: %v", err)
		return nil
	}
	out := map[string]map[string]alert.State{}
	for _, f := range all {
		label := HostLabel(f.HostIP, f.HostPort)
		if out[label] == nil {
			out[label] = map[string]alert.State{}
		}
		out[label][f.RuleID] = alert.State{Firing: true, Since: f.Since, LastValue: f.LastValue}
	}
	return out
}

// alertStates turns the states a round wrote into records for the storages.
func alertStates(tr alert.Transitions, rules []alert.Rule, now time.Time) []storage.AlertState {
	byID := make(map[string]alert.Rule, len(rules))
	for _, r := range rules {
		byID[r.ID] = r
	}
	for _, c := range tr.Changes {
		if c.Retired {
			byID[c.Rule.ID] = c.Rule
		}
	}
	out := make([]storage.AlertState, 0, len(tr.Updates))
	for _, u := range tr.Updates {
		r := byID[u.RuleID]
		metric := r.Metric
		if metric != "" {
			metric = r.SeriesMetric()
		}
		v := u.State.LastValue
		if math.IsNaN(v) || math.IsInf(v, 0) {
			v = 0
		}
		out = append(out, storage.AlertState{
			HostIP: u.HostIP, HostPort: u.HostPort, RuleID: u.RuleID, Type: r.Type, Metric: metric,
			Condition: r.Condition(), Firing: u.State.Firing, Since: u.State.Since,
			LastNotified: u.State.LastNotified, LastValue: v, UpdatedAt: now,
		})
	}
	return out
}

// outboxRecords reads the outbox rows this round touched, for the storages.
func outboxRecords(ctx context.Context, st *state.DB, ids []string, now time.Time) []storage.NotificationRecord {
	if len(ids) == 0 {
		return nil
	}
	ns, err := st.Notifications(ctx, ids)
	if err != nil {
		return nil
	}
	out := make([]storage.NotificationRecord, 0, len(ns))
	for _, n := range ns {
		ip, port := splitHostPort(n.Host)
		out = append(out, storage.NotificationRecord{
			ID: n.ID, Kind: n.Kind, HostIP: ip, HostPort: port, Recipients: n.To, Subject: n.Subject,
			Status: n.Status, Attempts: n.Attempts, LastError: n.LastError,
			CreatedAt: n.CreatedAt, SentAt: n.SentAt, UpdatedAt: now, Channel: n.Channel,
		})
	}
	return out
}

// splitHostPort splits "ip:port" (or a bare ip) as the outbox writes it.
func splitHostPort(host string) (string, int) {
	h, p, err := net.SplitHostPort(host)
	if err != nil {
		return host, 0
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		return h, 0
	}
	return h, port
}

// notifierInstance finds a notifier block by name.
func notifierInstance(ov *overlay.Overlay, name string) (overlay.Instance, bool) {
	if ov == nil {
		return overlay.Instance{}, false
	}
	for _, n := range ov.Notifiers {
		if n.Name == name {
			return n, true
		}
	}
	return overlay.Instance{}, false
}
