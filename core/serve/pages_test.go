package serve

import (
	"context"
	"database/sql"
	"fmt"
	"html"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/core/config"
	"github.com/cscs-dev/cscs/core/round"
	"github.com/cscs-dev/cscs/core/state"
	"github.com/cscs-dev/cscs/sdk/storage"
)

func TestHostStatus(t *testing.T) {
	for _, c := range []struct {
		name      string
		status    storage.Status
		err       string
		collected bool
		down      bool
		want      statusView
	}{
		{"ok", storage.StatusOK, "", true, false, statusView{Text: "ok", Class: "ok"}},
		{"ok with errors", storage.StatusOK, "module errors: cpu: exit status 1", true, false, statusView{Text: "ok, errors", Class: "warn"}},
		{"failed", storage.StatusUnreachable, "refused", true, false, statusView{Text: "unreachable", Class: "bad"}},
		{"cancelled", storage.StatusCancelled, "", true, false, statusView{Text: "cancelled", Class: "warn"}},
		{"before the first round", "", "", false, false, statusView{Text: "not collected yet", Class: "none"}},
		{"down", storage.StatusUnreachable, "refused", true, true, statusView{Text: "DOWN", Class: "down", Down: true, Detail: "unreachable"}},
		{"down before a round", "", "", false, true, statusView{Text: "DOWN", Class: "down", Down: true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := hostStatus(storage.Collection{Status: c.status, Error: c.err}, c.collected, c.down); got != c.want {
				t.Errorf("hostStatus(%q, %q, %v, %v) = %+v, want %+v", c.status, c.err, c.collected, c.down, got, c.want)
			}
		})
	}
}

func TestRefreshSeconds(t *testing.T) {
	for interval, want := range map[time.Duration]int{
		time.Second: 5, 10 * time.Second: 10, time.Minute: 30, time.Hour: 30,
	} {
		if got := refreshSeconds(interval); got != want {
			t.Errorf("refreshSeconds(%s) = %d, want %d", interval, got, want)
		}
	}
}

// offlinePlan is a plan of two hosts whose state is in a fresh data
// directory; nothing is collected from it.
func offlinePlan(t *testing.T) *round.Plan {
	t.Helper()
	return &round.Plan{
		Config: &round.Config{Inventory: &config.Config{Clients: []config.Client{
			{IP: "10.0.0.1", Port: 22}, {IP: "10.0.0.2", Port: 2222},
		}}},
		Env: round.Environment{DataDir: t.TempDir()},
	}
}

// putAlertRow writes one alert state row into the plan's state database,
// as the round's alert stage would.
func putAlertRow(t *testing.T, plan *round.Plan, ip string, port int, rule string, firing bool) {
	t.Helper()
	st, err := state.Open(t.Context(), state.Path(plan.Env.DataDir), state.Options{}) // as a round creates it
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite3", filepath.Join(plan.Env.DataDir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err = db.Exec(`INSERT INTO alert_state (host_ip, host_port, rule_id, firing, since, last_value, updated_at, streak)
		VALUES (?, ?, ?, ?, '2026-05-01T10:00:00.000000000Z', 3, '2026-05-01T10:00:00.000000000Z', 0)`, ip, port, rule, firing)
	if err != nil {
		t.Fatal(err)
	}
}

// TestDownBadge: a host whose "down" alert fires in the state database
// shows DOWN on the fleet page and on its own page; another firing rule
// does not make a host DOWN.
func TestDownBadge(t *testing.T) {
	plan := offlinePlan(t)
	putAlertRow(t, plan, "10.0.0.2", 2222, round.DownRule, true)
	putAlertRow(t, plan, "10.0.0.1", 22, "memory>90", true)
	svc := New(plan, nil, Options{Interval: time.Minute})
	svc.record(&round.Result{Batch: &storage.Batch{RoundID: "r1", Collections: []storage.Collection{
		{HostIP: "10.0.0.1", HostPort: 22, Status: storage.StatusOK},
		{HostIP: "10.0.0.2", HostPort: 2222, Status: storage.StatusUnreachable, Error: "connection refused"},
	}}, Stored: true}, time.Now())
	h := svc.Handler()

	code, body := get(h, "/")
	if code != http.StatusOK {
		t.Fatalf("/: %d\n%s", code, body)
	}
	rows := tableRows(body, "hosts")
	if !strings.Contains(rows["10.0.0.2:2222"], `class="badge down">DOWN<`) {
		t.Errorf("the fleet page's row of the down host: %q", rows["10.0.0.2:2222"])
	}
	if strings.Contains(rows["10.0.0.1"], "DOWN") || !strings.Contains(rows["10.0.0.1"], ">ok<") {
		t.Errorf("the fleet page's row of the host with a memory alert: %q", rows["10.0.0.1"])
	}
	if !strings.Contains(body, "memory&gt;90") {
		t.Error("the fleet page does not list the firing memory alert")
	}
	code, body = get(h, "/hosts/10.0.0.2:2222")
	if code != http.StatusOK || !strings.Contains(body, `class="badge big down">DOWN<`) {
		t.Errorf("/hosts/10.0.0.2:2222: %d, no DOWN badge\n%s", code, body)
	}
}

// tableRows maps the first cell's link text of each row of the table of
// class class to the row's HTML.
func tableRows(body, class string) map[string]string {
	out := map[string]string{}
	_, table, ok := strings.Cut(body, `<table class="`+class+`">`)
	if !ok {
		return out
	}
	table, _, _ = strings.Cut(table, "</table>")
	for _, row := range strings.Split(table, "<tr>")[1:] {
		if _, link, ok := strings.Cut(row, `<a href="`); ok {
			_, link, _ = strings.Cut(link, `">`)
			label, _, _ := strings.Cut(link, "</a>")
			out[html.UnescapeString(label)] = row
		}
	}
	return out
}

