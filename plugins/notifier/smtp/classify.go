package smtp

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/textproto"

	mail "github.com/wneessen/go-mail"

	"github.com/cscs-dev/cscs/sdk/notifier"
)

// classify marks err notifier.Temporary when a later attempt may succeed:
// the server could not be reached, did not answer in time, dropped the
// connection, or replied with a 4xx code. A 5xx reply (bad credentials,
// unknown mailbox), a certificate the client does not trust and every
// other error stay permanent.
//
// A temporary failure while connecting (see connectError) is marked
// notifier.Unavailable: the server is down, unreachable, silent or
// refusing service, so the mails after this one would fail the same way.
func classify(err error) error {
	if !isTemporary(err) {
		return err
	}
	var connecting *connectError
	if errors.As(err, &connecting) {
		return notifier.Unavailable(err)
	}
	return notifier.Temporary(err)
}

func isTemporary(err error) bool {
	var reply *textproto.Error
	if errors.As(err, &reply) {
		return reply.Code >= 400 && reply.Code < 500
	}
	var sendErr *mail.SendError
	if errors.As(err, &sendErr) {
		return isTemporarySendError(sendErr)
	}
	if isCertificateError(err) {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) {
		return true
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		// An unknown name is a typo until proven otherwise.
		return !dnsErr.IsNotFound
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return true
	}
	// Refused, reset, unreachable: the network or the server is down.
	var opErr *net.OpError
	return errors.As(err, &opErr)
}

// isTemporarySendError classifies go-mail's delivery error, which carries
// the server's code but does not wrap the underlying error.
func isTemporarySendError(e *mail.SendError) bool {
	switch {
	case e.IsTemp():
		return true
	case e.ErrorCode() >= 500:
		return false
	}
	switch e.Reason {
	case mail.ErrGetSender, mail.ErrGetRcpts, mail.ErrNoUnencoded:
		return false
	}
	// No reply code: the connection failed during the exchange.
	return true
}

func isCertificateError(err error) bool {
	var (
		verifyErr    *tls.CertificateVerificationError
		authorityErr x509.UnknownAuthorityError
		hostErr      x509.HostnameError
		invalidErr   x509.CertificateInvalidError
	)
	return errors.As(err, &verifyErr) || errors.As(err, &authorityErr) ||
		errors.As(err, &hostErr) || errors.As(err, &invalidErr)
}
