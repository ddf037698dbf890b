package config

import (
	"net/mail"
	"net/netip"
	"regexp"
	"strconv"
	"strings"

	"github.com/cscs-dev/cscs/core/internal/suggest"
)

// isHost reports whether s is an IP address (v4, or v6 without brackets,
// optionally with a zone) or a host name: dot-separated labels of letters,
// digits, '-' and '_' (intranet names sometimes use it), a label at most
// 63 characters and not starting or ending with '-', the last label not
// all digits, an optional trailing dot.
func isHost(s string) bool {
	if _, err := netip.ParseAddr(s); err == nil {
		return true
	}
	name := strings.TrimSuffix(s, ".")
	if name == "" || len(name) > 253 {
		return false
	}
	labels := strings.Split(name, ".")
	for _, label := range labels {
		if len(label) == 0 || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range []byte(label) {
			if !isASCIILetter(c) && !isASCIIDigit(c) && c != '-' && c != '_' {
				return false
			}
		}
	}
	return strings.ContainsFunc(labels[len(labels)-1], func(r rune) bool { return r > '9' || r < '0' })
}

// hostKey is the form of a host used to find duplicates: the canonical
// text of an IP address, or the lower-case host name.
func hostKey(s string) string {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().String()
	}
	return strings.ToLower(strings.TrimSuffix(s, "."))
}

// hostFix suggests how to correct a value that is not a host; show
// writes a corrected host (and port, when one was glued to it) the way the
// file spells settings.
func hostFix(v string, show func(host, port string) string) string {
	t := strings.TrimSpace(v)
	switch {
	case t != v && isHost(t):
		return "remove the spaces: " + show(t, "")
	case strings.HasPrefix(t, "[") && strings.HasSuffix(t, "]") && isHost(t[1:len(t)-1]):
		return "write the address without brackets: " + show(t[1:len(t)-1], "")
	}
	if ap, err := netip.ParseAddrPort(t); err == nil {
		return "write the port separately: " + show(ap.Addr().String(), strconv.Itoa(int(ap.Port())))
	}
	if h, p, ok := strings.Cut(t, ":"); ok && isHost(h) && isPort(p) {
		return "write the port separately: " + show(h, p)
	}
	return "write an IP address such as 192.0.2.10 or a host name such as db1.example.com"
}

// parsePort parses a TCP port number written in decimal digits.
func parsePort(s string) (int, bool) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" || len(s) > 5 {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 {
		return 0, false
	}
	return n, true
}

func isPort(s string) bool { _, ok := parsePort(s); return ok }

// checkAddress validates a mail address such as "ops@example.com" or
// "Ops <ops@example.com>" and returns the reason it is not one.
func checkAddress(s string) (reason string, ok bool) {
	a, err := mail.ParseAddress(s)
	if err != nil {
		return strings.TrimPrefix(err.Error(), "mail: "), false
	}
	if !strings.Contains(a.Address, "@") {
		return "no @ in address", false
	}
	return "", true
}

// alertTypePattern is a lower-case identifier such as "memory" or "disk_free".
var alertTypePattern = regexp.MustCompile(`^[a-z][a-z0-9_.-]*$`)

// limitPattern is an optional comparison (>, >=, <, <=; > when left out)
// and a number optionally followed by % or a unit: "50%", "2GiB", "3.5",
// ">=10d", "<10m" (written limit="&lt;10m" in XML). The value is parsed by
// the alert rules (core/alert).
var limitPattern = regexp.MustCompile(`^(<=|>=|<|>)?[0-9]+(\.[0-9]+)?(%|[A-Za-z]+)?$`)

func isASCIILetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }
func isASCIIDigit(c byte) bool  { return c >= '0' && c <= '9' }

// closest returns the known name a mistyped name most likely meant: one
// that differs only in case, or by at most two edits. It returns "" when
// none is close.
func closest(name string, known []string) string {
	best, bestDist := "", 3
	lower := strings.ToLower(name)
	for _, k := range known {
		if strings.ToLower(k) == lower {
			return k
		}
		if d := suggest.Distance(lower, strings.ToLower(k)); d < bestDist && d < len(k) {
			best, bestDist = k, d
		}
	}
	return best
}

// unknownNameFix is the fix for an unknown attribute, element or key.
func unknownNameFix(name string, known []string, what string) string {
	if len(known) == 0 {
		return "remove it"
	}
	list := what + ": " + strings.Join(known, ", ")
	if c := closest(name, known); c != "" {
		return "did you mean " + c + "? " + list
	}
	return "remove it or use one of the " + list
}
