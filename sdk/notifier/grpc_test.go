package notifier_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/sdk/internal/schemafixture"
	"github.com/cscs-dev/cscs/sdk/internal/zerofield"
	"github.com/cscs-dev/cscs/sdk/notifier"
	"github.com/cscs-dev/cscs/sdk/schema"
	"github.com/cscs-dev/cscs/sdk/sdktest"
)

// outbox is a Notifier that keeps what it receives and fails Send with
// sendErr.
type outbox struct {
	mu         sync.Mutex
	config     []byte
	sent       []notifier.Notification
	sendErr    error
	configured error
}

func (o *outbox) Describe(context.Context) (notifier.Description, error) {
	return notifier.Description{Name: "outbox", Version: "0.9.1"}, nil
}

func (o *outbox) Configure(_ context.Context, config []byte) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.config = config
	return o.configured
}

func (o *outbox) Send(_ context.Context, n notifier.Notification) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.sent = append(o.sent, n)
	return o.sendErr
}

func (o *outbox) received() ([]notifier.Notification, []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.sent, o.config
}

func fullNotification() notifier.Notification {
	return notifier.Notification{
		ID:        "n-42@cscs",
		Kind:      "alert",
		To:        []string{"ops@example.com", "oncall@example.com"},
		Subject:   "memory above 50% on web-1",
		Body:      "host web-1 (10.0.0.1)\nmemory.used_percent 71.5 > 50\n\u00e9t\u00e9 ✓\n",
		Host:      "10.0.0.1",
		CreatedAt: time.Date(2026, 7, 8, 9, 10, 11, 987654321, time.UTC),
	}
}

func TestSendRoundTrip(t *testing.T) {
	t.Parallel()
	if zero := zerofield.Find(fullNotification()); len(zero) > 0 {
		t.Fatalf("fullNotification leaves fields zero, set them: %v", zero)
	}
	cases := map[string]notifier.Notification{
		"every field": fullNotification(),
		"zero":        {},
	}
	for name, n := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			box := &outbox{}
			client := sdktest.Notifier(t, box)
			if err := client.Send(t.Context(), n); err != nil {
				t.Fatalf("Send: %v", err)
			}
			sent, _ := box.received()
			if len(sent) != 1 || !reflect.DeepEqual(sent[0], n) {
				t.Errorf("plugin received %+v, want [%+v]", sent, n)
			}
		})
	}
}

func TestSendErrorsKeepTemporariness(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		err             error
		wantText        string
		wantTemporary   bool
		wantUnavailable bool
	}{
		"temporary": {
			err:           notifier.Temporary(errors.New("smtp 421 service not available")),
			wantText:      "smtp 421 service not available",
			wantTemporary: true,
		},
		"temporary wrapped": {
			err:           fmt.Errorf("sending to ops@example.com: %w", notifier.Temporary(errors.New("dial tcp: i/o timeout"))),
			wantText:      "sending to ops@example.com: dial tcp: i/o timeout",
			wantTemporary: true,
		},
		"unavailable": {
			err:             fmt.Errorf("send: %w", notifier.Unavailable(errors.New("dial tcp 127.0.0.1:25: connect: connection refused"))),
			wantText:        "send: dial tcp 127.0.0.1:25: connect: connection refused",
			wantTemporary:   true,
			wantUnavailable: true,
		},
		"permanent": {
			err:      errors.New("smtp 550 mailbox unavailable"),
			wantText: "smtp 550 mailbox unavailable",
		},
		"no message": {
			err:      errors.New(""),
			wantText: "notifier plugin reported a failure without a message",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			client := sdktest.Notifier(t, &outbox{sendErr: tc.err})
			err := client.Send(t.Context(), fullNotification())
			if err == nil {
				t.Fatal("Send succeeded, want an error")
			}
			if err.Error() != tc.wantText {
				t.Errorf("error text = %q, want %q", err.Error(), tc.wantText)
			}
			if got := notifier.IsTemporary(err); got != tc.wantTemporary {
				t.Errorf("IsTemporary = %t, want %t", got, tc.wantTemporary)
			}
			if got := notifier.IsUnavailable(err); got != tc.wantUnavailable {
				t.Errorf("IsUnavailable = %t, want %t", got, tc.wantUnavailable)
			}
		})
	}
}

// described is an outbox that describes itself as desc.
type described struct {
	*outbox
	desc notifier.Description
}

func (d described) Describe(context.Context) (notifier.Description, error) { return d.desc, nil }

func TestDescribeCarriesTheConfigSchema(t *testing.T) {
	t.Parallel()
	schemafixture.TestDescribe(t, func(t *testing.T, s schema.Schema) (any, any, error) {
		want := notifier.Description{Name: "described", Version: "0.0.1", Config: s}
		got, err := sdktest.Notifier(t, described{outbox: &outbox{}, desc: want}).Describe(t.Context())
		return want, got, err
	})
}

func TestDescribeAndConfigure(t *testing.T) {
	t.Parallel()
	box := &outbox{}
	client := sdktest.Notifier(t, box)
	d, err := client.Describe(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if want := (notifier.Description{Name: "outbox", Version: "0.9.1"}); !reflect.DeepEqual(d, want) {
		t.Errorf("Describe = %+v, want %+v", d, want)
	}
	config := []byte(`{"host":"smtp.example.com","port":587}`)
	if err := client.Configure(t.Context(), config); err != nil {
		t.Fatal(err)
	}
	if _, got := box.received(); string(got) != string(config) {
		t.Errorf("plugin received config %q, want %q", got, config)
	}

	failing := sdktest.Notifier(t, &outbox{configured: errors.New("port must be 1-65535, got 0")})
	err = failing.Configure(t.Context(), []byte(`{"port":0}`))
	if err == nil || err.Error() != "port must be 1-65535, got 0" {
		t.Errorf("Configure error = %v, want the plugin's message", err)
	}
	if notifier.IsTemporary(err) {
		t.Error("a Configure error came back temporary")
	}
}

func TestConformanceOverGRPC(t *testing.T) {
	t.Parallel()
	box := &outbox{}
	sdktest.NotifierConformance(t, sdktest.Notifier(t, box), []byte(`{}`))
	sent, _ := box.received()
	if len(sent) != 2 || sent[0].ID != sent[1].ID {
		t.Errorf("plugin received %d notifications, want the same one twice", len(sent))
	}
}
