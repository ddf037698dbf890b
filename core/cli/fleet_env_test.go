package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cscs-dev/cscs/core/demo/sshfleet"
	"github.com/cscs-dev/cscs/core/internal/testagent"
)

// fleetRound starts an in-process SSH fleet of two hosts (user demo,
// password pw) and prepares a round against it in a temporary directory:
// config.xml with one <client> per host (mail="ops@example.com"), a
// known_hosts with the fleet's keys, and db as the --db value ("" for a
// SQLite file in the directory).
func fleetRound(t *testing.T, db string) (roundEnv, *sshfleet.Fleet) {
	t.Helper()
	fleet, err := sshfleet.Start(context.Background(), sshfleet.Options{Hosts: 2, User: "demo", Password: "pw", TempRoot: t.TempDir()})
	must(t, err)
	t.Cleanup(func() { fleet.Close() })
	dir := t.TempDir()
	if db == "" {
		db = filepath.Join(dir, "cscs.db")
	}
	r := roundEnv{dir: dir, config: filepath.Join(dir, "config.xml"), dataDir: filepath.Join(dir, "data"),
		db: db, agentDir: testagent.Dir(t)}
	var cfg strings.Builder
	cfg.WriteString("<clients>\n")
	for _, h := range fleet.Hosts() {
		fmt.Fprintf(&cfg, "<client ip=%q port=\"%d\" username=\"demo\" password=\"pw\" mail=\"ops@example.com\"/>\n", h.IP, h.Port)
	}
	cfg.WriteString("</clients>\n")
	must(t, os.WriteFile(r.config, []byte(cfg.String()), 0o600))
	must(t, os.MkdirAll(r.dataDir, 0o700))
	must(t, os.WriteFile(filepath.Join(r.dataDir, "known_hosts"), fleet.KnownHosts(), 0o600))
	return r, fleet
}
