package smtp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/cscs-dev/cscs/sdk/notifier"
)

func TestMessageID(t *testing.T) {
	tests := map[string]struct {
		id, from string
		// want is the exact Message-ID; "" means a digest of the id.
		want string
	}{
		"dot-atom id":         {"alert-42.web01", "cscs@example.org", "alert-42.web01@example.org"},
		"other sender domain": {"alert-42.web01", "other@example.net", "alert-42.web01@example.net"},
		"sender without at":   {"id1", "cscs", "id1@cscs.invalid"},
		"quoted local part":   {"id1", `"a@b"@example.org`, "id1@example.org"},
		"id with a space":     {"alert 42", "cscs@example.org", ""},
		"id with brackets":    {"<x>", "cscs@example.org", ""},
		"id with double dot":  {"a..b", "cscs@example.org", ""},
		"id with leading dot": {".id", "cscs@example.org", ""},
		"id with an at":       {"a@b", "cscs@example.org", ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := messageID(tc.id, tc.from)
			if tc.want != "" {
				if got != tc.want {
					t.Fatalf("messageID(%q, %q) = %q, want %q", tc.id, tc.from, got, tc.want)
				}
				return
			}
			left, domain, ok := strings.Cut(got, "@")
			if !ok || !isDotAtom(left) || !strings.HasPrefix(left, "cscs.") || len(left) != len("cscs.")+32 || domain != "example.org" {
				t.Fatalf("messageID(%q) = %q, want cscs.<32 hex digits>@example.org", tc.id, got)
			}
			if again := messageID(tc.id, tc.from); again != got {
				t.Fatalf("messageID is not stable: %q then %q", got, again)
			}
			if other := messageID(tc.id+"x", tc.from); other == got {
				t.Fatalf("two ids share the Message-ID %q", got)
			}
		})
	}
}

func TestClassify(t *testing.T) {
	tests := map[string]struct {
		err           error
		wantTemporary bool
	}{
		"4xx reply":       {fmt.Errorf("rcpt: %w", &textproto.Error{Code: 452, Msg: "mailbox full"}), true},
		"5xx reply":       {fmt.Errorf("auth: %w", &textproto.Error{Code: 535, Msg: "bad credentials"}), false},
		"refused":         {&net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, true},
		"deadline":        {fmt.Errorf("connect: %w", context.DeadlineExceeded), true},
		"dropped":         {fmt.Errorf("read: %w", io.ErrUnexpectedEOF), true},
		"unknown host":    {&net.OpError{Op: "dial", Err: &net.DNSError{Err: "no such host", Name: "smtp.exmaple.com", IsNotFound: true}}, false},
		"dns server down": {&net.OpError{Op: "dial", Err: &net.DNSError{Err: "server misbehaving", Name: "smtp.example.com", IsTemporary: true}}, true},
		"anything else":   {errors.New("unsupported SMTP AUTH type"), false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := notifier.IsTemporary(classify(tc.err)); got != tc.wantTemporary {
				t.Fatalf("classify(%v) temporary = %v, want %v", tc.err, got, tc.wantTemporary)
			}
		})
	}
}
