package cli

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cscs-dev/cscs/core/alert"
	"github.com/cscs-dev/cscs/core/config"
	"github.com/cscs-dev/cscs/core/eventmail"
	"github.com/cscs-dev/cscs/core/outbox"
	"github.com/cscs-dev/cscs/core/overlay"
	"github.com/cscs-dev/cscs/core/pluginhost"
	"github.com/cscs-dev/cscs/core/state"
	"github.com/cscs-dev/cscs/sdk/notifier"
	sdkplugin "github.com/cscs-dev/cscs/sdk/plugin"
	"github.com/cscs-dev/cscs/sdk/source"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// roundMail is what a round's alerts produced: whether mail went well,
// and the alert states and outbox records that changed, for the storages.
type roundMail struct {
	ok            bool
	alerts        []storage.AlertState
	notifications []storage.NotificationRecord
}

// raiseAlerts evaluates every client's rules against this round's samples,
// queues one grouped mail per client in the outbox (kept in the core's state
// database), and delivers what the outbox holds. ok is false when a
// notification failed for good or could not be queued.
// st is the round's state database; nil (it could not be opened) skips
// the alerts.
//
// Every client with an event-log source for its platform also gets the
// round's event-log mail, without condition (see package eventmail).
func raiseAlerts(ctx context.Context, env *Env, st *state.DB, s *settings, cfg *config.Config, ov *overlay.Overlay,
	rules [][]alert.Rule, orules *overlayRules, eventSources []source.Description, batch *storage.Batch) roundMail {
	if st == nil {
		fmt.Fprintf(env.Stderr, "cscs run: alerts skipped: the state database could not be opened\n")
		return roundMail{}
	}
	ob := outbox.New(st)
	rm := roundMail{ok: true}
	// Mail channels need the client's address; other notifiers do not.
	needsTo := func(channel string) bool {
		if channel == state.DefaultChannel {
			return true
		}
		in, ok := notifierInstance(ov, channel)
		return ok && in.Plugin == "smtp"
	}
	var queued []string
	var values []state.HostValues // stored in one transaction after the loop
	now := time.Now()
	for i, cl := range cfg.Clients {
		col := batch.Collections[i]
		if col.Status != storage.StatusOK {
			continue // no values: an unreachable host neither fires nor resolves
		}
		samples := make(map[string]float64, len(col.Samples))
		for _, sm := range col.Samples {
			samples[sm.Metric] = sm.Value
		}
		host := alert.HostInfo{IP: cl.IP, Port: cl.Port, Hostname: col.Hostname, Mail: cl.Mail, OS: col.OS, Arch: col.Arch}
		var groups []*overlay.Group
		if ov != nil {
			groups = ov.GroupsOf(cl.IP, col.OS)
		}
		route := func(kind, severity string) []string {
			return channelsFor(ov, overlay.Notice{Kind: kind, Severity: severity, Groups: overlay.GroupNames(groups), Host: cl.IP})
		}
		var allowed []string
		if ov != nil {
			allowed = overlay.SourcesFor(groups)
		}
		hostRules := append(slices.Clone(rules[i]), orules.forHost(groups)...)
		states, ids, err := alertHost(ctx, env, st, ob, host, hostRules, samples, s.alertRepeat, now, route, needsTo)
		if err != nil {
			fmt.Fprintf(env.Stderr, "cscs run: alerts for %s: %v\n", hostLabel(col), err)
			rm.ok = false
		}
		rm.alerts = append(rm.alerts, states...)
		queued = append(queued, ids...)
		values = append(values, state.HostValues{HostIP: cl.IP, HostPort: cl.Port, At: col.FinishedAt, Values: samples})
		if ids, err := queueEventLog(ctx, ob, cl, col, eventSources, allowed, now, route("eventlog", "info"), needsTo); err != nil {
			fmt.Fprintf(env.Stderr, "cscs run: event-log mail for %s: %v\n", hostLabel(col), err)
			rm.ok = false
		} else {
			queued = append(queued, ids...)
		}
	}
	if err := st.AddRoundValues(ctx, values); err != nil {
		fmt.Fprintf(env.Stderr, "cscs run: keeping recent values: %v\n", err)
	}
	due, err := st.DueNotifications(ctx, time.Now(), 1000)
	if err != nil {
		fmt.Fprintf(env.Stderr, "cscs run: outbox: %v\n", err)
	}
	if !deliverMail(ctx, env, s, ov, ob, st) {
		rm.ok = false
	}
	rm.notifications = outboxRecords(ctx, st, append(queued, due...), time.Now())
	return rm
}

