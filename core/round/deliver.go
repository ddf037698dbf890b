package round

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/cscs-dev/cscs/core/config"
	"github.com/cscs-dev/cscs/core/outbox"
	"github.com/cscs-dev/cscs/core/pipeline"
	"github.com/cscs-dev/cscs/core/state"
	"github.com/cscs-dev/cscs/sdk/notifier"
)

// MailWait bounds how long a round run on its own (Run, as `cscs run`
// runs it) may spend delivering the outbox, beside storing the round. A
// working mail server sends a round's mail well within it; a dead one
// costs one attempt (a refused connection returns at once, a server that
// never greets is given up after the SMTP notifier's connect timeout),
// and what is not sent waits in the outbox for the next run.
const MailWait = 10 * time.Second

// Deliverer sends the outbox of a plan's state database through the
// notifiers, channel by channel, oldest first. Between its deliveries it
// remembers which channel's notifier was unavailable and holds that
// channel until its backoff ends (or a new plan, such as a reload with
// fixed settings, comes), and which notifications it changed, so that the
// next round hands their records to the storages (TakeTried).
// A service runs one beside its rounds (RunOptions.Deliverer). It is safe
// for concurrent use; its deliveries run one at a time.
type Deliverer struct {
	mu sync.Mutex // held by a delivery
	// holds are the channels whose notifier was unavailable, until when,
	// under plan.
	holds map[string]time.Time
	plan  *Plan

	triedMu sync.Mutex
	tried   []string
}

// NewDeliverer returns a Deliverer with no channel held.
func NewDeliverer() *Deliverer {
	return &Deliverer{holds: map[string]time.Time{}}
}

// Delivery is what one delivery of the outbox did.
type Delivery struct {
	// OK is false when a notification failed for good, a notifier could
	// not be started or the outbox could not be read.
	OK bool
	// Sent counts the notifications sent; Waiting those this delivery
	// tried or left (deferred) that wait in the outbox for a later one,
	// not those of a held channel.
	Sent, Waiting int
	// Next is when a channel held after its notifier was unavailable is
	// worth trying again; zero when none is held. Held counts those
	// channels.
	Next time.Time
	Held int
}

// Deliver sends what the outbox of p's state database holds, within ctx,
// and writes its notes to rep: the email channel goes through the
// built-in SMTP notifier with email_config.json's settings, the overlay's
// notifier instances through their plugins. Without email_config.json
// the mail waits in the outbox.
func (d *Deliverer) Deliver(ctx context.Context, p *Plan, rep Reporter) Delivery {
	notes := noter{rep}
	st, err := state.Open(ctx, p.Env.StateTarget(), state.Options{})
	if err != nil {
		notes.problem("mail not sent, the notifications wait in the outbox: state database: %v", err)
		return Delivery{}
	}
	defer st.Close()
	return d.deliver(ctx, p, st, notes, nil)
}

// TakeTried returns the ids of the notifications the deliveries since the
// last call sent or tried, and forgets them.
func (d *Deliverer) TakeTried() []string {
	d.triedMu.Lock()
	defer d.triedMu.Unlock()
	out := d.tried
	d.tried = nil
	return out
}

func (d *Deliverer) addTried(ids []string) {
	d.triedMu.Lock()
	defer d.triedMu.Unlock()
	d.tried = append(d.tried, ids...)
}

// deliver is Deliver on an open state database. The notifiers start
// through pipe (see pipeline.Pipeline.StartNotifier): a round's pipeline
// serves the mail's built-in notifier from a process it already has; nil
// starts each one on its own.
func (d *Deliverer) deliver(ctx context.Context, p *Plan, st *state.DB, notes noter, pipe *pipeline.Pipeline) Delivery {
	d.mu.Lock()
	defer d.mu.Unlock()
	if p != d.plan {
		clear(d.holds) // new settings: worth trying at once
		d.plan = p
	}
	dl := delivery{plan: p, st: st, ob: outbox.New(st), notes: notes, pipe: pipe}
	out := Delivery{OK: true}
	channels, err := st.WaitingChannels(ctx)
	if err != nil {
		notes.problem("outbox: %v", err)
		return Delivery{}
	}
	for _, ch := range channels {
		if until, held := d.holds[ch]; held {
			if time.Now().Before(until) {
				out.Next = earliest(out.Next, until)
				out.Held++
				continue
			}
			delete(d.holds, ch)
		}
		due, err := st.DueNotificationsOn(ctx, ch, time.Now(), 1)
		if err != nil {
			notes.problem("outbox: %v", err)
			out.OK = false
			continue
		}
		if len(due) == 0 {
			continue // nothing to start a notifier for
		}
		rep, ok := dl.channel(ctx, ch)
		out.OK = out.OK && ok
		out.Sent += rep.Sent
		out.Waiting += rep.Retrying + rep.Deferred
		d.addTried(rep.Tried)
		if rep.Unavailable {
			d.holds[ch] = rep.RetryAt
			out.Next = earliest(out.Next, rep.RetryAt)
			out.Held++
		}
	}
	return out
}

