package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/cscs-dev/cscs/core/pipeline"
	"github.com/cscs-dev/cscs/core/round"
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
	err = round.SendTestMail(ctx, cfg, addr, env.Version)
	var sendErr *round.SendError
	switch {
	case err == nil:
		fmt.Fprintf(env.Stdout, "sent to %s via %s\n", addr, server)
		return ExitOK
	case errors.Is(err, pipeline.ErrSettingsRefused):
		return fail(ExitBadConfig, "%s: %v", s.emailPath, err)
	case !errors.As(err, &sendErr):
		return fail(ExitSomeFailed, "%v", err)
	case sendErr.Temporary:
		return fail(ExitSomeFailed, "sending to %s via %s failed, temporarily: %v\n"+
			"the server was unreachable, busy or slow; check that it is up and reachable from here, then try again", addr, server, err)
	}
	return fail(ExitSomeFailed, "sending to %s via %s failed, permanently: %v\n"+
		"retrying will not help; check the username, password, from and security in %s, and the address", addr, server, err, s.emailPath)
}
