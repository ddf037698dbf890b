package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/cscs-dev/cscs/core/alert"
	"github.com/cscs-dev/cscs/core/config"
	"github.com/cscs-dev/cscs/core/outbox"
	"github.com/cscs-dev/cscs/core/pluginhost"
	"github.com/cscs-dev/cscs/core/state"
	"github.com/cscs-dev/cscs/sdk/notifier"
	sdkplugin "github.com/cscs-dev/cscs/sdk/plugin"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// raiseAlerts evaluates every client's rules against this round's samples,
// queues one grouped mail per client in the outbox (kept in the core's state
// database), and delivers what the outbox holds. It reports whether mail
// went well: false when a notification failed for good or could not be
// queued.
func raiseAlerts(ctx context.Context, env *Env, s *settings, cfg *config.Config, rules [][]alert.Rule, batch *storage.Batch) bool {
	st, err := state.Open(ctx, state.Path(s.dataDir), state.Options{})
	if err != nil {
		fmt.Fprintf(env.Stderr, "cscs run: alerts skipped: %v\n", err)
		return false
	}
	defer st.Close()
	ob := outbox.New(st)
	ok := true
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
		host := alert.HostInfo{IP: cl.IP, Port: cl.Port, Hostname: col.Hostname, Mail: cl.Mail}
		if err := alertHost(ctx, env, st, ob, host, rules[i], samples, s.alertRepeat, now); err != nil {
			fmt.Fprintf(env.Stderr, "cscs run: alerts for %s: %v\n", hostLabel(col), err)
			ok = false
		}
		if err := st.AddValues(ctx, cl.IP, cl.Port, col.FinishedAt, samples); err != nil {
			fmt.Fprintf(env.Stderr, "cscs run: keeping values of %s: %v\n", hostLabel(col), err)
		}
	}
	return deliverMail(ctx, env, s, ob, st) && ok
}

// alertHost runs one host's rules; the new alert state is committed only
// once its mail is in the outbox, so a crash in between mails again rather
// than never.
func alertHost(ctx context.Context, env *Env, st *state.DB, ob *outbox.Outbox, host alert.HostInfo,
	rules []alert.Rule, samples map[string]float64, repeat time.Duration, now time.Time) error {
	tr, err := alert.Evaluate(ctx, now, host, rules, samples, st, repeat)
	if err != nil || tr.Empty() {
		return err
	}
	recent, err := alert.Recent(ctx, st, host, tr, alert.RecentCount)
	if err != nil {
		return err
	}
	if msg, ok := alert.Compose(host, tr, recent, now); ok {
		if msg.To == "" {
			fmt.Fprintf(env.Stderr, "cscs run: %s: %s, but the client has no mail address; add mail=\"…\" to its <client>\n", host.IP, msg.Subject)
		} else if err := ob.Enqueue(ctx, notifier.Notification{
			ID: outbox.NewID(), Kind: "alert", To: []string{msg.To}, Subject: msg.Subject, Body: msg.Body,
			Host: host.IP + ":" + strconv.Itoa(host.Port), CreatedAt: now,
		}); err != nil {
			return err
		}
	}
	return tr.Commit(ctx, st)
}

// deliverMail sends what the outbox holds through the SMTP notifier of
// email_config.json. Without that file the mail waits in the outbox.
func deliverMail(ctx context.Context, env *Env, s *settings, ob *outbox.Outbox, st *state.DB) bool {
	counts, err := st.NotificationCounts(ctx)
	if err != nil {
		fmt.Fprintf(env.Stderr, "cscs run: outbox: %v\n", err)
		return false
	}
	if counts[state.StatusPending]+counts[state.StatusSending] == 0 {
		return true
	}
	if _, err := os.Stat(s.emailPath); err != nil {
		fmt.Fprintf(env.Stderr, "cscs run: %d notification(s) wait in the outbox: %s is missing; create it (see docs/configuration.md) and they go out with the next run\n",
			counts[state.StatusPending]+counts[state.StatusSending], s.emailPath)
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
	opts := outbox.Options{Redact: redactor(email)}
	if s.mailRetry > 0 {
		opts.Backoff = func(int) time.Duration { return s.mailRetry }
	}
	rep, err := ob.Deliver(ctx, smtp, opts)
	if err != nil {
		fmt.Fprintf(env.Stderr, "cscs run: outbox: %v\n", err)
		return false
	}
	for _, e := range rep.Errors {
		fmt.Fprintf(env.Stderr, "cscs run: mail: %s\n", e)
	}
	if rep.Sent+rep.Retrying+rep.Failed+rep.Deferred > 0 {
		fmt.Fprintf(env.Stderr, "mail: %d sent, %d retrying later, %d failed\n", rep.Sent, rep.Retrying+rep.Deferred, rep.Failed)
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