// defaultNotifier is the notifier plugin of the email channel
// (state.DefaultChannel).
const defaultNotifier = "smtp"

// earliest is the earlier of a and b, a zero time standing for none.
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

// delivery delivers the outbox of one state database.
type delivery struct {
	plan  *Plan
	st    *state.DB
	ob    *outbox.Outbox
	notes noter
	// pipe starts the notifiers; nil starts each on its own.
	pipe *pipeline.Pipeline
}

// channel delivers channel's due notifications through its notifier,
// started through the pipeline; ok is false when one failed for good or
// the notifier could not be started.
func (d delivery) channel(ctx context.Context, ch string) (rep outbox.Report, ok bool) {
	plugin, cfg, found := d.notifierOf(ctx, ch)
	if !found {
		return outbox.Report{}, !d.leftOut(ch)
	}
	n, stop, err := d.pipe.StartNotifier(ctx, d.plan.pipelineOptions(), plugin, cfg)
	if err != nil {
		if ch == state.DefaultChannel {
			d.notes.pluginProblem("mail not sent, the notifications wait in the outbox: %s", d.plan.redact(err.Error()))
		} else {
			d.notes.pluginProblem("notifier %s (%s): not sent, the notifications wait in the outbox: %s", ch, plugin, d.plan.redact(err.Error()))
		}
		return outbox.Report{}, false
	}
	defer stop()
	return d.via(ctx, n, ch)
}

// notifierOf is the notifier plugin and configuration of channel; found
// is false (with a note) when nothing can deliver it this round.
func (d delivery) notifierOf(ctx context.Context, channel string) (plugin string, cfg []byte, found bool) {
	if channel == state.DefaultChannel {
		email := d.plan.Config.Email
		if email == nil {
			ids, _ := d.st.DueNotificationsOn(ctx, state.DefaultChannel, time.Now().Add(24*365*time.Hour), 100000)
			d.notes.problem("%d notification(s) wait in the outbox: %s is missing; create it (see docs/configuration.md) and they go out with the next run",
				len(ids), d.plan.Config.Files.Email)
			return "", nil, false
		}
		return defaultNotifier, EmailNotifierConfig(email), true
	}
	in, ok := notifierInstance(d.plan.Config.Overlay, channel)
	if !ok {
		d.notes.problem("notifications wait in the outbox for notifier %q, which no overlay declares; declare it again to send them", channel)
		return "", nil, false
	}
	if in.LeftOut != nil {
		d.notes.pluginProblem("notifier %s (%s): left out of this round, the notifications wait in the outbox: %s", channel, in.Plugin, d.plan.redact(in.LeftOut.Error()))
		return "", nil, false
	}
	raw, err := in.JSON()
	if err != nil {
		d.notes.problem("notifier %s: not sent, the notifications wait in the outbox: %v", channel, err)
		return "", nil, false
	}
	return in.Plugin, raw, true
}

// leftOut reports whether channel's notifier plugin is left out of the
// round.
func (d delivery) leftOut(channel string) bool {
	in, ok := notifierInstance(d.plan.Config.Overlay, channel)
	return ok && in.LeftOut != nil
}