// TestPagesEscapeWhatHostsSay: a hostname and an error text with markup
// appear as text on both pages, never as markup.
func TestPagesEscapeWhatHostsSay(t *testing.T) {
	plan := offlinePlan(t)
	svc := New(plan, nil, Options{})
	const evil = `<script>alert("pwned")</script>`
	svc.record(&round.Result{Batch: &storage.Batch{RoundID: "r1", Collections: []storage.Collection{
		{HostIP: "10.0.0.1", HostPort: 22, Status: storage.StatusOK, Hostname: evil},
		{HostIP: "10.0.0.2", HostPort: 2222, Status: storage.StatusAgentError, Hostname: evil, Error: "agent said " + evil},
	}}}, time.Now())
	h := svc.Handler()
	for _, path := range []string{"/", "/hosts/10.0.0.1", "/hosts/10.0.0.2:2222", "/hosts/" + strings.ReplaceAll(evil, "/", "%2F")} {
		code, body := get(h, path)
		if strings.Contains(body, "<script") {
			t.Errorf("%s (%d) holds a script element:\n%s", path, code, body)
		}
		if code == http.StatusOK && !strings.Contains(body, "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;") {
			t.Errorf("%s does not show the hostname as text", path)
		}
	}
}

// TestPagesBeforeTheFirstRound: the pages say no round completed, list
// the inventory, and answer 404 with a page for a host not in it; a data
// directory that cannot be read shows as a problem on the page.
func TestPagesBeforeTheFirstRound(t *testing.T) {
	plan := offlinePlan(t)
	h := New(plan, nil, Options{}).Handler()
	code, body := get(h, "/")
	if code != http.StatusOK || !strings.Contains(body, "No round has completed yet") || !strings.Contains(body, "10.0.0.2:2222") {
		t.Errorf("/ before a round: %d\n%s", code, body)
	}
	if !strings.Contains(body, `<meta http-equiv="refresh" content="30">`) || !strings.Contains(body, `name="viewport"`) {
		t.Error("/ has no refresh or viewport")
	}
	if code, body := get(h, "/hosts/10.9.9.9"); code != http.StatusNotFound || !strings.Contains(body, "Host not found") {
		t.Errorf("/hosts/10.9.9.9: %d\n%s", code, body)
	}
	if code, body := get(h, "/static/style.css"); code != http.StatusOK || !strings.Contains(body, ".badge") {
		t.Errorf("/static/style.css: %d", code)
	}
	if code, _ := get(h, "/nope"); code != http.StatusNotFound {
		t.Errorf("/nope: %d", code)
	}

	broken := offlinePlan(t) // its state database is a directory
	if err := os.Mkdir(state.Path(broken.Env.DataDir), 0o700); err != nil {
		t.Fatal(err)
	}
	code, body = get(New(broken, nil, Options{}).Handler(), "/")
	if code != http.StatusOK || !strings.Contains(body, `class="problem"`) {
		t.Errorf("/ with an unreadable data directory: %d\n%s", code, body)
	}
}

