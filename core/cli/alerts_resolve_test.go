package cli

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestRoundAlertFiresAndResolves moves a metric across its limit between
// rounds (through an installed source plugin whose script reads a file) and
// checks the mails: FIRING, nothing while it keeps firing, RESOLVED.
func TestRoundAlertFiresAndResolves(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a plugin and runs several rounds")
	}
	r, fleet := fleetRound(t, "")
	valueFile := filepath.Join(t.TempDir(), "gauge-value")
	must(t, os.WriteFile(valueFile, []byte("95"), 0o644))
	bin := filepath.Join(t.TempDir(), "gauge")
	cmd := exec.Command("go", "build", "-ldflags", "-X main.valueFile="+valueFile, "-o", bin, "github.com/cscs-dev/cscs/core/cli/testdata/gauge")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the gauge plugin: %v\n%s", err, out)
	}
	var stdout, stderr bytes.Buffer
	if code := Main(context.Background(), []string{"plugins", "install", "--data-dir", r.dataDir, bin}, "test", strings.NewReader(""), &stdout, &stderr); code != ExitOK {
		t.Fatalf("install: exit %d\n%s", code, stderr.String())
	}
	// One client with a rule on the plugin's alert type.
	cfg, err := os.ReadFile(r.config)
	must(t, err)
	first := fleet.Hosts()[0]
	cfg = bytes.Replace(cfg, []byte(`mail="ops@example.com"/>`), []byte(`mail="ops@example.com"><alert type="gauge" limit="90%"/></client>`), 1)
	must(t, os.WriteFile(r.config, cfg, 0o600))

	sink := startSMTPSink(t, "cscs", "smtp-secret")
	email := writeEmailConfig(t, map[string]any{"host": "127.0.0.1", "port": sink.port, "security": "none",
		"username": "cscs", "password": "smtp-secret", "from": "CSCS <cscs@example.com>"})
	round := func(value string) []receivedMail {
		t.Helper()
		must(t, os.WriteFile(valueFile, []byte(value), 0o644))
		before := len(alertMails(sink.received()))
		code, out, stderr := runCLI(t, r.args("--email-config", email))
		if code != ExitOK || out.Counts["ok"] != 2 {
			t.Fatalf("value %s: exit %d, counts %v\n%s", value, code, out.Counts, stderr)
		}
		if v := out.Hosts[0].Metrics["gauge.value"]; v == 0 {
			t.Fatalf("value %s: gauge.value missing: %v", value, out.Hosts[0].Metrics)
		}
		return alertMails(sink.received())[before:]
	}
	if got := round("95"); len(got) != 1 || !strings.Contains(got[0].data, "Subject: [CSCS] FIRING") || !strings.Contains(got[0].data, first.IP) {
		t.Fatalf("95%% > 90%%: want one FIRING mail, got %d", len(got))
	}
	if got := round("97"); len(got) != 0 {
		t.Fatalf("still above the limit within the repeat interval: want no mail, got %d", len(got))
	}
	got := round("10")
	if len(got) != 1 || !strings.Contains(got[0].data, "Subject: [CSCS] RESOLVED") || !strings.Contains(got[0].data, "gauge.value") {
		t.Fatalf("10%%: want one RESOLVED mail, got %d", len(got))
	}
	if got := round("12"); len(got) != 0 {
		t.Fatalf("resolved and staying low: want no mail, got %d", len(got))
	}
}
