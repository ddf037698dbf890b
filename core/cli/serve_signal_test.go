//go:build !windows

package cli

import (
	"io/fs"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/core/internal/syncbuf"
	"github.com/cscs-dev/cscs/sdk/sdktest"
)

// stopBound is how long `cscs serve` may take to exit after SIGTERM: the
// round in progress is cancelled, stored, and the plugins stopped.
const stopBound = 15 * time.Second

// serveProcess is a `cscs serve` running as its own process, as systemd
// runs it, with its stderr (the JSON log) kept.
type serveProcess struct {
	cmd    *exec.Cmd
	log    *syncbuf.Buffer
	exited chan error
}

// startServe starts the cscs binary bin with args; the process is killed
// when the test ends if it is still running.
func startServe(t *testing.T, bin string, args []string) *serveProcess {
	t.Helper()
	p := &serveProcess{cmd: exec.Command(bin, args...), log: &syncbuf.Buffer{}, exited: make(chan error, 1)}
	p.cmd.Stderr = p.log
	must(t, p.cmd.Start())
	go func() { p.exited <- p.cmd.Wait() }()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
	})
	return p
}

// terminate sends SIGTERM and returns the exit code once the process has
// exited, failing the test when that takes longer than stopBound.
func (p *serveProcess) terminate(t *testing.T) int {
	t.Helper()
	must(t, p.cmd.Process.Signal(syscall.SIGTERM))
	start := time.Now()
	select {
	case <-p.exited:
		t.Logf("exited %s after SIGTERM", time.Since(start).Round(time.Millisecond))
		return p.cmd.ProcessState.ExitCode()
	case <-time.After(stopBound):
		_ = p.cmd.Process.Kill()
		<-p.exited
		t.Fatalf("cscs serve did not exit within %s of SIGTERM; log:\n%s", stopBound, p.log.String())
		return -1
	}
}

// agentRunning reports whether an agent has been checked and started on a
// host under root: its stamp file (<agent>.ok) is written just before it
// runs, and it then samples CPU for the whole --cpu-sample window.
func agentRunning(root string) bool {
	found := false
	_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasPrefix(d.Name(), "cscs-agent-") && strings.HasSuffix(d.Name(), ".ok") {
			found = true
			return fs.SkipAll
		}
		return nil
	})
	return found
}

// TestServeSIGTERMMidRound runs the cscs binary's `serve` against the
// in-process fleet and sends SIGTERM while its first round's agents sample
// CPU: it exits 0 within stopBound, logging both hosts as cancelled, and
// stores that round with every host cancelled (Run stores what a cancelled
// round collected). A second start completes a round and is stopped
// between rounds. The database then holds each round once, one row per
// host, under distinct round ids, and nothing is left in the spool to be
// stored again.
func TestServeSIGTERMMidRound(t *testing.T) {
	skipShort(t, "builds cscs and runs it against an in-process SSH fleet")
	bin := sdktest.Build(t, "github.com/cscs-dev/cscs/core/cmd/cscs")
	r, _ := fleetRound(t, "")
	// The later --cpu-sample wins: a 3 s window keeps the round in progress
	// while the signal arrives. --interval 10s keeps the start's jitter
	// under a second and a second round out of reach.
	args := append([]string{"serve"}, r.args("--cpu-sample", "3s", "--interval", "10s",
		"--listen", "127.0.0.1:0", "--log-format", "json")[1:]...)

	first := startServe(t, bin, args)
	waitFor(t, func() string {
		if strings.Contains(first.log.String(), `"msg":"round"`) {
			t.Fatalf("the first round ended before the agents were seen running:\n%s", first.log.String())
		}
		if agentRunning(r.hostsTemp) {
			return "running"
		}
		return ""
	}, first.log)
	if code := first.terminate(t); code != ExitOK {
		t.Errorf("exit %d after SIGTERM mid-round, want %d\n%s", code, ExitOK, first.log.String())
	}
	if !strings.Contains(first.log.String(), `"msg":"round stopped: hosts not finished are recorded as cancelled"`) ||
		!strings.Contains(first.log.String(), `"stored":true`) {
		t.Errorf("the log does not say the round was stopped and stored:\n%s", first.log.String())
	}
	if n := strings.Count(first.log.String(), `"status":"cancelled"`); n != 2 {
		t.Errorf("the log names %d cancelled hosts, want 2:\n%s", n, first.log.String())
	}
	if strings.Contains(first.log.String(), `"msg":"round"`) {
		t.Errorf("a round was logged as complete although SIGTERM came mid-round:\n%s", first.log.String())
	}
	assertSpoolEmpty(t, r.dataDir)

	second := startServe(t, bin, args)
	waitFor(t, func() string {
		if strings.Contains(second.log.String(), `"msg":"round"`) {
			return "done"
		}
		return ""
	}, second.log)
	if code := second.terminate(t); code != ExitOK {
		t.Errorf("exit %d after SIGTERM between rounds, want %d\n%s", code, ExitOK, second.log.String())
	}
	assertSpoolEmpty(t, r.dataDir)
	assertRoundsStoredOnce(t, r.db, []string{"cancelled,cancelled", "ok,ok"})
}

// assertRoundsStoredOnce checks the SQLite database at path: the rounds,
// in the order they started, have the host statuses want (sorted, comma
// joined); no host has two rows in a round; the cancelled hosts have no
// samples.
func assertRoundsStoredOnce(t *testing.T, path string, want []string) {
	t.Helper()
	db := openDB(t, "sqlite3", path)
	rows, err := db.Query(`SELECT round_id, count(*), count(DISTINCT host_id),
		(SELECT group_concat(status) FROM (SELECT status FROM collections c2 WHERE c2.round_id = c.round_id ORDER BY status))
		FROM collections c GROUP BY round_id ORDER BY min(started_at)`)
	must(t, err)
	defer rows.Close()
	var got []string
	for rows.Next() {
		var id, statuses string
		var n, hosts int
		must(t, rows.Scan(&id, &n, &hosts, &statuses))
		if n != hosts {
			t.Errorf("round %s: %d rows for %d hosts", id, n, hosts)
		}
		got = append(got, statuses)
	}
	must(t, rows.Err())
	if strings.Join(got, " | ") != strings.Join(want, " | ") {
		t.Errorf("stored rounds' statuses: %q, want %q", got, want)
	}
	if n := queryInt(t, db, `SELECT count(*) FROM samples s JOIN collections c ON c.id = s.collection_id WHERE c.status = 'cancelled'`); n != 0 {
		t.Errorf("%d samples stored for cancelled hosts", n)
	}
}

// assertSpoolEmpty fails when a round waits in the data directory's spool:
// the next start would store it again.
func assertSpoolEmpty(t *testing.T, dataDir string) {
	t.Helper()
	var spooled []string
	_ = filepath.WalkDir(filepath.Join(dataDir, "spool"), func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			spooled = append(spooled, path)
		}
		return nil
	})
	if len(spooled) > 0 {
		t.Errorf("rounds left in the spool: %s", spooled)
	}
}
