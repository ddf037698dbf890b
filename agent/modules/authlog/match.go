package authlog

import "strings"

// The matchers below read log lines as these regular expressions would
// (match_test.go holds them and checks that both agree), without linking
// package regexp's compiler and matchers into the agent. Each returns what
// regexp's FindStringSubmatch returns: nil, or the matched text followed
// by the groups ("" for a group that did not take part).
//
//	accepted   ^Accepted (\S+) for (\S+) from (\S+) port (\d+)
//	failed     ^Failed (\S+) for (?:invalid user )?(\S*) from (\S+) port (\d+)
//	invalid    ^Invalid user (\S*) from (\S+) port (\d+)
//	sudo       ^\s*(\S+) : (.*)$
//	loginOK    ^(?:ROOT LOGIN|LOGIN) +ON (\S+)(?: BY (\S+))?
//	loginFail  ^FAILED LOGIN \(\d+\) on '([^']*)' FOR '([^']*)'
//	syslogBSD  ^([A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d) (\S+) ([^\s\[:]+)(?:\[\d+\])?: (.*)$
//	syslogISO  ^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)) (\S+) ([^\s\[:]+)(?:\[\d+\])?: (.*)$
//
// Every repeated class is followed by a character it cannot hold, so each
// repetition has one way to match: its longest run. \s is ASCII white
// space ([\t\n\f\r ]) as in regexp, and . does not match a newline.

// cursor walks a line; after the first mismatch every step fails.
type cursor struct {
	line string
	rest string
	ok   bool
}

func newCursor(line string) *cursor { return &cursor{line: line, rest: line, ok: true} }

// lit consumes s.
func (c *cursor) lit(s string) {
	if c.ok && strings.HasPrefix(c.rest, s) {
		c.rest = c.rest[len(s):]
		return
	}
	c.ok = false
}

// tryLit consumes s if the line continues with it, and says whether it did.
func (c *cursor) tryLit(s string) bool {
	if c.ok && strings.HasPrefix(c.rest, s) {
		c.rest = c.rest[len(s):]
		return true
	}
	return false
}

// run consumes the longest run of bytes in class, at least least of them.
func (c *cursor) run(least int, in func(byte) bool) string {
	if !c.ok {
		return ""
	}
	i := 0
	for i < len(c.rest) && in(c.rest[i]) {
		i++
	}
	if i < least {
		c.ok = false
		return ""
	}
	s := c.rest[:i]
	c.rest = c.rest[i:]
	return s
}

// one consumes one byte in class.
func (c *cursor) one(in func(byte) bool) {
	if c.ok && len(c.rest) > 0 && in(c.rest[0]) {
		c.rest = c.rest[1:]
		return
	}
	c.ok = false
}

// toEnd consumes the rest of the line, which must hold no newline (.*$).
func (c *cursor) toEnd() string {
	if !c.ok || strings.IndexByte(c.rest, '\n') >= 0 {
		c.ok = false
		return ""
	}
	s := c.rest
	c.rest = ""
	return s
}

// match returns the matched text and groups, or nil after a mismatch.
func (c *cursor) match(groups ...string) []string {
	if !c.ok {
		return nil
	}
	return append([]string{c.line[:len(c.line)-len(c.rest)]}, groups...)
}

func isSpace(b byte) bool      { return b == ' ' || b == '\t' || b == '\n' || b == '\f' || b == '\r' }
func notSpace(b byte) bool     { return !isSpace(b) }
func isDigit(b byte) bool      { return '0' <= b && b <= '9' }
func isUpper(b byte) bool      { return 'A' <= b && b <= 'Z' }
func isLower(b byte) bool      { return 'a' <= b && b <= 'z' }
func isBlank(b byte) bool      { return b == ' ' }
func notQuote(b byte) bool     { return b != '\'' }
func spaceOrDigit(b byte) bool { return b == ' ' || isDigit(b) }
func isSign(b byte) bool       { return b == '+' || b == '-' }

// isProgram is [^\s\[:], a byte of a syslog program name.
func isProgram(b byte) bool { return notSpace(b) && b != '[' && b != ':' }

