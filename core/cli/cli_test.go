package cli

import (
	"context"
	"strings"
	"testing"
)

// TestCommandLine: help per command with its own flags and examples,
// suggestions for mistyped commands and flags, --version, completion,
// and the exit codes of each.
func TestCommandLine(t *testing.T) {
	tests := map[string]struct {
		args       []string
		wantCode   int
		wantOut    []string
		notOut     []string
		wantStderr []string
	}{
		"no command":   {args: nil, wantCode: ExitBadConfig, wantOut: []string{"Available Commands:", "run", "Exit status"}},
		"help":         {args: []string{"help"}, wantOut: []string{"completion", "plugins", "spool"}, notOut: []string{"plugin serve"}},
		"help run":     {args: []string{"help", "run"}, wantOut: []string{"cscs run [flags]", "--db string", "--concurrency int", "Examples:"}, notOut: []string{"--listen"}},
		"run --help":   {args: []string{"run", "--help"}, wantOut: []string{"cscs run [flags]", "--db string"}, notOut: []string{"--listen"}},
		"serve -h":     {args: []string{"serve", "-h"}, wantOut: []string{"--listen string", "--web-config-file"}},
		"keys show -h": {args: []string{"keys", "show", "-h"}, wantOut: []string{"--data-dir"}, notOut: []string{"--concurrency", "--db"}},
		"group":        {args: []string{"plugins"}, wantOut: []string{"install", "list", "new", "remove"}},
		"hosts check -h": {args: []string{"hosts", "check", "-h"}, wantOut: []string{"--connect-timeout", "--accept-new-host-keys", "--output", "-q, --quiet"},
			notOut: []string{"--interval", "--cpu-sample", "--agent-dir", "--alert-repeat"}},
		"config show -h": {args: []string{"config", "show", "-h"}, wantOut: []string{"--interval", "--cpu-sample", "--output"},
			notOut: []string{"--agent-dir", "--authlog-file", "--in-process-plugins"}},
		"with arguments": {args: []string{"help", "plugins", "new"}, wantOut: []string{"cscs plugins new KIND NAME [DIR] [flags]", "--sdk"}},
		"version flag":   {args: []string{"--version"}, wantOut: []string{"cscs test\n"}},
		"version":        {args: []string{"version"}, wantOut: []string{"cscs test\n"}},
		"completion":     {args: []string{"completion", "bash"}, wantOut: []string{"bash completion", "cscs"}},
		"mistyped command": {args: []string{"rn"}, wantCode: ExitBadConfig,
			wantStderr: []string{`unknown command "cscs rn"; did you mean run?`}},
		"mistyped subcommand": {args: []string{"spool", "lsit"}, wantCode: ExitBadConfig,
			wantStderr: []string{`unknown command "cscs spool lsit"; did you mean spool list?`}},
		"mistyped flag": {args: []string{"run", "--concurency", "3"}, wantCode: ExitBadConfig,
			wantStderr: []string{"cscs run: unknown flag: --concurency; did you mean --concurrency?"}},
		"one dash": {args: []string{"validate", "-config", "x.xml"}, wantCode: ExitBadConfig, wantStderr: []string{"cscs validate: unknown shorthand flag"}},
		"missing argument": {args: []string{"plugins", "install"}, wantCode: ExitBadConfig,
			wantStderr: []string{"cscs plugins install: missing PATH; run `cscs plugins install --help`"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			code, out, stderr := runMain(context.Background(), "test", tc.args...)
			if code != tc.wantCode {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.wantCode, out, stderr)
			}
			for _, w := range tc.wantOut {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tc.notOut {
				if strings.Contains(out, w) {
					t.Errorf("stdout has %q:\n%s", w, out)
				}
			}
			for _, w := range tc.wantStderr {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
		})
	}
}

// TestQuiet: -q leaves out the progress of hosts that went well, which a
// run prints otherwise.
func TestQuiet(t *testing.T) {
	r, _ := fleetRound(t, "")
	for _, tc := range []struct {
		args         []string
		wantProgress bool
	}{{nil, true}, {[]string{"-q"}, false}} {
		code, _, stderr := runCLI(t, r.args(tc.args...))
		if code != ExitOK || strings.Contains(stderr, "] 127.") != tc.wantProgress {
			t.Errorf("run %v: exit %d, progress shown %v, want %v:\n%s", tc.args, code, !tc.wantProgress, tc.wantProgress, stderr)
		}
	}
}
