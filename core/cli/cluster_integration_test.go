//go:build !windows

package cli

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/cscs-dev/cscs/core/cluster"
	"github.com/cscs-dev/cscs/core/demo/sshfleet"
	"github.com/cscs-dev/cscs/core/internal/testagent"
	"github.com/cscs-dev/cscs/plugins/storage/postgres/pgtest"
	"github.com/cscs-dev/cscs/sdk/sdktest"
)

// clusterTick is the interval of the cluster test's instances.
const clusterTick = 10 * time.Second

// TestClusterThreeInstances runs three `cscs serve --cluster` processes on
// one PostgreSQL state and storage against 300 in-process hosts, each
// with a mail address, a rule that fires once and the auth-log source
// reading a file the test appends to. Every host is collected once per
// interval; the leader is killed with SIGKILL and every host is still
// collected within the stated bound (two intervals and River's leader
// TTL); restarted, it takes a share again. At the end: no host has two
// collections in one interval, each host's FIRING mail was sent once,
// and each auth-log line was mailed once per host (cursors continuous
// across instances and the kill).
func TestClusterThreeInstances(t *testing.T) {
	skipShort(t, "builds cscs and runs three instances against 300 in-process hosts for about two minutes")
	bin := sdktest.Build(t, "github.com/cscs-dev/cscs/core/cmd/cscs")
	stateDSN, storeDSN := pgtest.SchemaDSN(t), pgtest.SchemaDSN(t)

	hostsTemp := t.TempDir()
	fleet, err := sshfleet.Start(context.Background(), sshfleet.Options{Hosts: 300, User: "demo", Password: "pw", TempRoot: hostsTemp})
	must(t, err)
	t.Cleanup(func() { fleet.Close() })
	sink := startSMTPSink(t, "cscs", "smtp-secret")
	dir := t.TempDir()
	authlog := filepath.Join(dir, "auth.log")
	appendAuthLine := func(n int) string {
		line := fmt.Sprintf("Dec  7 10:00:%02d gw sshd[4%03d]: Accepted publickey for op%d from 192.0.2.%d port 5%04d ssh2", n, n, n, n, n)
		f, err := os.OpenFile(authlog, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		must(t, err)
		_, err = fmt.Fprintln(f, line)
		must(t, err)
		must(t, f.Close())
		return fmt.Sprintf("op%d from 192.0.2.%d", n, n)
	}
	lines := []string{appendAuthLine(1)}

	var cfg strings.Builder
	cfg.WriteString("<clients>\n")
	for _, h := range fleet.Hosts() {
		fmt.Fprintf(&cfg, "<client ip=%q port=\"%d\" username=\"demo\" password=\"pw\" mail=\"ops@example.com\"><alert type=\"memory\" limit=\"&gt;=0%%\"/></client>\n", h.IP, h.Port)
	}
	cfg.WriteString("</clients>\n")
	config := filepath.Join(dir, "config.xml")
	must(t, os.WriteFile(config, []byte(cfg.String()), 0o600))
	email := sinkEmailConfig(t, sink.port)

	start := func(name string) *serveProcess {
		dataDir := filepath.Join(dir, name)
		must(t, os.MkdirAll(dataDir, 0o700))
		must(t, os.WriteFile(filepath.Join(dataDir, "known_hosts"), fleet.KnownHosts(), 0o600))
		return startServe(t, bin, []string{"serve", "--cluster", "--cluster-chunk", "25",
			"--config", config, "--email-config", email, "--data-dir", dataDir, "--agent-dir", testagent.Dir(t),
			"--state", stateDSN, "--db", storeDSN, "--interval", clusterTick.String(), "--cpu-sample", "100ms",
			"--authlog-file", authlog, "--mail-retry-after", "1s",
			"--connect-timeout", "5s", "--handshake-timeout", "5s", "--host-timeout", "20s",
			"--listen", "127.0.0.1:0", "--log-format", "json"})
	}
	names := []string{"a", "b", "c"}
	procs := map[string]*serveProcess{}
	for _, n := range names {
		procs[n] = start(n)
	}
	logs := func() string {
		var b strings.Builder
		for _, n := range names {
			fmt.Fprintf(&b, "--- instance %s:\n%s\n", n, procs[n].log.String())
		}
		return b.String()
	}
	store := openDB(t, "pgx", storeDSN)
	state := openDB(t, "pgx", stateDSN)

	// Two whole intervals collected by the three.
	first := waitSlots(t, store, 300, 2, time.Time{}, logs)
	t.Logf("intervals fully collected before the kill: %v", first)
	if members := collectedBy(t, state); len(members) < 2 {
		t.Errorf("only %d member(s) collected in their latest interval (%v); want the work shared", len(members), members)
	}
	lines = append(lines, appendAuthLine(2))
	var leaderID string
	must(t, state.QueryRow(`SELECT leader_id FROM river_leader`).Scan(&leaderID))
	checkClusterView(t, procs["c"], 3, 0, leaderID)

	// Kill the leader: the periodic dispatch moves to another instance.
	leader := leaderID
	victim := ""
	for _, n := range names {
		if pid := procs[n].cmd.Process.Pid; strings.Contains(leader, "-"+strconv.Itoa(pid)+"-") {
			victim = n
		}
	}
	if victim == "" {
		t.Fatalf("the leader %q is none of the instances", leader)
	}
	// Mid-interval, while the instances collect their chunks.
	time.Sleep(time.Until(time.Now().Truncate(clusterTick).Add(clusterTick + 1500*time.Millisecond)))
	killedAt := time.Now()
	must(t, procs[victim].cmd.Process.Signal(syscall.SIGKILL))
	<-procs[victim].exited
	t.Logf("killed the leader %s (%s)", victim, leader)
	lines = append(lines, appendAuthLine(3))
	bound := 2*clusterTick + 20*time.Second
	after := waitSlots(t, store, 300, 1, killedAt, logs)
	if took := after[0].Add(clusterTick).Sub(killedAt); took > bound {
		t.Errorf("after the kill, every host was collected only %s later, want within %s", took, bound)
	}
	survivor := "a"
	if victim == "a" {
		survivor = "b"
	}
	// The victim counts as gone three heartbeats after its last one.
	time.Sleep(time.Until(killedAt.Add(3*cluster.Heartbeat + time.Second)))
	// River elects another leader once the dead one's term expires.
	var newLeader string
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(500 * time.Millisecond) {
		err := state.QueryRow(`SELECT leader_id FROM river_leader WHERE expires_at > now()`).Scan(&newLeader)
		if err == nil && newLeader != leader {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no new leader 30 s after the leader's death (%q, %v)\n%s", newLeader, err, logs())
		}
	}
	checkClusterView(t, procs[survivor], 2, 1, newLeader)

	// Restarted, it takes a share.
	procs[victim] = start(victim)
	restartedPID := procs[victim].cmd.Process.Pid
	lines = append(lines, appendAuthLine(4))
	deadline := time.Now().Add(6 * clusterTick)
	for !memberCollected(t, state, restartedPID) {
		if time.Now().After(deadline) {
			t.Fatalf("the restarted instance collected nothing within %s; members %v\n%s", 6*clusterTick, collectedBy(t, state), logs())
		}
		time.Sleep(time.Second)
	}
	last := waitSlots(t, store, 300, 1, time.Now(), logs)
	// Stopped mid-interval: the rounds in progress store what they
	// collected and end; nobody collects their hosts again in the interval
	// (checked below).
	time.Sleep(time.Until(time.Now().Truncate(clusterTick).Add(clusterTick + 1500*time.Millisecond)))
	for _, n := range names {
		if code := procs[n].terminate(t); code != ExitOK {
			t.Errorf("instance %s: exit %d after SIGTERM", n, code)
		}
	}
	t.Logf("last fully collected interval %v", last)

	// Never twice in one interval.
	if n := queryInt(t, store, `SELECT count(*) FROM (
		SELECT c.host_id, r.slot FROM collections c
		JOIN (SELECT round_id, floor(extract(epoch FROM min(started_at)) / $1) AS slot FROM collections GROUP BY round_id) r USING (round_id)
		GROUP BY c.host_id, r.slot HAVING count(*) > 1) d`, clusterTick.Seconds()); n != 0 {
		t.Errorf("%d host-intervals collected more than once\n%s", n, logs())
	}
	// Each notification once: one FIRING mail per host, and each auth-log
	// line in exactly one event-log mail of each host.
	firing := map[string]int{}
	events := map[string]map[string]int{}
	for _, m := range sink.received() {
		subject := mailSubject(m.data)
		switch {
		case strings.Contains(subject, "FIRING"):
			firing[subject]++
		case strings.Contains(subject, "Event log"):
			host := hostOfSubject(subject)
			body := mailBody(t, m.data)
			for _, l := range lines {
				if strings.Contains(body, l) {
					if events[host] == nil {
						events[host] = map[string]int{}
					}
					events[host][l]++
				}
			}
		}
	}
	// What a killed instance had claimed waits in the outbox until its
	// claim expires (minutes), then another sends it: waiting there is
	// not lost.
	waiting := map[string]string{} // subject or host: bodies
	rows, err := state.Query(`SELECT kind, host_ip, subject, body FROM notifications WHERE status IN ('pending', 'sending')`)
	must(t, err)
	for rows.Next() {
		var kind, host, subject, body string
		must(t, rows.Scan(&kind, &host, &subject, &body))
		if kind == "alert" {
			waiting[subject] += body
		} else {
			waiting[host] += body
		}
	}
	must(t, rows.Err())
	rows.Close()
	t.Logf("%d hosts or alerts with notifications still in the outbox", len(waiting))
	for s, n := range firing {
		if n != 1 {
			t.Errorf("%d FIRING mails %q, want 1", n, s)
		}
	}
	if len(firing) < 300 && len(firing)+len(waiting) < 300 {
		t.Errorf("FIRING mails name %d hosts and %d wait in the outbox, want 300", len(firing), len(waiting))
	}
	for _, h := range fleet.Hosts() {
		for _, l := range lines {
			n := events[h.IP][l]
			switch {
			case n > 1:
				t.Errorf("host %s: line %q in %d event-log mails, want 1", h.IP, l, n)
			case n == 0 && !strings.Contains(waiting[h.IP], l):
				t.Errorf("host %s: line %q in no event-log mail and not waiting in the outbox: skipped", h.IP, l)
			}
		}
	}
}

// checkClusterView reads the status of a member through its HTTP server:
// /readyz is ready, /metrics counts alive and gone members, names the
// leader and the hosts the members collected, the fleet page lists every
// member.
func checkClusterView(t *testing.T, p *serveProcess, alive, gone int, leader string) {
	t.Helper()
	m := listenAddr.FindStringSubmatch(p.log.String())
	if m == nil {
		t.Fatalf("the member did not log its address:\n%s", p.log.String())
	}
	base := "http://" + m[1]
	get := func(path string) (int, string) {
		resp, err := http.Get(base + path)
		must(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		must(t, err)
		return resp.StatusCode, string(body)
	}
	if code, body := get("/readyz"); code != http.StatusOK {
		t.Errorf("/readyz of a member: %d %s", code, body)
	}
	_, text := get("/metrics")
	parser := expfmt.NewTextParser(model.LegacyValidation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(text))
	must(t, err)
	value := func(name string, labels map[string]string) (float64, bool) {
		f := families[name]
		if f == nil {
			return 0, false
		}
	metrics:
		for _, mt := range f.GetMetric() {
			for _, l := range mt.GetLabel() {
				if want, ok := labels[l.GetName()]; ok && want != l.GetValue() {
					continue metrics
				}
			}
			return mt.GetGauge().GetValue(), true
		}
		return 0, false
	}
	if v, _ := value("cscs_cluster_members", map[string]string{"state": "alive"}); int(v) != alive {
		t.Errorf("cscs_cluster_members{state=alive} = %v, want %d", v, alive)
	}
	if v, _ := value("cscs_cluster_members", map[string]string{"state": "gone"}); int(v) != gone {
		t.Errorf("cscs_cluster_members{state=gone} = %v, want %d", v, gone)
	}
	if v, ok := value("cscs_cluster_leader", map[string]string{"member": leader}); !ok || v != 1 {
		t.Errorf("cscs_cluster_leader{member=%q} = %v, %v; want 1", leader, v, ok)
	}
	collected := 0.0
	for _, mt := range families["cscs_cluster_member_hosts"].GetMetric() {
		for _, l := range mt.GetLabel() {
			if l.GetName() == "result" && l.GetValue() == "collected" {
				collected += mt.GetGauge().GetValue()
			}
		}
	}
	if collected == 0 {
		t.Errorf("cscs_cluster_member_hosts says no member collected a host:\n%s", text)
	}
	_, page := get("/")
	if !strings.Contains(page, "<h2>Cluster</h2>") || !strings.Contains(page, leader) || strings.Count(page, `<span class="badge ok">alive</span>`) != alive {
		t.Errorf("the fleet page does not show the cluster with the leader %s and %d alive members", leader, alive)
	}
}

var listenAddr = regexp.MustCompile(`"msg":"listening","address":"([^"]+)"`)

// waitSlots waits until want intervals after since (zero: any) each have
// a collection of all n hosts, and returns their starts.
func waitSlots(t *testing.T, store *sql.DB, n, want int, since time.Time, logs func() string) []time.Time {
	t.Helper()
	deadline := time.Now().Add(time.Duration(want+8) * clusterTick)
	for {
		rows, err := store.Query(`SELECT r.slot, count(DISTINCT c.host_id) FROM collections c
			JOIN (SELECT round_id, floor(extract(epoch FROM min(started_at)) / $1) AS slot FROM collections GROUP BY round_id) r USING (round_id)
			WHERE c.status = 'ok' GROUP BY r.slot ORDER BY r.slot`, clusterTick.Seconds())
		var full []time.Time
		if err == nil {
			for rows.Next() {
				var slot float64
				var hosts int
				must(t, rows.Scan(&slot, &hosts))
				at := time.Unix(int64(slot*clusterTick.Seconds()), 0)
				if hosts == n && !at.Before(since.Truncate(clusterTick)) && at.After(since.Add(-clusterTick)) {
					full = append(full, at)
				}
			}
			rows.Close()
		}
		if len(full) >= want {
			return full[:want]
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s, %d interval(s) since %s collected all %d hosts, want %d (err %v)\n%s",
				time.Duration(want+8)*clusterTick, len(full), since.Format(time.TimeOnly), n, want, err, logs())
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// collectedBy lists the members that collected hosts in their latest
// interval, with how many.
func collectedBy(t *testing.T, state *sql.DB) map[string]int {
	t.Helper()
	rows, err := state.Query(`SELECT id, collected FROM cluster_members WHERE collected > 0`)
	must(t, err)
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var id string
		var n int
		must(t, rows.Scan(&id, &n))
		out[id] = n
	}
	return out
}

// memberCollected reports whether the member of process pid collected
// hosts.
func memberCollected(t *testing.T, state *sql.DB, pid int) bool {
	t.Helper()
	return queryInt(t, state, `SELECT count(*) FROM cluster_members WHERE pid = $1 AND collected > 0`, pid) > 0
}

// mailSubject is a received mail's Subject header.
func mailSubject(data string) string {
	for _, line := range strings.Split(data, "\n") {
		if s, ok := strings.CutPrefix(strings.TrimRight(line, "\r"), "Subject: "); ok {
			return s
		}
	}
	return ""
}

// hostOfSubject is the address an event-log subject names
// ("[CSCS] Event log name (ip): …").
func hostOfSubject(subject string) string {
	if m := subjectHost.FindStringSubmatch(subject); m != nil {
		return m[1]
	}
	return subject
}

var subjectHost = regexp.MustCompile(`\(([0-9.]+)\)`)
