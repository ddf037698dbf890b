package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cscs-dev/cscs/core/internal/testagent"
)

// TestServeClusterFlags: the cluster flags are checked before anything
// starts, each refusal naming the flag and what to give.
func TestServeClusterFlags(t *testing.T) {
	r := newRoundEnv(t, testagent.Dir(t))
	r.writeConfig(t, `<clients><client ip="127.0.0.1" port="1" username="u" password="p"/></clients>`+"\n")
	overlay := filepath.Join(r.dir, "sites.hcl")
	must(t, os.WriteFile(overlay, []byte("group \"paris\" {\n  ips = [\"127.0.0.0/8\"]\n}\n"), 0o600))
	const pg = "postgres://cscs@127.0.0.1:1/cscs"
	cases := map[string]struct {
		args []string
		want string
	}{
		"site without cluster":  {[]string{"--state", pg, "--site", "paris", "--overlay", overlay}, "--site and --cluster-chunk go with --cluster"},
		"cluster on SQLite":     {[]string{"--cluster"}, "--cluster needs --state postgres://"},
		"unknown site":          {[]string{"--cluster", "--state", pg, "--site", "lyon", "--overlay", overlay}, `--site lyon: no overlay group "lyon"`},
		"site name not a queue": {[]string{"--cluster", "--state", pg, "--site", "a.b", "--overlay", overlay}, `site "a.b": a site is an overlay group whose name is letters and digits`},
		"chunk of none":         {[]string{"--cluster", "--state", pg, "--cluster-chunk", "0"}, "--cluster-chunk 0: want 1 or more"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			args := append([]string{"serve", "--config", r.config, "--data-dir", r.dataDir, "--db", r.db, "--listen", "127.0.0.1:0"}, c.args...)
			code, _, stderr := runMain(t.Context(), "test", args...)
			if code != ExitBadConfig || !strings.Contains(stderr, c.want) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit %d and %q", code, stderr, ExitBadConfig, c.want)
			}
		})
	}
}