// failingHost is a <client> at a loopback port nothing listens on, and
// its label.
func failingHost(t *testing.T) (client, label string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return fmt.Sprintf(`  <client ip="127.0.0.1" port="%d" username="demo" password="file:demo.password" mail="ops@example.com"/>`+"\n", port),
		round.HostLabel("127.0.0.1", port)
}

// downAfter is how many failed rounds in a row fire the down alert
// (alert.DefaultDownAfter).
const downAfter = 3

// fleetRounds runs rounds of the in-process fleet and a host that
// refuses connections, enough for the failing host's down alert to fire,
// and returns the service, its plan and the failing host's label.
func fleetRounds(t *testing.T) (*Service, *round.Plan, string) {
	t.Helper()
	client, failing := failingHost(t)
	plan, _ := fleetPlanWith(t, client)
	svc := New(plan, nil, Options{Interval: time.Minute, Jitter: -1})
	for range downAfter {
		if _, _, complete := svc.runOnce(context.Background(), plan, time.Now(), nil); !complete {
			t.Fatal("a round did not complete")
		}
	}
	return svc, plan, failing
}

// TestPagesAfterRounds: after rounds, the fleet page lists every host
// with its status (DOWN for the host that failed every round) and the
// failing host's error; a healthy host's page has one chart per stored
// metric with a point per stored value.
func TestPagesAfterRounds(t *testing.T) {
	if testing.Short() {
		t.Skip("runs rounds against an in-process SSH fleet")
	}
	svc, plan, failing := fleetRounds(t)
	h := svc.Handler()
	last, _, _ := svc.Last()
	code, body := get(h, "/")
	if code != http.StatusOK {
		t.Fatalf("/: %d\n%s", code, body)
	}
	rows := tableRows(body, "hosts")
	for _, c := range last.Batch.Collections {
		label := round.HostLabel(c.HostIP, c.HostPort)
		for _, want := range strings.Fields(shownStatus(c, failing)) {
			if !strings.Contains(rows[label], ">"+want+"<") {
				t.Errorf("fleet page row of %s lacks %s: %q", label, want, rows[label])
			}
		}
		if c.Status != storage.StatusOK && (label != failing || !strings.Contains(body, html.EscapeString(c.Error))) {
			t.Errorf("host %s failed (%s); the page should show its error %q", label, c.Status, c.Error)
		}
	}
	if !strings.Contains(body, last.Batch.RoundID) {
		t.Errorf("the fleet page does not name the last round %s", last.Batch.RoundID)
	}

	healthy := last.Batch.Collections[0]
	label := round.HostLabel(healthy.HostIP, healthy.HostPort)
	code, body = get(h, hostLink(label))
	if code != http.StatusOK {
		t.Fatalf("%s: %d\n%s", hostLink(label), code, body)
	}
	host, err := round.ReadHost(t.Context(), plan, healthy.HostIP, healthy.HostPort)
	if err != nil || len(host.Series) == 0 {
		t.Fatalf("ReadHost: %d series, %v", len(host.Series), err)
	}
	for _, s := range host.Series {
		want := fmt.Sprintf(`data-metric="%s" data-points="%d"`, html.EscapeString(s.Metric), len(s.Points))
		if !strings.Contains(body, want) {
			t.Errorf("host page: no chart %s", want)
		}
	}
	if len(host.Series[0].Points) != downAfter {
		t.Errorf("%s has %d stored values after %d rounds", host.Series[0].Metric, len(host.Series[0].Points), downAfter)
	}
	if code, body := get(h, hostLink(failing)); code != http.StatusOK || !strings.Contains(body, `class="badge big down">DOWN<`) {
		t.Errorf("%s: %d, no DOWN badge after %d failed rounds\n%s", hostLink(failing), code, downAfter, body)
	}
}

// shownStatus is the status the pages show for c after fleetRounds: DOWN
// and its status for the failing host, else the collection's status.
func shownStatus(c storage.Collection, failing string) string {
	if round.HostLabel(c.HostIP, c.HostPort) == failing {
		return "DOWN " + string(c.Status)
	}
	return string(c.Status)
}
