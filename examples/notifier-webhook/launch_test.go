package main

import (
	"net/http"
	"slices"
	"testing"

	"github.com/cscs-dev/cscs/sdk/notifier"
	sdkplugin "github.com/cscs-dev/cscs/sdk/plugin"
	"github.com/cscs-dev/cscs/sdk/sdktest"
)

// TestLaunchedPlugin builds this main package and starts it the way the
// CSCS core does, then talks to it over the plugin protocol.
func TestLaunchedPlugin(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and launches the plugin binary; skipped with -short")
	}
	t.Parallel()
	plugin := sdktest.Launch(t, sdktest.Build(t, "."))

	if kinds := plugin.Kinds(); !slices.Equal(kinds, []string{sdkplugin.KindNotifier}) {
		t.Fatalf("the binary serves %v, want only a notifier", kinds)
	}
	n := plugin.Notifier()

	t.Run("conformance", func(t *testing.T) {
		base, _ := newWebhook(t, answerWith(http.StatusOK, ""))
		sdktest.NotifierConformance(t, n, configJSON(t, base, ""))
	})

	t.Run("delivers the notification", func(t *testing.T) {
		base, got := newWebhook(t, answerWith(http.StatusOK, ""))
		if err := n.Configure(t.Context(), configJSON(t, base+"/hooks/"+pathSecret+"?token="+querySecret, "5s")); err != nil {
			t.Fatalf("Configure: %v", err)
		}
		note := testNotification()
		if err := n.Send(t.Context(), note); err != nil {
			t.Fatalf("Send: %v", err)
		}
		checkRequest(t, <-got, note)
	})

	t.Run("classifies failures across the process boundary", func(t *testing.T) {
		for code, temporary := range map[int]bool{http.StatusServiceUnavailable: true, http.StatusBadRequest: false} {
			base, _ := newWebhook(t, answerWith(code, ""))
			if err := n.Configure(t.Context(), configJSON(t, base, "5s")); err != nil {
				t.Fatalf("Configure: %v", err)
			}
			err := n.Send(t.Context(), testNotification())
			if err == nil || notifier.IsTemporary(err) != temporary {
				t.Errorf("answer %d: Send = %v (temporary %t), want an error with temporary %t", code, err, notifier.IsTemporary(err), temporary)
			}
		}
	})

	t.Run("refuses a bad configuration", func(t *testing.T) {
		if err := n.Configure(t.Context(), []byte(`{"url":"ftp://x"}`)); err == nil {
			t.Error("Configure accepted an ftp URL")
		}
	})
}