// via delivers one channel's due notifications through sender and
// reports how it went; ok is false when one failed for good.
func (d delivery) via(ctx context.Context, sender outbox.Sender, channel string) (outbox.Report, bool) {
	opts := outbox.Options{Redact: d.plan.redact, Channel: channel}
	if retry := d.plan.Settings.MailRetry; retry > 0 {
		opts.Backoff = func(int) time.Duration { return retry }
	}
	// One Deliver takes on outbox.DefaultLimit notifications; a longer
	// queue is delivered in several, through the same notifier, until one
	// takes on fewer or stops early.
	var rep outbox.Report
	for {
		part, err := d.ob.Deliver(ctx, sender, opts)
		rep = mergeReports(rep, part)
		if err != nil {
			d.notes.problem("outbox: %v", err)
			return rep, false
		}
		taken := part.Sent + part.Retrying + part.Failed + part.Deferred
		if taken < outbox.DefaultLimit || part.Deferred > 0 || part.Unavailable || part.Sent == 0 || ctx.Err() != nil {
			break
		}
	}
	label := "mail"
	if channel != state.DefaultChannel {
		label = "notifier " + channel
	}
	for _, e := range rep.Errors {
		d.notes.problem("%s: %s", label, e)
	}
	if rep.Sent+rep.Retrying+rep.Failed+rep.Deferred > 0 {
		d.notes.info("%s: %d sent, %d retrying later, %d failed", label, rep.Sent, rep.Retrying+rep.Deferred, rep.Failed)
	}
	return rep, rep.Failed == 0
}

// mergeReports adds the report of a later Deliver, b, to a.
func mergeReports(a, b outbox.Report) outbox.Report {
	a.Sent += b.Sent
	a.Retrying += b.Retrying
	a.Failed += b.Failed
	a.Recovered += b.Recovered
	a.Deferred += b.Deferred
	if b.Unavailable {
		a.Unavailable, a.RetryAt = true, b.RetryAt
	}
	a.Tried = append(a.Tried, b.Tried...)
	a.Errors = append(a.Errors, b.Errors...)
	return a
}

// EmailNotifierConfig is the configuration of the built-in SMTP notifier
// (plugins/notifier/smtp Config) for email_config.json's settings. It
// holds the password: pass it to Configure only.
func EmailNotifierConfig(email *config.Email) []byte {
	cfg := map[string]any{
		"host":     email.Host,
		"port":     email.Port,
		"security": email.Security,
		"from":     email.From,
	}
	if email.Username != "" {
		cfg["username"] = email.Username
		cfg["password"] = email.Password.Reveal()
	}
	data, _ := json.Marshal(cfg) // strings and an int
	return data
}

// SendError is a test mail the SMTP server did not take.
type SendError struct {
	// Temporary is set when trying again later may work (the server was
	// unreachable, busy or slow).
	Temporary bool
	Err       error
}

func (e *SendError) Error() string { return e.Err.Error() }
func (e *SendError) Unwrap() error { return e.Err }

// SendTestMail sends a test mail to the address to with the settings of
// cfg.Email, through the built-in SMTP notifier started as a round starts
// it. A refusal of the settings wraps pipeline.ErrSettingsRefused; a mail
// the server did not take is a *SendError.
func SendTestMail(ctx context.Context, cfg *Config, to, version string) error {
	email := cfg.Email
	smtp, stop, err := pipeline.StartNotifier(ctx, pipeline.Options{Version: version}, defaultNotifier, EmailNotifierConfig(email))
	if err != nil {
		return err
	}
	defer stop()
	now := time.Now()
	host, _ := os.Hostname()
	if host == "" {
		host = "this machine"
	}
	body := fmt.Sprintf("This is a test mail from `cscs mail test`.\n\n"+
		"It was sent by cscs %s on %s at %s\n"+
		"through %s (security %s) as %s.\n\n"+
		"Since it reached you, alert mails from CSCS can reach this address.\n",
		version, host, now.Format(time.RFC1123Z),
		net.JoinHostPort(email.Host, strconv.Itoa(email.Port)), email.Security, email.From)
	err = smtp.Send(ctx, notifier.Notification{
		ID: outbox.NewID(), Kind: "test", To: []string{to}, Subject: "CSCS test mail", Body: body, CreatedAt: now,
	})
	if err != nil {
		return &SendError{Temporary: notifier.IsTemporary(err), Err: err}
	}
	return nil
}
