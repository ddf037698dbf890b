package smtp

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	mail "github.com/wneessen/go-mail"

	"github.com/cscs-dev/cscs/sdk/notifier"
)

// newMessage builds the mail for n: plain UTF-8 text from s.from to n.To,
// dated n.CreatedAt (or now) and identified by a Message-ID derived from
// n.ID, so that a retried notification carries the same Message-ID.
func newMessage(s settings, version string, n notifier.Notification) (*mail.Msg, error) {
	if len(n.To) == 0 {
		return nil, fmt.Errorf("notification %s has no recipient", n.ID)
	}
	m := mail.NewMsg(mail.WithNoDefaultUserAgent())
	m.FromMailAddress(s.from)
	if err := m.To(n.To...); err != nil {
		return nil, fmt.Errorf("notification %s: recipients %q: %w", n.ID, n.To, err)
	}
	m.Subject(n.Subject)
	date := n.CreatedAt
	if date.IsZero() {
		date = time.Now()
	}
	m.SetDateWithValue(date)
	if n.ID == "" {
		m.SetMessageID()
	} else {
		m.SetMessageIDWithValue(messageID(n.ID, s.from.Address))
	}
	m.SetGenHeader(mail.HeaderXMailer, "CSCS smtp notifier "+version)
	// RFC 3834: no vacation replies to machine-written mail.
	m.SetGenHeader(mail.Header("Auto-Submitted"), "auto-generated")
	m.SetBodyString(mail.TypeTextPlain, n.Body)
	return m, nil
}

// messageID is the Message-ID (without angle brackets) of the notification
// with id, sent from address: the id itself when it is a valid left part,
// a digest of it otherwise; the right part is the sender's domain.
func messageID(id, from string) string {
	domain := "cscs.invalid"
	if at := strings.LastIndexByte(from, '@'); at >= 0 && at < len(from)-1 {
		domain = from[at+1:]
	}
	left := id
	if !isDotAtom(id) {
		sum := sha256.Sum256([]byte(id))
		left = "cscs." + hex.EncodeToString(sum[:16])
	}
	return left + "@" + domain
}

// isDotAtom reports whether s is an RFC 5322 dot-atom-text: atext runs
// separated by single dots.
func isDotAtom(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for part := range strings.SplitSeq(s, ".") {
		if part == "" {
			return false
		}
		for _, r := range part {
			if !isAtext(r) {
				return false
			}
		}
	}
	return true
}

func isAtext(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return true
	}
	return strings.ContainsRune("!#$%&'*+-/=?^_`{|}~", r)
}
