package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"unicode"

	"github.com/cscs-dev/cscs/sdk/notifier"
)

// maxSnippet is how much of a failed answer's body an error quotes.
const maxSnippet = 200

// transportError explains a request that got no HTTP answer. parent is
// Send's own context: when it ended, the core gave up, not the webhook.
// Everything that may pass is notifier.Temporary.
func transportError(parent context.Context, cfg settings, id string, err error) error {
	// url.Error's text repeats the whole URL, which may hold a token.
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		err = urlErr.Err
	}
	prefix := fmt.Sprintf("webhook notifier: post notification %s to %s", id, cfg.endpoint)
	switch {
	case parent.Err() != nil:
		return notifier.Temporary(fmt.Errorf("%s: stopped before an answer: %w", prefix, parent.Err()))
	case errors.Is(err, context.DeadlineExceeded):
		return notifier.Temporary(fmt.Errorf("%s: no answer within %s (raise \"timeout\" if the webhook is slow): %w", prefix, cfg.timeout, err))
	case isCertificateError(err):
		return fmt.Errorf("%s: the server's certificate is not trusted: %w", prefix, err)
	case isUnknownHost(err):
		return fmt.Errorf("%s: the host name does not resolve; check \"url\": %w", prefix, err)
	case isNetworkFailure(err):
		return notifier.Temporary(fmt.Errorf("%s: %w", prefix, err))
	}
	return fmt.Errorf("%s: %w", prefix, err)
}

// statusError turns an HTTP answer into nil (2xx) or an error quoting the
// first bytes of the answer's body. 5xx, 408 (request timeout), 425 (too
// early) and 429 (too many requests) may pass and are Temporary.
func statusError(cfg settings, id string, resp *http.Response, snippet string) error {
	code := resp.StatusCode
	if code >= 200 && code <= 299 {
		return nil
	}
	msg := fmt.Sprintf("webhook notifier: %s answered notification %s with %d %s", cfg.endpoint, id, code, http.StatusText(code))
	if snippet != "" {
		msg += ": " + snippet
	}
	switch {
	case code >= 300 && code <= 399:
		msg += `; the webhook redirects: set "url" to the address it redirects to`
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		msg += `; check the credentials in "headers"`
	case code == http.StatusNotFound:
		msg += `; check the path in "url"`
	}
	err := errors.New(msg)
	if code >= 500 || code == http.StatusRequestTimeout || code == http.StatusTooEarly || code == http.StatusTooManyRequests {
		return notifier.Temporary(err)
	}
	return err
}

// readSnippet returns the start of a body as one line of printable text:
// the answer comes from another machine and ends up in logs.
func readSnippet(body io.Reader) string {
	buf := make([]byte, maxSnippet+1)
	n, _ := io.ReadFull(body, buf)
	text := strings.ToValidUTF8(string(buf[:min(n, maxSnippet)]), "?")
	text = strings.Join(strings.FieldsFunc(text, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r)
	}), " ")
	if n > maxSnippet && text != "" {
		text += "…"
	}
	return text
}

func isCertificateError(err error) bool {
	var verify *tls.CertificateVerificationError
	var unknown x509.UnknownAuthorityError
	var host x509.HostnameError
	var invalid x509.CertificateInvalidError
	return errors.As(err, &verify) || errors.As(err, &unknown) || errors.As(err, &host) || errors.As(err, &invalid)
}

func isUnknownHost(err error) bool {
	var dnsErr *net.DNSError
	return errors.As(err, &dnsErr) && dnsErr.IsNotFound
}

// isNetworkFailure reports a failure of the connection itself: refused,
// reset, unreachable, timed out, or closed before the answer.
func isNetworkFailure(err error) bool {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return true
	}
	var opErr *net.OpError
	return errors.As(err, &opErr)
}
