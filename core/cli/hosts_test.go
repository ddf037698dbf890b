package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/cscs-dev/cscs/core/internal/sshdtest"
)

func TestHostsCheck(t *testing.T) {
	r, _ := fleetRound(t, "")
	args := []string{"hosts", "check", "--config", r.config, "--data-dir", r.dataDir, "--handshake-timeout", "2s"}
	code, stdout, stderr := runMain(context.Background(), "test", args...)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	if got := strings.Count(stdout, " ok "); got != 2 || !strings.Contains(stdout, runtime.GOOS+"/"+runtime.GOARCH) {
		t.Errorf("want two ok hosts with their platform:\n%s", stdout)
	}

	// A host where nothing listens: reported, exit 1, the others still checked.
	cfg, err := os.ReadFile(r.config)
	must(t, err)
	ip, port := splitAddr(t, sshdtest.ClosedAddr(t))
	cfg = bytes.Replace(cfg, []byte("</clients>"), []byte(`<client ip="`+ip+`" port="`+strconv.Itoa(port)+`" username="demo" password="pw"/></clients>`), 1)
	must(t, os.WriteFile(r.config, cfg, 0o600))
	code, stdout, _ = runMain(context.Background(), "test", args...)
	if code != ExitSomeFailed {
		t.Fatalf("exit %d, want 1\n%s", code, stdout)
	}
	if !strings.Contains(stdout, "unreachable") || strings.Count(stdout, " ok ") != 2 {
		t.Errorf("want the dead host unreachable and two ok:\n%s", stdout)
	}

	// The overlays' round settings apply, and a flag given still wins. (A
	// host's deadline of 1ms cannot hold its platform probe, which runs
	// three processes on the host.)
	overlay := filepath.Join(r.dir, "tight.hcl")
	must(t, os.WriteFile(overlay, []byte("round {\n  host_timeout = \"1ms\"\n  max_handshakes = 1\n}\n"), 0o600))
	base := []string{"hosts", "check", "--config", r.config, "--data-dir", r.dataDir, "--overlay", overlay}
	if code, stdout, _ := runMain(context.Background(), "test", base...); code != ExitSomeFailed ||
		strings.Count(stdout, " ok ") != 0 || !strings.Contains(stdout, "timeout") {
		t.Errorf("overlay host_timeout of 1ms: exit %d, want every host timed out:\n%s", code, stdout)
	}
	if code, stdout, _ := runMain(context.Background(), "test", append(base, "--host-timeout", "60s")...); code != ExitSomeFailed ||
		strings.Count(stdout, " ok ") != 2 {
		t.Errorf("--host-timeout over the overlay: exit %d, want the two live hosts ok:\n%s", code, stdout)
	}
}
