package serve

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"golang.org/x/crypto/bcrypt"

	"github.com/cscs-dev/cscs/core/demo"
	"github.com/cscs-dev/cscs/core/internal/syncbuf"
	"github.com/cscs-dev/cscs/core/internal/testagent"
	"github.com/cscs-dev/cscs/core/round"
	"github.com/cscs-dev/cscs/core/round/pool"
	"github.com/cscs-dev/cscs/core/spool"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// fleetPlan plans rounds against a two-host in-process SSH fleet with a
// local mail sink, as a server would, and returns the SQLite file the
// rounds go to.
func fleetPlan(t *testing.T) (*round.Plan, string) {
	t.Helper()
	return fleetPlanWith(t, "")
}

// fleetPlanWith is fleetPlan with more <client> elements in config.xml.
func fleetPlanWith(t testing.TB, clients string) (*round.Plan, string) {
	t.Helper()
	return fleetPlanOf(t, clients, nil)
}

// fleetPlanOf is fleetPlanWith; prepare, when not nil, changes the demo's
// files first.
func fleetPlanOf(t testing.TB, clients string, prepare func(*demo.Demo)) (*round.Plan, string) {
	t.Helper()
	ctx := context.Background()
	d, err := demo.Start(ctx, demo.Options{Dir: t.TempDir(), Hosts: 2, User: "demo"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	if prepare != nil {
		prepare(d)
	}
	if clients != "" {
		inventory, err := os.ReadFile(d.Inventory)
		if err != nil {
			t.Fatal(err)
		}
		inventory = []byte(strings.Replace(string(inventory), "</clients>", clients+"</clients>", 1))
		if err := os.WriteFile(d.Inventory, inventory, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var diags strings.Builder
	cfg, err := round.Load(ctx, round.Files{Inventory: d.Inventory, Email: d.Email}, round.LoadOptions{Version: "test"}, &diags)
	if err != nil {
		t.Fatalf("Load: %v\n%s", err, diags.String())
	}
	settings := round.DefaultSettings()
	settings.CPUSample = 0
	plan, err := round.NewPlan(cfg, settings, round.Environment{
		Version: "test", DataDir: d.DataDir, AgentDir: testagent.Dir(t), DB: d.DB, InProcessPlugins: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	return plan, d.DB
}

// scrape reads /metrics of h as Prometheus would, with its name rules.
func scrape(t *testing.T, h http.Handler) map[string]*dto.MetricFamily {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("/metrics: %d %s", rec.Code, rec.Body)
	}
	parser := expfmt.NewTextParser(model.LegacyValidation)
	families, err := parser.TextToMetricFamilies(rec.Body)
	if err != nil {
		t.Fatalf("/metrics does not parse: %v", err)
	}
	return families
}

func get(h http.Handler, path string) (int, string) {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	return rec.Code, rec.Body.String()
}

// TestServiceRoundsAndMetrics: rounds run on the schedule without
// overlapping (a round longer than the interval makes the next start at
// once and counts the starts it overran); /readyz turns ready after the
// first round; /metrics parses with Prometheus' own parser, follows its
// naming rules, and its host values are the values stored in the
// database for the latest round.
func TestServiceRoundsAndMetrics(t *testing.T) {
	if testing.Short() {
		t.Skip("runs rounds against an in-process SSH fleet")
	}
	plan, db := fleetPlan(t)
	spooledAt := spoolOldRound(t, plan, "storage-offline", time.Hour)
	var pluginFailures, rounds atomic.Int64
	svc := New(plan, nil, Options{Interval: 50 * time.Millisecond, Jitter: -1,
		Done: func(r *round.Result) { pluginFailures.Add(int64(r.PluginFailures)); rounds.Add(1) }})
	h := svc.Handler()
	if code, body := get(h, "/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "no round") {
		t.Errorf("/readyz before the first round: %d %q", code, body)
	}
	if code, _ := get(h, "/healthz"); code != http.StatusOK {
		t.Errorf("/healthz: %d", code)
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan *round.Result)
	go func() { done <- svc.Run(ctx) }()
	deadline := time.Now().Add(60 * time.Second)
	for rounds.Load() < 2 { // not scraping: a scrape reads the state database
		if time.Now().After(deadline) {
			t.Fatal("two rounds did not complete within a minute")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	last := <-done
	if last == nil || !last.OK() {
		t.Fatalf("Run returned %v", last)
	}
	// Readiness against a clock set after the last round, so a loaded
	// machine cannot make the check late: ready one interval after it,
	// not ready three intervals after it.
	_, ended, _ := svc.Last()
	svc.opts.Now = func() time.Time { return ended.Add(svc.Tick()) }
	if code, body := get(h, "/readyz"); code != http.StatusOK {
		t.Errorf("/readyz one interval after the last round: %d %q", code, body)
	}
	svc.opts.Now = func() time.Time { return ended.Add(3 * svc.Tick()) }
	if code, body := get(h, "/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "more than two intervals") {
		t.Errorf("/readyz three intervals after the last round: %d %q", code, body)
	}

	lintScrape(t, h)
	families := scrape(t, h)
	name := regexp.MustCompile(`^cscs_[a-z0-9_]+$`)
	for n, f := range families {
		if !name.MatchString(n) || f.GetHelp() == "" {
			t.Errorf("family %q: want a cscs_ snake_case name and a help text (help %q)", n, f.GetHelp())
		}
		if f.GetType() == dto.MetricType_COUNTER && !strings.HasSuffix(n, "_total") {
			t.Errorf("counter %q does not end in _total", n)
		}
	}
	if skipped := counter(families, "cscs_rounds_skipped_total"); skipped < 1 {
		t.Errorf("cscs_rounds_skipped_total = %v; rounds of ~0.5 s at a 50 ms interval overrun it", skipped)
	}
	if ok := gauge(families, "cscs_hosts", "status", "ok"); ok != 2 {
		t.Errorf("cscs_hosts{status=ok} = %v, want 2", ok)
	}

	// The host values are the latest round's, as stored.
	last, _, _ = svc.Last()
	stored := storedSamples(t, db, last.Batch.RoundID)
	if len(stored) < 10 {
		t.Fatalf("only %d samples stored for round %s", len(stored), last.Batch.RoundID)
	}
	labelled := 0
	for key, v := range stored {
		host, rest, _ := strings.Cut(key, " ")
		metric, labelsText, _ := strings.Cut(rest, " ")
		labels := map[string]string{}
		if err := json.Unmarshal([]byte(labelsText), &labels); err != nil {
			t.Fatalf("labels %q: %v", labelsText, err)
		}
		if len(labels) > 0 {
			labelled++
		}
		labels["host"] = host
		if got := gaugeWith(families, MetricName(metric), labels); got != v {
			t.Errorf("%s%v = %v, stored %v", MetricName(metric), labels, got, v)
		}
	}
	if labelled == 0 {
		t.Error("no labelled sample (disk, net) was stored; their gauges are not tested")
	}

	// The outbox, the spool and the plugin failures are as stored.
	outbox := storedOutbox(t, filepath.Join(plan.Env.DataDir, "state.db"))
	for _, status := range storage.NotificationStatuses {
		if got := gauge(families, "cscs_outbox_notifications", "status", status); got != float64(outbox[status]) {
			t.Errorf("cscs_outbox_notifications{status=%q} = %v, stored %d", status, got, outbox[status])
		}
	}
	if outbox[storage.NotificationSent] == 0 {
		t.Error("the rounds sent no mail; the outbox figures are not tested")
	}
	if got := gauge(families, "cscs_spool_rounds", "storage", "storage-offline"); got != 1 {
		t.Errorf("cscs_spool_rounds{storage=storage-offline} = %v, want 1", got)
	}
	age := gauge(families, "cscs_spool_oldest_round_age_seconds", "storage", "storage-offline")
	if want := time.Since(spooledAt).Seconds(); age < want-5 || age > want+5 {
		t.Errorf("cscs_spool_oldest_round_age_seconds{storage=storage-offline} = %v, want about %v", age, want)
	}
	if got := counter(families, "cscs_plugin_failures_total"); got != float64(pluginFailures.Load()) || families["cscs_plugin_failures_total"] == nil {
		t.Errorf("cscs_plugin_failures_total = %v, the rounds counted %d", got, pluginFailures.Load())
	}
}

// lintScrape runs Prometheus' metric linter (promtool check metrics) over
// a scrape of h and fails on any problem.
func lintScrape(t *testing.T, h http.Handler) {
	t.Helper()
	code, body := get(h, "/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d", code)
	}
	problems, err := promlint.New(strings.NewReader(body)).Lint()
	if err != nil {
		t.Fatalf("promlint: %v", err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
}

// spoolOldRound spools an empty round that started ago for a storage the
// plan does not have (so no round replays it) and returns its start.
func spoolOldRound(t *testing.T, plan *round.Plan, name string, ago time.Duration) time.Time {
	t.Helper()
	started := time.Now().Add(-ago).Truncate(time.Second)
	sp, err := spool.Open(filepath.Join(plan.Env.DataDir, "spool"), name, plan.Identity)
	if err != nil {
		t.Fatal(err)
	}
	if err := sp.Put(&storage.Batch{RoundID: pool.NewRoundID(started), StartedAt: started, FinishedAt: started}); err != nil {
		t.Fatal(err)
	}
	return started
}

// storedOutbox counts the state database's notifications by status.
func storedOutbox(t *testing.T, path string) map[string]int {
	t.Helper()
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT status, COUNT(*) FROM notifications GROUP BY status`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var status string
		var n int
		if err := rows.Scan(&status, &n); err != nil {
			t.Fatal(err)
		}
		out[status] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestReloadKeepsTheRunningPlan: a reload whose configuration has errors
// is refused and the plan stays; a valid one replaces it; both counted.
func TestReloadKeepsTheRunningPlan(t *testing.T) {
	first, second := &round.Plan{}, &round.Plan{}
	next := func(context.Context) (*round.Plan, error) {
		return nil, fmt.Errorf("config.xml: %w", round.ErrInvalid)
	}
	svc := New(first, func(ctx context.Context) (*round.Plan, error) { return next(ctx) }, Options{})
	if err := svc.Reload(context.Background()); !errors.Is(err, round.ErrInvalid) {
		t.Fatalf("Reload of a broken configuration: %v", err)
	}
	if svc.plan != first {
		t.Error("a refused reload replaced the plan")
	}
	next = func(context.Context) (*round.Plan, error) { return second, nil }
	if err := svc.Reload(context.Background()); err != nil || svc.plan != second {
		t.Errorf("a valid reload: %v; plan replaced %v", err, svc.plan == second)
	}
	families := scrape(t, svc.Handler())
	if refused, ok := gauge(families, "cscs_config_reloads_total", "result", "refused"), gauge(families, "cscs_config_reloads_total", "result", "ok"); refused != 1 || ok != 1 {
		t.Errorf("reloads: %v refused, %v ok; want 1 and 1", refused, ok)
	}
}

func TestMetricName(t *testing.T) {
	for in, want := range map[string]string{
		"cpu.percent":         "cscs_host_cpu_percent",
		"load.1":              "cscs_host_load_1",
		"memory.used_percent": "cscs_host_memory_used_percent",
		"disk./var.used-pct":  "cscs_host_disk__var_used_pct",
		"cpu.count":           "cscs_host_cpu_count_value",
		"net.rx_total":        "cscs_host_net_rx_total_value",
		"io.wait_sum":         "cscs_host_io_wait_sum_value",
	} {
		if got := MetricName(in); got != want {
			t.Errorf("MetricName(%q) = %q, want %q", in, got, want)
		}
	}
}

// counter is the value of an unlabelled counter family (0 when absent).
func counter(families map[string]*dto.MetricFamily, name string) float64 {
	f := families[name]
	if f == nil || len(f.Metric) == 0 {
		return 0
	}
	return f.Metric[0].GetCounter().GetValue()
}

// gauge is the value of the series of family name whose label has value
// (counters too); -1 when absent.
func gauge(families map[string]*dto.MetricFamily, name, label, value string) float64 {
	f := families[name]
	if f == nil {
		return -1
	}
	for _, m := range f.Metric {
		for _, l := range m.Label {
			if l.GetName() == label && l.GetValue() == value {
				if m.Counter != nil {
					return m.Counter.GetValue()
				}
				return m.GetGauge().GetValue()
			}
		}
	}
	return -1
}

// gaugeWith is the value of the gauge name whose labels include labels;
// -1 when there is none.
func gaugeWith(families map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	f := families[name]
	if f == nil {
		return -1
	}
	for _, m := range f.Metric {
		found := 0
		for _, l := range m.Label {
			if v, ok := labels[l.GetName()]; ok && v == l.GetValue() {
				found++
			}
		}
		if found == len(labels) {
			return m.GetGauge().GetValue()
		}
	}
	return -1
}

// storedSamples reads the samples of round id from the SQLite database:
// "ip:port metric labels" → value.
func storedSamples(t *testing.T, path, id string) map[string]float64 {
	t.Helper()
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT h.ip, h.port, s.metric, s.labels, s.value FROM samples s
		JOIN collections c ON c.id = s.collection_id JOIN hosts h ON h.id = c.host_id WHERE c.round_id = ?`, id)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]float64{}
	for rows.Next() {
		var ip, metric, labels string
		var port int
		var v float64
		if err := rows.Scan(&ip, &port, &metric, &labels, &v); err != nil {
			t.Fatal(err)
		}
		out[round.HostLabel(ip, port)+" "+metric+" "+labels] = v
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestListenWithTLSAndBasicAuth: with a web configuration file, the
// listener speaks TLS with the file's certificate and refuses a request
// without credentials or with a wrong password; a broken file is refused
// before anything starts.
func TestListenWithTLSAndBasicAuth(t *testing.T) {
	if testing.Short() {
		t.Skip("runs rounds against an in-process SSH fleet")
	}
	dir := t.TempDir()
	certPEM, keyPEM := selfSigned(t)
	write := func(name, text string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	hash, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	webConfig := write("web.yml", fmt.Sprintf("tls_server_config:\n  cert_file: %s\n  key_file: %s\nbasic_auth_users:\n  ops: %s\n",
		write("cert.pem", certPEM), write("key.pem", keyPEM), hash))

	plan, _ := fleetPlan(t)
	var logs syncbuf.Buffer
	svc := New(plan, nil, Options{Interval: time.Hour, Jitter: -1, Logger: slogTo(&logs)})
	if _, err := svc.ListenAndRun(context.Background(), "127.0.0.1:0", write("bad.yml", "tls_server_config:\n  cert_file: /nonexistent\n")); err == nil {
		t.Fatal("a web configuration naming a missing certificate was accepted")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := svc.ListenAndRun(ctx, "127.0.0.1:0", webConfig); done <- err }()
	defer func() { cancel(); <-done }()
	var addr string
	for deadline := time.Now().Add(30 * time.Second); addr == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := regexp.MustCompile(`address=([0-9.:]+)`).FindStringSubmatch(logs.String()); m != nil {
			addr = m[1]
		}
	}
	if addr == "" {
		t.Fatalf("not listening:\n%s", logs.String())
	}

	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM([]byte(certPEM))
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 10 * time.Second}
	for _, c := range []struct {
		user, password string
		want           int
	}{{"", "", http.StatusUnauthorized}, {"ops", "wrong", http.StatusUnauthorized}, {"ops", "s3cret", http.StatusOK}} {
		req, _ := http.NewRequest("GET", "https://"+addr+"/healthz", nil)
		if c.user != "" {
			req.SetBasicAuth(c.user, c.password)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s:%s: %v", c.user, c.password, err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("user %q password %q: status %d, want %d", c.user, c.password, resp.StatusCode, c.want)
		}
	}
	if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Error("plain HTTP was answered with 200 beside TLS")
		}
	}
}

// selfSigned is a certificate for 127.0.0.1 and its key, PEM-encoded.
func selfSigned(t *testing.T) (certPEM, keyPEM string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "cscs test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}))
}

func slogTo(w *syncbuf.Buffer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }
