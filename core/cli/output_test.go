package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/cscs-dev/cscs/sdk/storage"
)

// TestTableShowsErrors: the round table marks a host ok with errors and
// shows its error's first line, as it does for a failed host; a clean
// host shows its hostname.
func TestTableShowsErrors(t *testing.T) {
	var out bytes.Buffer
	writeTable(&out, &storage.Batch{Collections: []storage.Collection{
		{HostIP: "10.0.0.1", HostPort: 22, Status: storage.StatusOK, Hostname: "web-01"},
		{HostIP: "10.0.0.2", HostPort: 22, Status: storage.StatusOK, Hostname: "web-02", Error: "module errors: cpu: exit status 1\nmore"},
		{HostIP: "10.0.0.3", HostPort: 22, Status: storage.StatusUnreachable, Error: "connect: connection refused"},
	}})
	lines := strings.Split(out.String(), "\n")
	for i, want := range []struct{ status, detail string }{
		{"ok", "web-01"}, {"ok, errors", "module errors: cpu: exit status 1"}, {"unreachable", "connect: connection refused"},
	} {
		if f := strings.Fields(lines[i+1]); !strings.Contains(lines[i+1], want.status+"  ") || !strings.HasSuffix(lines[i+1], want.detail) || len(f) < 3 {
			t.Errorf("row %d: %q; want status %q and detail %q", i+1, lines[i+1], want.status, want.detail)
		}
	}
}
