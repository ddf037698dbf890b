//go:build unix

package cli

import (
	"context"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// TestServe runs `cscs serve` against the in-process fleet: it listens,
// becomes ready after its first round, exposes both hosts in /metrics,
// refuses a SIGHUP reload of a broken config.xml while it keeps
// collecting with the running configuration, and exits 0 when stopped.
func TestServe(t *testing.T) {
	skipShort(t, "runs cscs serve against an in-process SSH fleet")
	r, _ := fleetRound(t, "")
	args := append([]string{"serve"}, r.args("--interval", "300ms", "--listen", "127.0.0.1:0", "--log-format", "json")[1:]...)
	var stderr lockedBuffer
	ctx, stop := context.WithCancel(context.Background())
	exited := make(chan int, 1)
	go func() { exited <- Main(ctx, args, "test", strings.NewReader(""), io.Discard, &stderr) }()
	ended := false
	t.Cleanup(func() {
		if !ended {
			stop()
			<-exited
		}
	})

	addr := waitFor(t, func() string {
		if m := regexp.MustCompile(`"address":"([0-9.:]+)"`).FindStringSubmatch(stderr.String()); m != nil {
			return m[1]
		}
		return ""
	}, &stderr)
	body := func(path string) (int, string) {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	waitFor(t, func() string {
		if code, _ := body("/readyz"); code == http.StatusOK {
			return "ready"
		}
		return ""
	}, &stderr)
	_, metrics := body("/metrics")
	parser := expfmt.NewTextParser(model.LegacyValidation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(metrics))
	if err != nil {
		t.Fatalf("/metrics does not parse: %v", err)
	}
	if up := families["cscs_host_up"]; up == nil || len(up.Metric) != 2 {
		t.Fatalf("cscs_host_up: %v; want both hosts", up)
	}

	// A broken config.xml: the reload is refused, the rounds go on.
	must(t, os.WriteFile(r.config, []byte("<clients><client ip=\n"), 0o600))
	rounds := strings.Count(stderr.String(), `"msg":"round"`)
	must(t, syscall.Kill(os.Getpid(), syscall.SIGHUP))
	waitFor(t, func() string {
		s := stderr.String()
		if strings.Contains(s, "reload refused") && strings.Count(s, `"msg":"round"`) >= rounds+2 {
			return "ok"
		}
		return ""
	}, &stderr)
	if !strings.Contains(stderr.String(), "config.xml:1:") {
		t.Errorf("the refused reload's diagnostics do not name config.xml's line:\n%s", stderr.String())
	}
	stop()
	ended = true
	if code := <-exited; code != ExitOK {
		t.Errorf("exit %d after stop, want 0\n%s", code, stderr.String())
	}
}

// waitFor polls f until it returns something, for up to a minute.
func waitFor(t *testing.T, f func() string, log *lockedBuffer) string {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if v := f(); v != "" {
			return v
		}
	}
	t.Fatalf("timed out; stderr:\n%s", log.String())
	return ""
}
