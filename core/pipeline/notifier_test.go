package pipeline

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/core/demo/mailsink"
	"github.com/cscs-dev/cscs/sdk/notifier"
)

// TestNotifierBesideTheSources: with Options.Notifier naming a built-in,
// the process of the built-in sources (and the --db storage) serves it
// too, so a round starts one plugin process for sources, storage and its
// mail; the mail reaches a real SMTP server through it. Another notifier
// name, or that process gone, still gets a notifier of its own.
func TestNotifierBesideTheSources(t *testing.T) {
	if testing.Short() {
		t.Skip("starts plugins")
	}
	sink, err := mailsink.Start("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	cfg := []byte(fmt.Sprintf(`{"host": "127.0.0.1", "port": %d, "security": "none", "from": "cscs@localhost"}`, sink.Port))
	send := func(t *testing.T, n notifier.Notifier, id string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		defer cancel()
		before := sink.Count()
		if err := n.Send(ctx, notifier.Notification{ID: id, Kind: "test", To: []string{"ops@localhost"}, Subject: "beside " + id, Body: "test"}); err != nil {
			t.Fatalf("send %s: %v", id, err)
		}
		if got := sink.Count(); got != before+1 {
			t.Fatalf("send %s: the mail server holds %d mails, want %d", id, got, before+1)
		}
	}

	ctx := t.Context()
	opts := Options{Version: "test", DB: filepath.Join(t.TempDir(), "cscs.db"), Notifier: "smtp"}
	pipe, err := Assemble(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer pipe.Close(ctx)
	if len(pipe.running) != 1 {
		t.Fatalf("%d plugin processes for the sources, the storage and the notifier, want 1", len(pipe.running))
	}
	n, stop, err := pipe.StartNotifier(ctx, opts, "smtp", cfg)
	if err != nil {
		t.Fatal(err)
	}
	stop()
	if n != pipe.notifier {
		t.Fatalf("StartNotifier(smtp) = %T, not the notifier the sources' process serves", n)
	}
	send(t, n, "served-beside")
	if err := n.Configure(ctx, []byte(`{"port": "nope"}`)); err == nil || !strings.Contains(err.Error(), "notifier plugin smtp") {
		t.Errorf("a refused configuration: %v; want an error naming notifier plugin smtp", err)
	}
	if _, _, err := pipe.StartNotifier(ctx, opts, "smtp", []byte(`{"port": "nope"}`)); !errors.Is(err, ErrSettingsRefused) {
		t.Errorf("StartNotifier with bad settings: %v; want ErrSettingsRefused", err)
	}

	// The process gone (a crash, a kill after a hung call): the notifier
	// gets a process of its own and the mail still goes out.
	pipe.running[0].Kill()
	own, stopOwn, err := pipe.StartNotifier(ctx, opts, "smtp", cfg)
	if err != nil {
		t.Fatalf("StartNotifier after the sources' process stopped: %v", err)
	}
	defer stopOwn()
	if own == pipe.notifier {
		t.Fatal("StartNotifier after the sources' process stopped gave that process's notifier")
	}
	send(t, own, "own-process")

	// Without Options.Notifier nothing is served beside.
	plain, err := Assemble(ctx, Options{Version: "test", DB: opts.DB, SourcesOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close(ctx)
	if plain.notifier != nil {
		t.Errorf("a pipeline without Options.Notifier serves notifier %q", plain.notifierName)
	}
}
