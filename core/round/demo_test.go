package round

import (
	"context"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cscs-dev/cscs/core/demo"
	"github.com/cscs-dev/cscs/core/internal/testagent"
)

// startDemo starts an in-process SSH fleet of hosts with a local mail
// sink, closed when the test ends; -short skips the test.
func startDemo(t testing.TB, hosts int) *demo.Demo {
	t.Helper()
	if testing.Short() {
		t.Skip("runs rounds against an in-process SSH fleet")
	}
	d, err := demo.Start(context.Background(), demo.Options{Dir: t.TempDir(), Hosts: hosts, User: "demo"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	return d
}

// demoPlan loads d's configuration files as they are now and plans
// rounds with them as a server would, without a CPU sampling window;
// adjust, when not nil, changes the environment first.
func demoPlan(t testing.TB, d *demo.Demo, adjust func(*Environment)) *Plan {
	t.Helper()
	var diags strings.Builder
	cfg, err := Load(context.Background(), Files{Inventory: d.Inventory, Email: d.Email}, LoadOptions{Version: "test"}, &diags)
	if err != nil {
		t.Fatalf("Load: %v\n%s", err, diags.String())
	}
	settings := DefaultSettings()
	settings.CPUSample = 0
	env := Environment{Version: "test", DataDir: d.DataDir, AgentDir: testagent.Dir(t), DB: d.DB, InProcessPlugins: true}
	if adjust != nil {
		adjust(&env)
	}
	plan, err := NewPlan(cfg, settings, env)
	if err != nil {
		t.Fatal(err)
	}
	return plan
}

// sinkMail is a mail the demo's sink received, decoded.
type sinkMail struct{ subject, body string }

// sinkMails are the mails the demo's sink received whose subject holds
// part, oldest first.
func sinkMails(t *testing.T, d *demo.Demo, part string) []sinkMail {
	t.Helper()
	var out []sinkMail
	for i, msg := range readSink(t, d.Sink.Dir) {
		subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
		if err != nil {
			t.Fatalf("mail %d: subject: %v", i, err)
		}
		if !strings.Contains(subject, part) {
			continue
		}
		body := io.Reader(msg.Body)
		if strings.EqualFold(msg.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
			body = quotedprintable.NewReader(body)
		}
		text, err := io.ReadAll(body)
		if err != nil {
			t.Fatalf("mail %d: body: %v", i, err)
		}
		out = append(out, sinkMail{subject, strings.ReplaceAll(string(text), "\r\n", "\n")})
	}
	return out
}

// readSink parses the mails a sink stored in dir, oldest first.
func readSink(t *testing.T, dir string) []*mail.Message {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.eml"))
	if err != nil {
		t.Fatal(err)
	}
	var out []*mail.Message
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		msg, err := mail.ReadMessage(strings.NewReader(string(raw)))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out = append(out, msg)
	}
	return out
}
