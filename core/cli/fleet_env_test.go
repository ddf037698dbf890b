package cli

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cscs-dev/cscs/core/demo/sshfleet"
	"github.com/cscs-dev/cscs/core/internal/testagent"
	"github.com/cscs-dev/cscs/core/round"
)

// The set-up the command tests share: a round directory, a fleet to run
// rounds against, and running cscs through Main.

// roundEnv is a prepared directory with config.xml, known_hosts and flags.
type roundEnv struct {
	dir, config, dataDir, db, agentDir string
	// hostsTemp holds the fleet hosts' temp directories (fleetRound):
	// their agents land there.
	hostsTemp string
}

// newRoundEnv prepares an empty round directory in a temporary directory,
// with the agents of agentDir and a SQLite file in the directory as --db;
// writeConfig and writeKnownHosts fill it.
func newRoundEnv(tb testing.TB, agentDir string) roundEnv {
	tb.Helper()
	dir := tb.TempDir()
	return roundEnv{dir: dir, config: filepath.Join(dir, "config.xml"), dataDir: filepath.Join(dir, "data"),
		db: filepath.Join(dir, "cscs.db"), agentDir: agentDir}
}

// writeConfig writes config.xml.
func (r roundEnv) writeConfig(tb testing.TB, cfg string) {
	tb.Helper()
	must(tb, os.WriteFile(r.config, []byte(cfg), 0o600))
}

// writeKnownHosts writes the data directory's known_hosts.
func (r roundEnv) writeKnownHosts(tb testing.TB, known []byte) {
	tb.Helper()
	must(tb, os.MkdirAll(r.dataDir, 0o700))
	must(tb, os.WriteFile(filepath.Join(r.dataDir, "known_hosts"), known, 0o600))
}

func (r roundEnv) args(extra ...string) []string {
	return append([]string{"run", "--config", r.config, "--data-dir", r.dataDir, "--db", r.db,
		"--agent-dir", r.agentDir, "--output", "json", "--cpu-sample", "200ms",
		"--connect-timeout", "2s", "--handshake-timeout", "2s", "--host-timeout", "30s"}, extra...)
}

// fleetRound starts an in-process SSH fleet of two hosts (user demo,
// password pw) and prepares a round against it in a temporary directory:
// config.xml with one <client> per host (mail="ops@example.com"), a
// known_hosts with the fleet's keys, and db as the --db value ("" for a
// SQLite file in the directory).
func fleetRound(t *testing.T, db string) (roundEnv, *sshfleet.Fleet) {
	t.Helper()
	hostsTemp := t.TempDir()
	fleet, err := sshfleet.Start(context.Background(), sshfleet.Options{Hosts: 2, User: "demo", Password: "pw", TempRoot: hostsTemp})
	must(t, err)
	t.Cleanup(func() { fleet.Close() })
	r := newRoundEnv(t, testagent.Dir(t))
	r.hostsTemp = hostsTemp
	if db != "" {
		r.db = db
	}
	var cfg strings.Builder
	cfg.WriteString("<clients>\n")
	for _, h := range fleet.Hosts() {
		fmt.Fprintf(&cfg, "<client ip=%q port=\"%d\" username=\"demo\" password=\"pw\" mail=\"ops@example.com\"/>\n", h.IP, h.Port)
	}
	cfg.WriteString("</clients>\n")
	r.writeConfig(t, cfg.String())
	r.writeKnownHosts(t, fleet.KnownHosts())
	return r, fleet
}

// runMain runs cscs with args through Main, as the binary of version
// would, with empty stdin.
func runMain(ctx context.Context, version string, args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = Main(ctx, args, version, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

// runCLI runs cscs with args, which ask for --output json, and decodes the
// round's report.
func runCLI(t *testing.T, args []string) (int, round.Report, string) {
	t.Helper()
	code, stdout, stderr := runMain(context.Background(), "test", args...)
	var out round.Report
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatalf("exit %d, stdout is not JSON: %v\nstdout:\n%s\nstderr:\n%s", code, err, stdout, stderr)
	}
	return code, out, stderr
}

// mustInstall runs `cscs plugins install` of bin into dataDir's plugins
// directory.
func mustInstall(t *testing.T, dataDir, bin string) {
	t.Helper()
	if code, stdout, stderr := runMain(context.Background(), "test", "plugins", "install", "--data-dir", dataDir, bin); code != ExitOK {
		t.Fatalf("install %s: exit %d\n%s%s", bin, code, stdout, stderr)
	}
}

// openDB opens a database as a consumer would, until the test ends.
func openDB(t *testing.T, driver, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open(driver, dsn)
	must(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

// queryInt runs a query for one number, such as a count, on db.
func queryInt(t *testing.T, db *sql.DB, q string, args ...any) int {
	t.Helper()
	var n int
	must(t, db.QueryRow(q, args...).Scan(&n))
	return n
}

func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

// skipShort skips t under -short, saying why.
func skipShort(t *testing.T, why string) {
	t.Helper()
	if testing.Short() {
		t.Skip(why)
	}
}

// splitAddr splits a host:port address.
func splitAddr(t *testing.T, addr string) (string, int) {
	t.Helper()
	host, portText, err := net.SplitHostPort(addr)
	must(t, err)
	port, err := strconv.Atoi(portText)
	must(t, err)
	return host, port
}
