package transport

import (
	"os/exec"
	"strings"
	"testing"
)

func TestShellQuoteSurvivesTheShell(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh to check quoting against")
	}
	tests := map[string]string{
		"plain":         "/tmp/cscs-1000/cscs-agent-0123456789abcdef",
		"spaces":        "/tmp/my dir/agent",
		"single quotes": "/tmp/it's/'quoted'",
		"command subst": "/tmp/$(touch /tmp/pwned)/`id`",
		"variables":     "/tmp/$HOME/${PATH}",
		"separators":    "/tmp/a;b&c|d>e<f",
		"glob":          "/tmp/*/?/[a]",
		"backslashes":   `/tmp/a\b\\c`,
		"newline":       "/tmp/a\nb",
		"empty":         "",
		"only a quote":  "'",
		"dash at start": "-n",
		"unicode":       "/tmp/évènement/日本",
	}
	for name, s := range tests {
		t.Run(name, func(t *testing.T) {
			out, err := exec.Command(sh, "-c", "printf '%s' "+shellQuote(s)).Output()
			if err != nil {
				t.Fatalf("sh: %v", err)
			}
			if string(out) != s {
				t.Errorf("shell saw %q, want %q", out, s)
			}
		})
	}
}

func TestPosixCommandRunsScriptWithSh(t *testing.T) {
	out, err := exec.Command("sh", "-c", posixCommand(`printf '%s|' "$0" it\'s`)).Output()
	if err != nil {
		t.Fatal(err)
	}
	if got := string(out); got != "/bin/sh|it's|" {
		t.Errorf("got %q", got)
	}
}

func TestSanitize(t *testing.T) {
	tests := map[string]struct {
		in       string
		maxLines int
		maxRunes int
		want     string
	}{
		"first lines joined":    {in: "one\ntwo\nthree\nfour\n", maxLines: 3, maxRunes: 100, want: "one | two | three"},
		"blank lines skipped":   {in: "\n\n  a  \r\n\nb", maxLines: 3, maxRunes: 100, want: "a | b"},
		"escape codes replaced": {in: "red\x1b[31m\x07bell", maxLines: 1, maxRunes: 100, want: "red?[31m?bell"},
		"invalid utf-8":         {in: "a\xffb", maxLines: 1, maxRunes: 100, want: "a?b"},
		"capped":                {in: strings.Repeat("x", 50), maxLines: 1, maxRunes: 10, want: "xxxxxxxxxx..."},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := sanitize([]byte(tc.in), tc.maxLines, tc.maxRunes); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestPosixRunCommandRefusesControlCharacters(t *testing.T) {
	digest := strings.Repeat("a", 64)
	for name, p := range map[string]string{
		"relative": "agent",
		"newline":  "/tmp/a\nrm -rf /",
		"escape":   "/tmp/\x1b]0;x\x07",
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := posixRunCommand("linux", p, digest); err == nil {
				t.Errorf("posixRunCommand(%q) accepted it", p)
			}
		})
	}
}
