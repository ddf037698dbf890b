package authlog

import (
	"regexp"
	"slices"
	"testing"
)

// matcher pairs a hand-written matcher with the expression it stands for.
type matcher struct {
	name  string
	match func(string) []string
	re    *regexp.Regexp
}

func matchers() []matcher {
	return []matcher{
		{"accepted", matchAccepted, regexp.MustCompile(`^Accepted (\S+) for (\S+) from (\S+) port (\d+)`)},
		{"failed", matchFailed, regexp.MustCompile(`^Failed (\S+) for (?:invalid user )?(\S*) from (\S+) port (\d+)`)},
		{"invalid", matchInvalid, regexp.MustCompile(`^Invalid user (\S*) from (\S+) port (\d+)`)},
		{"sudo", matchSudo, regexp.MustCompile(`^\s*(\S+) : (.*)$`)},
		{"loginOK", matchLoginOK, regexp.MustCompile(`^(?:ROOT LOGIN|LOGIN) +ON (\S+)(?: BY (\S+))?`)},
		{"loginFail", matchLoginFail, regexp.MustCompile(`^FAILED LOGIN \(\d+\) on '([^']*)' FOR '([^']*)'`)},
		{"syslogBSD", matchSyslogBSD, regexp.MustCompile(`^([A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d) (\S+) ([^\s\[:]+)(?:\[\d+\])?: (.*)$`)},
		{"syslogISO", matchSyslogISO, regexp.MustCompile(`^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)) (\S+) ([^\s\[:]+)(?:\[\d+\])?: (.*)$`)},
	}
}

// matchSeeds are lines each matcher must read as its expression does:
// real lines and the edges of every optional part and repetition.
func matchSeeds() []string {
	return []string{
		"Accepted publickey for alice from 192.0.2.1 port 50022 ssh2: ED25519 SHA256:x",
		"Accepted password for bob from 2001:db8::1 port 22",
		"Accepted  password for bob from 1.2.3.4 port 22",
		"Accepted password for bob from 1.2.3.4 port x",
		"Accepted password for bob from 1.2.3.4 port 12ab",
		"Failed password for invalid user admin from 203.0.113.9 port 4242 ssh2",
		"Failed password for root from 203.0.113.9 port 4242 ssh2",
		"Failed password for invalid user from 1.2.3.4 port 22",
		"Failed password for invalid user  from 1.2.3.4 port 22",
		"Failed password for  from 1.2.3.4 port 22",
		"Failed password for invalid from 1.2.3.4 port 22",
		"Failed password for invalid user x from 1.2.3.4 port ",
		"Invalid user oracle from 198.51.100.7 port 36000",
		"Invalid user  from 198.51.100.7 port 36000",
		"Invalid user a b from 1.2.3.4 port 1",
		"   alice : TTY=pts/2 ; PWD=/ ; USER=root ; COMMAND=/usr/bin/id",
		"alice : 3 incorrect password attempts ; TTY=pts/0",
		"alice : line\nbreak",
		"\t\nalice : x",
		"alice :",
		"alice : ",
		" : x",
		"ROOT LOGIN  ON tty1",
		"LOGIN ON pts/0 BY alice",
		"LOGIN ON pts/0 BY ",
		"LOGIN ON pts/0 BY  bob",
		"LOGINON tty1",
		"LOGIN  ON tty1 BY alice FROM host",
		"FAILED LOGIN (1) on '/dev/tty1' FOR 'bob', Authentication failure",
		"FAILED LOGIN (12) on '' FOR ''",
		"FAILED LOGIN () on 'tty' FOR 'x'",
		"FAILED LOGIN (1) on 'tt\ny' FOR 'x'",
		"Mar  4 05:06:07 db1 sshd[123]: Accepted password for alice from 192.0.2.1 port 1000 ssh2",
		"Mar 14 05:06:07 db1 sudo:    alice : TTY=pts/2 ; COMMAND=/bin/true",
		"Mar 14 05:06:07 db1 sudo: ",
		"Mar 14 05:06:07 db1 sudo:",
		"Mar 14 05:06:07 db1 sshd[12x]: m",
		"Mar 14 05:06:07 db1 sshd[]: m",
		"Mar 14 05:06:07 db1 sshd[1]:m",
		"Mar 14 05:06:07 db1 sshd: line\nbreak",
		"Mar 14 05:06:07 db1 a:b: c",
		"Mar x4 05:06:07 db1 sshd: m",
		"MAr 14 05:06:07 db1 sshd: m",
		"Mär 14 05:06:07 db1 sshd: m",
		"Mar 14 05:06:07  db1 sshd: m",
		"Mar 14 05:06:07 db1 \xffsshd\xfe[1]: \xff",
		"2024-03-04T05:06:07.123456+01:00 db1 sshd[1]: Invalid user x from 1.2.3.4 port 5",
		"2024-03-04T05:06:07Z db1 login: ROOT LOGIN ON tty1",
		"2024-03-04T05:06:07.Z db1 login: x",
		"2024-03-04T05:06:07.5 db1 login: x",
		"2024-03-04T05:06:07-0100 db1 login: x",
		"2024-03-04 05:06:07Z db1 login: x",
		"2024-03-04T05:06:07+01:00 db1 [1]: x",
		"",
		"Accepted",
	}
}

// check fails t when m and its expression read s differently.
func (m matcher) check(t *testing.T, s string) {
	t.Helper()
	got, want := m.match(s), m.re.FindStringSubmatch(s)
	if !slices.Equal(got, want) || (got == nil) != (want == nil) {
		t.Fatalf("%s(%q) = %q, the expression finds %q", m.name, s, got, want)
	}
}

func TestMatchersAgreeWithExpressions(t *testing.T) {
	for _, m := range matchers() {
		t.Run(m.name, func(t *testing.T) {
			for _, s := range matchSeeds() {
				m.check(t, s)
			}
		})
	}
}

// FuzzMatchersAgreeWithExpressions checks every matcher against its
// expression on fuzzed lines.
func FuzzMatchersAgreeWithExpressions(f *testing.F) {
	for _, s := range matchSeeds() {
		f.Add(s)
	}
	ms := matchers()
	f.Fuzz(func(t *testing.T, s string) {
		for _, m := range ms {
			m.check(t, s)
		}
	})
}