// queueEventLog queues the round's event-log mail for a client whose
// platform has an event-log source (among allowed, when not nil): its new
// events, or a line saying there were none, on each of channels. It
// returns the notifications' ids.
func queueEventLog(ctx context.Context, ob *outbox.Outbox, cl config.Client, col storage.Collection,
	eventSources []source.Description, allowed []string, now time.Time, channels []string, needsTo func(string) bool) ([]string, error) {
	applies := false
	for _, d := range eventSources {
		if d.YieldsEvents && d.Supports(source.Platform{OS: col.OS, Arch: col.Arch}) && (allowed == nil || slices.Contains(allowed, d.Name)) {
			applies = true
		}
	}
	if !applies {
		return nil, nil
	}
	msg := eventmail.Compose(eventmail.Host{IP: cl.IP, Port: cl.Port, Hostname: col.Hostname, Mail: cl.Mail}, col.Events, 0, now)
	n := notifier.Notification{
		Kind: storage.NotificationEventLog, Subject: msg.Subject, Body: msg.Body,
		Host: cl.IP + ":" + strconv.Itoa(cl.Port), CreatedAt: now,
	}
	if msg.To != "" {
		n.To = []string{msg.To}
	}
	return enqueueOn(ctx, ob, channels, n, needsTo, nil)
}

// enqueueOn queues n once per channel, each under its own id, and
// returns the ids. A channel that needsTo says mails is skipped when n
// has no recipient (noMail, when not nil, is called then).
func enqueueOn(ctx context.Context, ob *outbox.Outbox, channels []string, n notifier.Notification,
	needsTo func(string) bool, noMail func()) ([]string, error) {
	var ids []string
	warned := false
	for _, ch := range channels {
		if len(n.To) == 0 && needsTo(ch) {
			if noMail != nil && !warned {
				noMail()
				warned = true
			}
			continue
		}
		n.ID = outbox.NewID()
		if err := ob.EnqueueOn(ctx, ch, n); err != nil {
			return ids, err
		}
		ids = append(ids, n.ID)
	}
	return ids, nil
}

// alertHost runs one host's rules and returns the states it wrote and the
// ids of the notifications it queued, on the channels route gives for the
// mail's kind and worst severity. The new states are committed only once
// the mail is in the outbox, so a crash in between mails again rather
// than never.
func alertHost(ctx context.Context, env *Env, st *state.DB, ob *outbox.Outbox, host alert.HostInfo,
	rules []alert.Rule, samples map[string]float64, repeat time.Duration, now time.Time,
	route func(kind, severity string) []string, needsTo func(string) bool) ([]storage.AlertState, []string, error) {
	tr, err := alert.Evaluate(ctx, now, host, rules, samples, st, repeat)
	if err != nil {
		return nil, nil, err
	}
	var queued []string
	if !tr.Empty() {
		recent, err := alert.Recent(ctx, st, host, tr, alert.RecentCount)
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
			queued, err = enqueueOn(ctx, ob, route(storage.NotificationAlert, worstSeverity(tr)), n, needsTo, func() {
				fmt.Fprintf(env.Stderr, "cscs run: %s: %s, but the client has no mail address; add mail=\"…\" to its <client>\n", host.IP, msg.Subject)
			})
			if err != nil {
				return nil, nil, err
			}
		}
	}
	if err := tr.Commit(ctx, st); err != nil {
		return nil, queued, err
	}
	return alertStates(tr, rules, now), queued, nil
}

// alertStates turns the states a round wrote into records for the storages.
func alertStates(tr alert.Transitions, rules []alert.Rule, now time.Time) []storage.AlertState {
	byID := make(map[string]alert.Rule, len(rules))
	for _, r := range rules {
		byID[r.ID] = r
	}
	out := make([]storage.AlertState, 0, len(tr.Updates))
	for _, u := range tr.Updates {
		r := byID[u.RuleID]
		v := u.State.LastValue
		if math.IsNaN(v) || math.IsInf(v, 0) {
			v = 0
		}
		out = append(out, storage.AlertState{
			HostIP: u.HostIP, HostPort: u.HostPort, RuleID: u.RuleID, Type: r.Type, Metric: r.Metric,
			Condition: r.Condition(), Firing: u.State.Firing, Since: u.State.Since,
			LastNotified: u.State.LastNotified, LastValue: v, UpdatedAt: now,
		})
	}
	return out
}

