package transport

import (
	"strings"
	"testing"
)

func TestGoarchFromMachine(t *testing.T) {
	tests := map[string]struct {
		want    string
		wantErr bool
	}{
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
	}
	for machine, tc := range tests {
		t.Run(machine, func(t *testing.T) {
			got, err := goarchFromMachine(machine)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Fatalf("goarchFromMachine(%q) = %q, %v; want %q, error %v", machine, got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestGoosFromUname(t *testing.T) {
	tests := map[string]struct {
		want    string
		wantErr bool
	}{
		"Linux":              {want: "linux"},
		"Darwin":             {want: "darwin"},
		"FreeBSD":            {wantErr: true},
		"MINGW64_NT-10.0":    {wantErr: true},
		"Linux\x1b[31mred":   {wantErr: true},
		"linux (lower case)": {wantErr: true},
	}
	for kernel, tc := range tests {
		t.Run(kernel, func(t *testing.T) {
			got, err := goosFromUname(kernel)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Fatalf("goosFromUname(%q) = %q, %v; want %q, error %v", kernel, got, err, tc.want, tc.wantErr)
			}
			if err != nil && strings.ContainsRune(err.Error(), 0x1b) {
				t.Errorf("error carries a control character: %q", err)
			}
		})
	}
}

func TestParsePosixProbe(t *testing.T) {
	tests := map[string]struct {
		out     string
		want    Platform
		wantErr string
	}{
		"linux default tmp": {
			out:  "Linux\nx86_64\n1001\nposix\n/tmp\n",
			want: Platform{OS: "linux", Arch: "amd64", UID: "1001", RemoteDir: "/tmp/cscs-1001", Shell: ShellPOSIX},
		},
		"login shell not POSIX": {
			out:  "Linux\nx86_64\n1001\nother\n/tmp\n",
			want: Platform{OS: "linux", Arch: "amd64", UID: "1001", RemoteDir: "/tmp/cscs-1001"},
		},
		"darwin with TMPDIR": {
			out:  "Darwin\narm64\n501\nother\n/var/folders/ab/xyz/T/\n",
			want: Platform{OS: "darwin", Arch: "arm64", UID: "501", RemoteDir: "/var/folders/ab/xyz/T/cscs-501"},
		},
		"relative TMPDIR falls back to /tmp": {
			out:  "Linux\naarch64\n0\nother\nscratch\n",
			want: Platform{OS: "linux", Arch: "arm64", UID: "0", RemoteDir: "/tmp/cscs-0"},
		},
		"TMPDIR with a newline falls back to /tmp": {
			out:  "Linux\naarch64\n7\nother\n/tmp/a\nb\n",
			want: Platform{OS: "linux", Arch: "arm64", UID: "7", RemoteDir: "/tmp/cscs-7"},
		},
		"TMPDIR with a control character falls back to /tmp": {
			out:  "Linux\nx86_64\n7\nother\n/tmp/\x1b[0m\n",
			want: Platform{OS: "linux", Arch: "amd64", UID: "7", RemoteDir: "/tmp/cscs-7"},
		},
		"TMPDIR dot dot is cleaned": {
			out:  "Linux\nx86_64\n7\nother\n/home/u/../../tmp/x\n",
			want: Platform{OS: "linux", Arch: "amd64", UID: "7", RemoteDir: "/tmp/x/cscs-7"},
		},
		"uid not a number": {
			out:     "Linux\nx86_64\nroot; rm -rf /\nposix\n/tmp\n",
			wantErr: "not a uid",
		},
		"too few lines": {
			out:     "Linux\nx86_64\n",
			wantErr: "want 5",
		},
		"unknown processor": {
			out:     "Linux\nsparc64\n1\nposix\n/tmp\n",
			wantErr: "unsupported processor",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := parsePosixProbe([]byte(tc.out))
			if errWanted(t, err, tc.wantErr) {
				return
			}
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}