// sshTail reads " from (\S+) port (\d+)".
func (c *cursor) sshTail() (ip, port string) {
	c.lit(" from ")
	ip = c.run(1, notSpace)
	c.lit(" port ")
	port = c.run(1, isDigit)
	return ip, port
}

func matchAccepted(s string) []string {
	c := newCursor(s)
	c.lit("Accepted ")
	method := c.run(1, notSpace)
	c.lit(" for ")
	user := c.run(1, notSpace)
	ip, port := c.sshTail()
	return c.match(method, user, ip, port)
}

func matchFailed(s string) []string {
	c := newCursor(s)
	c.lit("Failed ")
	method := c.run(1, notSpace)
	c.lit(" for ")
	if !c.ok {
		return nil
	}
	// (?:invalid user )? is tried first, then without it.
	for _, prefix := range []string{"invalid user ", ""} {
		t := *c
		t.lit(prefix)
		user := t.run(0, notSpace)
		ip, port := t.sshTail()
		if m := t.match(method, user, ip, port); m != nil {
			return m
		}
	}
	return nil
}

func matchInvalid(s string) []string {
	c := newCursor(s)
	c.lit("Invalid user ")
	user := c.run(0, notSpace)
	ip, port := c.sshTail()
	return c.match(user, ip, port)
}

func matchSudo(s string) []string {
	c := newCursor(s)
	c.run(0, isSpace)
	user := c.run(1, notSpace)
	c.lit(" : ")
	rest := c.toEnd()
	return c.match(user, rest)
}

func matchLoginOK(s string) []string {
	c := newCursor(s)
	if !c.tryLit("ROOT LOGIN") {
		c.lit("LOGIN")
	}
	c.run(1, isBlank)
	c.lit("ON ")
	tty := c.run(1, notSpace)
	by := ""
	if c.ok {
		t := *c
		t.lit(" BY ")
		if u := t.run(1, notSpace); t.ok {
			by, *c = u, t
		}
	}
	return c.match(tty, by)
}

func matchLoginFail(s string) []string {
	c := newCursor(s)
	c.lit("FAILED LOGIN (")
	c.run(1, isDigit)
	c.lit(") on '")
	tty := c.run(0, notQuote)
	c.lit("' FOR '")
	user := c.run(0, notQuote)
	c.lit("'")
	return c.match(tty, user)
}

// syslogTail reads " (\S+) ([^\s\[:]+)(?:\[\d+\])?: (.*)$".
func (c *cursor) syslogTail() (host, program, msg string) {
	c.lit(" ")
	host = c.run(1, notSpace)
	c.lit(" ")
	program = c.run(1, isProgram)
	if c.ok && strings.HasPrefix(c.rest, "[") {
		c.lit("[")
		c.run(1, isDigit)
		c.lit("]")
	}
	c.lit(": ")
	msg = c.toEnd()
	return host, program, msg
}

func matchSyslogBSD(s string) []string {
	c := newCursor(s)
	c.one(isUpper)
	c.one(isLower)
	c.one(isLower)
	c.lit(" ")
	c.one(spaceOrDigit)
	c.one(isDigit)
	for _, sep := range []string{" ", ":", ":"} {
		c.lit(sep)
		c.one(isDigit)
		c.one(isDigit)
	}
	if !c.ok {
		return nil
	}
	stamp := s[:len(s)-len(c.rest)]
	host, program, msg := c.syslogTail()
	return c.match(stamp, host, program, msg)
}

func matchSyslogISO(s string) []string {
	c := newCursor(s)
	digits := func(n int) {
		for range n {
			c.one(isDigit)
		}
	}
	digits(4)
	for _, sep := range []string{"-", "-", "T", ":", ":"} {
		c.lit(sep)
		digits(2)
	}
	if c.ok && strings.HasPrefix(c.rest, ".") && len(c.rest) > 1 && isDigit(c.rest[1]) {
		c.lit(".")
		c.run(1, isDigit)
	}
	if !c.tryLit("Z") {
		c.one(isSign)
		digits(2)
		c.lit(":")
		digits(2)
	}
	if !c.ok {
		return nil
	}
	stamp := s[:len(s)-len(c.rest)]
	host, program, msg := c.syslogTail()
	return c.match(stamp, host, program, msg)
}