// outboxRecords reads the outbox rows this round touched, for the storages.
func outboxRecords(ctx context.Context, st *state.DB, ids []string, now time.Time) []storage.NotificationRecord {
	seen := make(map[string]bool, len(ids))
	var out []storage.NotificationRecord
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		n, err := st.Notification(ctx, id)
		if err != nil {
			continue
		}
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

// deliverMail sends what the outbox holds, channel by channel: mail
// through the SMTP notifier of email_config.json, and the overlay's
// notifier instances through their plugins. Without email_config.json the
// mail waits in the outbox.
func deliverMail(ctx context.Context, env *Env, s *settings, ov *overlay.Overlay, ob *outbox.Outbox, st *state.DB) bool {
	channels, err := st.WaitingChannels(ctx)
	if err != nil {
		fmt.Fprintf(env.Stderr, "cscs run: outbox: %v\n", err)
		return false
	}
	ok := true
	for _, ch := range channels {
		if ch == state.DefaultChannel {
			ok = deliverEmail(ctx, env, s, ob, st) && ok
			continue
		}
		in, found := notifierInstance(ov, ch)
		if !found {
			fmt.Fprintf(env.Stderr, "cscs run: notifications wait in the outbox for notifier %q, which no overlay declares; declare it again to send them\n", ch)
			continue
		}
		redact := overlayRedactor(ov)
		n, stop, err := startNotifier(ctx, env, s, ov, in)
		if err != nil {
			fmt.Fprintf(env.Stderr, "cscs run: notifier %s: not sent, the notifications wait in the outbox: %s\n", ch, redact(err.Error()))
			ok = false
			continue
		}
		ok = deliverVia(ctx, env, s, ob, n, ch, redact) && ok
		stop()
	}
	return ok
}

// deliverEmail sends the mail channel through email_config.json's sender.
func deliverEmail(ctx context.Context, env *Env, s *settings, ob *outbox.Outbox, st *state.DB) bool {
	if _, err := os.Stat(s.emailPath); err != nil {
		ids, _ := st.DueNotificationsOn(ctx, state.DefaultChannel, time.Now().Add(24*365*time.Hour), 100000)
		fmt.Fprintf(env.Stderr, "cscs run: %d notification(s) wait in the outbox: %s is missing; create it (see docs/configuration.md) and they go out with the next run\n",
			len(ids), s.emailPath)
		return true
	}
	email, diags := config.LoadEmail(s.emailPath, config.LoadOptions{})
	if diags.HasErrors() {
		printDiagnostics(env, diags)
		fmt.Fprintf(env.Stderr, "cscs run: mail not sent: fix %s; the notifications wait in the outbox\n", s.emailPath)
		return false
	}
	smtp, stop, err := startSMTP(ctx, email)
	if err != nil {
		fmt.Fprintf(env.Stderr, "cscs run: mail not sent, the notifications wait in the outbox: %s\n", redactor(email)(err.Error()))
		return false
	}
	defer stop()
	return deliverVia(ctx, env, s, ob, smtp, state.DefaultChannel, redactor(email))
}

// deliverVia delivers one channel's due notifications through sender and
// reports how it went; false when one failed for good.
func deliverVia(ctx context.Context, env *Env, s *settings, ob *outbox.Outbox, sender outbox.Sender, channel string, redact func(string) string) bool {
	opts := outbox.Options{Redact: redact, Channel: channel}
	if s.mailRetry > 0 {
		opts.Backoff = func(int) time.Duration { return s.mailRetry }
	}
	rep, err := ob.Deliver(ctx, sender, opts)
	if err != nil {
		fmt.Fprintf(env.Stderr, "cscs run: outbox: %v\n", err)
		return false
	}
	label := "mail"
	if channel != state.DefaultChannel {
		label = "notifier " + channel
	}
	for _, e := range rep.Errors {
		fmt.Fprintf(env.Stderr, "cscs run: %s: %s\n", label, e)
	}
	if rep.Sent+rep.Retrying+rep.Failed+rep.Deferred > 0 {
		fmt.Fprintf(env.Stderr, "%s: %d sent, %d retrying later, %d failed\n", label, rep.Sent, rep.Retrying+rep.Deferred, rep.Failed)
	}
	return rep.Failed == 0
}

// startSMTP launches the built-in SMTP notifier out of process, as a
// round does, and configures it from email; stop kills it.
func startSMTP(ctx context.Context, email *config.Email) (notifier.Notifier, func(), error) {
	spec, err := pluginhost.BuiltinSpec(sdkplugin.KindNotifier, "smtp")
	if err != nil {
		return nil, nil, err
	}
	plugin, err := pluginhost.Launch(ctx, spec, pluginhost.Options{})
	if err != nil {
		return nil, nil, err
	}
	smtp, err := plugin.Notifier()
	if err == nil {
		if err = smtp.Configure(ctx, smtpConfig(email)); err != nil && !pluginFailed(err) {
			err = fmt.Errorf("%w: %w", errSMTPSettings, err)
		}
	}
	if err != nil {
		plugin.Kill()
		return nil, nil, err
	}
	return smtp, plugin.Kill, nil
}

// errSMTPSettings marks a Configure the SMTP notifier refused: the fault
// is in email_config.json, not in the plugin.
var errSMTPSettings = errors.New("the SMTP notifier refused these settings")

// redactor masks the SMTP password in text.
func redactor(email *config.Email) func(string) string {
	secret := email.Password.Reveal()
	return func(text string) string {
		if secret == "" {
			return text
		}
		return strings.ReplaceAll(text, secret, "********")
	}
}
