package cli

import (
	"context"
	"encoding/json"
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
	"github.com/cscs-dev/cscs/core/pluginhost"
	"github.com/cscs-dev/cscs/sdk/notifier"
	sdkplugin "github.com/cscs-dev/cscs/sdk/plugin"
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

	email, diags := config.LoadEmail(s.emailPath, config.LoadOptions{})
	printDiagnostics(env, diags)
	if diags.HasErrors() {
		return ExitBadConfig
	}
	redact := redactor(email)
	server := fmt.Sprintf("%s (%s)", net.JoinHostPort(email.Host, strconv.Itoa(email.Port)), email.Security)
	fail := func(code int, format string, args ...any) int {
		fmt.Fprintln(env.Stderr, "cscs mail test: "+redact(fmt.Sprintf(format, args...)))
		return code
	}

	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	smtp, stop, err := startSMTP(ctx, email)
	if err != nil {
		if errors.Is(err, errSMTPSettings) {
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

// smtpConfig is the SMTP notifier's configuration (plugins/notifier/smtp
// Config) for email. It holds the password: pass it to Configure only.
func smtpConfig(email *config.Email) []byte {
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

// pluginFailed reports whether err is the notifier plugin failing (it
// crashed, hung or was unreachable) rather than refusing the settings.
func pluginFailed(err error) bool {
	return errors.Is(err, pluginhost.ErrPluginExited) || errors.Is(err, pluginhost.ErrPluginHung) ||
		errors.Is(err, sdkplugin.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
}
