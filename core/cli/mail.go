package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/cscs-dev/cscs/core/config"
	"github.com/cscs-dev/cscs/core/outbox"
	"github.com/cscs-dev/cscs/core/pipeline"
	"github.com/cscs-dev/cscs/core/round"
	"github.com/cscs-dev/cscs/sdk/notifier"
)

// mailTestCommand sends one test mail with the settings of
// email_config.json, through the built-in SMTP notifier launched out of
// process as a round launches it.
func mailTestCommand(ctx context.Context, env *Env) int {
	var s settings
	fs := newFlagSet(env, "mail test")
	fs.StringVar(&s.emailPath, "email-config", "email_config.json", "SMTP sender settings")
	to := fs.String("to", "", "address to send the test mail to (required)")
	timeout := fs.Duration("timeout", time.Minute, "bound on starting the notifier and sending the mail")
	if ok, code := parse(fs, env); !ok {
		return code
	}
	addr := strings.TrimSpace(*to)
	if addr == "" {
		fmt.Fprintln(env.Stderr, "cscs mail test: --to is required: name the address to send the test mail to, e.g. --to ops@example.com")
		return ExitBadConfig
	}
	if _, err := mail.ParseAddress(addr); err != nil {
		fmt.Fprintf(env.Stderr, "cscs mail test: --to %q is not a mail address (%v); write one such as ops@example.com\n", addr, err)
		return ExitBadConfig
	}
	if *timeout <= 0 {
		fmt.Fprintf(env.Stderr, "cscs mail test: --timeout %s: want a positive duration such as 1m\n", *timeout)
		return ExitBadConfig
	}

	cfg, err := round.Load(ctx, round.Files{Email: s.emailPath}, round.LoadOptions{}, env.Stderr)
	if err != nil {
		return ExitBadConfig
	}
	email := cfg.Email
	if email == nil {
		fmt.Fprintf(env.Stderr, "cscs mail test: %s does not exist; create it (see docs/configuration.md)\n", s.emailPath)
		return ExitBadConfig
	}
	redact := cfg.Redactor()
	server := fmt.Sprintf("%s (%s)", net.JoinHostPort(email.Host, strconv.Itoa(email.Port)), email.Security)
	fail := func(code int, format string, args ...any) int {
		fmt.Fprintln(env.Stderr, "cscs mail test: "+redact(fmt.Sprintf(format, args...)))
		return code
	}

	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	smtp, stop, err := pipeline.StartNotifier(ctx, pipeline.Options{Version: env.Version}, "smtp", round.EmailNotifierConfig(email))
	if err != nil {
		if errors.Is(err, pipeline.ErrSettingsRefused) {
			return fail(ExitBadConfig, "%s: %v", s.emailPath, err)
		}
		return fail(ExitSomeFailed, "%v", err)
	}
	defer stop()

	err = smtp.Send(ctx, testMail(env.Version, email, addr))
	if err == nil {
		fmt.Fprintf(env.Stdout, "sent to %s via %s\n", addr, server)
		return ExitOK
	}
	if notifier.IsTemporary(err) {
		return fail(ExitSomeFailed, "sending to %s via %s failed, temporarily: %v\n"+
			"the server was unreachable, busy or slow; check that it is up and reachable from here, then try again", addr, server, err)
	}
	return fail(ExitSomeFailed, "sending to %s via %s failed, permanently: %v\n"+
		"retrying will not help; check the username, password, from and security in %s, and the address", addr, server, err, s.emailPath)
}

// testMail is the notification mail test sends.
func testMail(version string, email *config.Email, to string) notifier.Notification {
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
	return notifier.Notification{
		ID:        outbox.NewID(),
		Kind:      "test",
		To:        []string{to},
		Subject:   "CSCS test mail",
		Body:      body,
		CreatedAt: now,
	}
}
