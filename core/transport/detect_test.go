package transport

import (
	"strings"
	"testing"
)

// mapping is a table case for a function from a string to a string that
// may fail: the result wanted, or that it fails.
type mapping struct {
	want    string
	wantErr bool
}

// checkMappings calls f, named name in messages, on every input of tests
// and checks its result and whether it failed.
func checkMappings(t *testing.T, name string, f func(string) (string, error), tests map[string]mapping) {
	t.Helper()
	for in, tc := range tests {
		got, err := f(in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("%s(%.60q) = %q, %v; want %q, error %v", name, in, got, err, tc.want, tc.wantErr)
		}
	}
}

// noControlInError fails the test when err's text holds an escape
// character, which a terminal would act on.
func noControlInError(t *testing.T, err error) {
	t.Helper()
	if err != nil && strings.ContainsRune(err.Error(), 0x1b) {
		t.Errorf("error carries a control character: %q", err)
	}
}

func TestGoarchFromMachine(t *testing.T) {
	checkMappings(t, "goarchFromMachine", goarchFromMachine, map[string]mapping{
		"x86_64":  {want: "amd64"},
		"amd64":   {want: "amd64"},
		"aarch64": {want: "arm64"},
		"arm64":   {want: "arm64"},
		"armv7l":  {want: "arm"},
		"armv6l":  {want: "arm"},
		"i686":    {want: "386"},
		"i386":    {want: "386"},
		"mips64":  {wantErr: true},
		"riscv64": {wantErr: true},
		"":        {wantErr: true},
	})
}

func TestGoosFromUname(t *testing.T) {
	tests := map[string]mapping{
		"Linux":              {want: "linux"},
		"Darwin":             {want: "darwin"},
		"FreeBSD":            {wantErr: true},
		"MINGW64_NT-10.0":    {wantErr: true},
		"Linux\x1b[31mred":   {wantErr: true},
		"linux (lower case)": {wantErr: true},
	}
	checkMappings(t, "goosFromUname", goosFromUname, tests)
	for kernel := range tests {
		_, err := goosFromUname(kernel)
		noControlInError(t, err)
	}
}

func TestParsePosixProbe(t *testing.T) {
	// platform is what a host whose login shell is not POSIX reports.
	platform := func(goos, arch, uid, dir string) Platform {
		return Platform{OS: goos, Arch: arch, UID: uid, RemoteDir: dir}
	}
	tests := map[string]struct {
		out     string
		want    Platform
		wantErr string
	}{
		"linux default tmp": {out: "Linux\nx86_64\n1001\nposix\n/tmp\n",
			want: Platform{OS: "linux", Arch: "amd64", UID: "1001", RemoteDir: "/tmp/cscs-1001", Shell: ShellPOSIX}},
		"login shell not POSIX":                              {out: "Linux\nx86_64\n1001\nother\n/tmp\n", want: platform("linux", "amd64", "1001", "/tmp/cscs-1001")},
		"darwin with TMPDIR":                                 {out: "Darwin\narm64\n501\nother\n/var/folders/ab/xyz/T/\n", want: platform("darwin", "arm64", "501", "/var/folders/ab/xyz/T/cscs-501")},
		"relative TMPDIR falls back to /tmp":                 {out: "Linux\naarch64\n0\nother\nscratch\n", want: platform("linux", "arm64", "0", "/tmp/cscs-0")},
		"TMPDIR with a newline falls back to /tmp":           {out: "Linux\naarch64\n7\nother\n/tmp/a\nb\n", want: platform("linux", "arm64", "7", "/tmp/cscs-7")},
		"TMPDIR with a control character falls back to /tmp": {out: "Linux\nx86_64\n7\nother\n/tmp/\x1b[0m\n", want: platform("linux", "amd64", "7", "/tmp/cscs-7")},
		"TMPDIR dot dot is cleaned":                          {out: "Linux\nx86_64\n7\nother\n/home/u/../../tmp/x\n", want: platform("linux", "amd64", "7", "/tmp/x/cscs-7")},
		"uid not a number":                                   {out: "Linux\nx86_64\nroot; rm -rf /\nposix\n/tmp\n", wantErr: "not a uid"},
		"too few lines":                                      {out: "Linux\nx86_64\n", wantErr: "want 5"},
		"unknown processor":                                  {out: "Linux\nsparc64\n1\nposix\n/tmp\n", wantErr: "unsupported processor"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := parsePosixProbe([]byte(tc.out))
			checkResult(t, got, err, tc.want, tc.wantErr)
		})
	}
}
