package cli

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/cscs-dev/cscs/plugins"
)

// fakeBuiltinServer records what servePlugin asks it to serve.
type fakeBuiltinServer struct {
	builtins []builtinPlugin
	err      error
	served   []string
}

func (f *fakeBuiltinServer) Builtins(string) []builtinPlugin { return f.builtins }

func (f *fakeBuiltinServer) Serve(_ context.Context, kind, name, version string) error {
	f.served = append(f.served, kind+" "+name+" "+version)
	return f.err
}

func (f *fakeBuiltinServer) ServeSources(_ context.Context, beside plugins.Beside, version string) error {
	f.served = append(f.served, "sources+"+beside.Storage+"+"+beside.Notifier+" "+version)
	return f.err
}

func TestPluginServe(t *testing.T) {
	t.Parallel()
	builtins := append(testBuiltins(), builtinPlugin{kind: "notifier", name: "smtp", version: "1.2.3", protocol: 1})
	cases := map[string]struct {
		args       []string
		serveErr   error
		wantCode   int
		wantServed []string
		wantErr    []string
	}{
		"a built-in": {
			args:       []string{"storage", "sqlite"},
			wantServed: []string{"storage sqlite 1.2.3"},
		},
		"every source": {
			args:       []string{"sources"},
			wantServed: []string{"sources++ 1.2.3"},
		},
		"every source and a storage": {
			args:       []string{"--storage", "sqlite", "sources"},
			wantServed: []string{"sources+sqlite+ 1.2.3"},
		},
		"every source, a storage and a notifier": {
			args:       []string{"--storage", "sqlite", "--notifier", "smtp", "sources"},
			wantServed: []string{"sources+sqlite+smtp 1.2.3"},
		},
		"every source and an unknown notifier": {
			args:     []string{"--notifier", "sqlite", "sources"},
			wantCode: ExitBadConfig,
			wantErr:  []string{`no built-in notifier plugin "sqlite"`},
		},
		"a notifier beside one plugin": {
			args:     []string{"--notifier", "smtp", "source", "cpu"},
			wantCode: ExitBadConfig,
			wantErr:  []string{"--storage and --notifier go with `sources` only"},
		},
		"every source and an unknown storage": {
			args:     []string{"--storage", "cpu", "sources"},
			wantCode: ExitBadConfig,
			wantErr:  []string{`no built-in storage plugin "cpu"`},
		},
		"a storage beside one plugin": {
			args:     []string{"--storage", "sqlite", "source", "cpu"},
			wantCode: ExitBadConfig,
			wantErr:  []string{"--storage and --notifier go with `sources` only"},
		},
		"unknown name": {
			args:     []string{"storage", "postgres"},
			wantCode: ExitBadConfig,
			wantErr:  []string{`no built-in storage plugin "postgres"`, "built-in plugins: source cpu, storage sqlite, notifier smtp"},
		},
		"known name, other kind": {
			args:     []string{"notifier", "sqlite"},
			wantCode: ExitBadConfig,
			wantErr:  []string{`no built-in notifier plugin "sqlite"`},
		},
		"no arguments": {
			wantCode: ExitBadConfig,
			wantErr:  []string{"want <kind> <name> or `sources`, got 0 arguments", "source cpu"},
		},
		"too many arguments": {
			args:     []string{"source", "cpu", "extra"},
			wantCode: ExitBadConfig,
			wantErr:  []string{`unexpected argument "extra"`},
		},
		"serving fails": {
			args:       []string{"source", "cpu"},
			serveErr:   errors.New("built-in source cpu is not a source.Source"),
			wantCode:   ExitSomeFailed,
			wantServed: []string{"source cpu 1.2.3"},
			wantErr:    []string{"cscs plugin serve source cpu: built-in source cpu is not a source.Source"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := &fakeBuiltinServer{builtins: builtins, err: tc.serveErr}
			code, out, errOut := pluginCLI(t, func(env *Env) int { return servePlugin(context.Background(), env, srv) }, tc.args...)
			if code != tc.wantCode {
				t.Errorf("exit %d, want %d; stderr %q", code, tc.wantCode, errOut)
			}
			if out != "" {
				t.Errorf("stdout %q, want nothing: the host reads the handshake there", out)
			}
			if strings.Join(srv.served, ";") != strings.Join(tc.wantServed, ";") {
				t.Errorf("served %q, want %q", srv.served, tc.wantServed)
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr %q does not contain %q", errOut, w)
				}
			}
		})
	}
}
