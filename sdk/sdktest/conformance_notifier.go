package sdktest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/sdk/notifier"
)

// NotifierConformance checks the notifier contract on n: Describe works
// before Configure, names the notifier in lower_snake_case and declares a
// configuration schema that validates (schema.Schema.Validate);
// Configure(config) succeeds; a test notification is sent, then sent again
// with the same ID (a retry), both without error. config must point the
// notifier at a destination that accepts messages (a test server).
func NotifierConformance(t testing.TB, n notifier.Notifier, config []byte) {
	t.Helper()

	d, err := callFor(t, n.Describe)
	checkDescribedFirst(t, "notifier", "Configure", d.Name, d.Config, err)

	if err := call(t, func(ctx context.Context) error { return n.Configure(ctx, config) }); err != nil {
		t.Fatalf("Configure: %v", err)
	}

	msg := ConformanceNotification(time.Now())
	for _, attempt := range []string{"first", "second (a retry with the same ID)"} {
		if err := call(t, func(ctx context.Context) error { return n.Send(ctx, msg) }); err != nil {
			t.Errorf("Send, %s: %v (temporary: %t)", attempt, err, notifier.IsTemporary(err))
		}
	}
}

// ConformanceNotification returns the test notification
// NotifierConformance sends; its ID is unique per creation time.
func ConformanceNotification(created time.Time) notifier.Notification {
	created = created.UTC()
	return notifier.Notification{
		ID:        fmt.Sprintf("sdktest-%d@cscs.invalid", created.UnixNano()),
		Kind:      "test",
		To:        []string{"operator@example.com"},
		Subject:   "CSCS notifier conformance test",
		Body:      "This message was sent by sdktest.NotifierConformance.\nNothing needs to be done.\n",
		Host:      "192.0.2.10",
		CreatedAt: created,
	}
}
