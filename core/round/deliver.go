package round

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/cscs-dev/cscs/core/config"
	"github.com/cscs-dev/cscs/core/outbox"
	"github.com/cscs-dev/cscs/core/pipeline"
	"github.com/cscs-dev/cscs/core/state"
	"github.com/cscs-dev/cscs/sdk/notifier"
)

// delivery is the notification stage of one round.
type delivery struct {
	plan  *Plan
	st    *state.DB
	ob    *outbox.Outbox
	notes noter
}

// deliver sends what the outbox holds, channel by channel: the email
// channel through the built-in SMTP notifier with email_config.json's
// settings, and the overlay's notifier instances through their plugins;
// every notifier is started through the pipeline. Without
// email_config.json the mail waits in the outbox. It reports false when a
// notification failed for good or a notifier could not be started.
func (d delivery) deliver(ctx context.Context) bool {
	channels, err := d.st.WaitingChannels(ctx)
	if err != nil {
		d.notes.problem("outbox: %v", err)
		return false
	}
	ok := true
	for _, ch := range channels {
		plugin, cfg, found := d.notifierOf(ctx, ch)
		if !found {
			ok = ok && !d.leftOut(ch)
			continue
		}
		n, stop, err := pipeline.StartNotifier(ctx, d.plan.pipelineOptions(), plugin, cfg)
		if err != nil {
			if ch == state.DefaultChannel {
				d.notes.pluginProblem("mail not sent, the notifications wait in the outbox: %s", d.plan.redact(err.Error()))
			} else {
				d.notes.pluginProblem("notifier %s (%s): not sent, the notifications wait in the outbox: %s", ch, plugin, d.plan.redact(err.Error()))
			}
			ok = false
			continue
		}
		ok = d.via(ctx, n, ch) && ok
		stop()
	}
	return ok
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
		return "smtp", EmailNotifierConfig(email), true
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
// reports how it went; false when one failed for good.
func (d delivery) via(ctx context.Context, sender outbox.Sender, channel string) bool {
	opts := outbox.Options{Redact: d.plan.redact, Channel: channel}
	if retry := d.plan.Settings.MailRetry; retry > 0 {
		opts.Backoff = func(int) time.Duration { return retry }
	}
	rep, err := d.ob.Deliver(ctx, sender, opts)
	if err != nil {
		d.notes.problem("outbox: %v", err)
		return false
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
	return rep.Failed == 0
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
	smtp, stop, err := pipeline.StartNotifier(ctx, pipeline.Options{Version: version}, "smtp", EmailNotifierConfig(email))
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
