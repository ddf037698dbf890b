package notifier_test

import (
	"context"
	"errors"
	"reflect"
	"sync/atomic"
	"testing"

	"github.com/cscs-dev/cscs/sdk/internal/oldplugin"
	"github.com/cscs-dev/cscs/sdk/notifier"
	notifierv1 "github.com/cscs-dev/cscs/sdk/proto/notifier/v1"
	"github.com/cscs-dev/cscs/sdk/sdktest"
)

// batch returns n notifications with ids b0, b1, ….
func batch(n int) []notifier.Notification {
	out := make([]notifier.Notification, n)
	for i := range out {
		out[i] = fullNotification()
		out[i].ID = "b" + string(rune('0'+i))
	}
	return out
}

// failingAt fails Send of the notification with id failID with err.
type failingAt struct {
	*outbox
	failID string
	err    error
}

func (f *failingAt) Send(ctx context.Context, n notifier.Notification) error {
	if n.ID == f.failID {
		return f.err
	}
	return f.outbox.Send(ctx, n)
}

// ownBatches is an outbox with its own SendBatch, which counts its calls.
type ownBatches struct {
	*outbox
	calls atomic.Int32
}

func (o *ownBatches) SendBatch(ctx context.Context, ns []notifier.Notification) (int, error) {
	o.calls.Add(1)
	for i, n := range ns {
		if err := o.outbox.Send(ctx, n); err != nil {
			return i, err
		}
	}
	return len(ns), nil
}

// TestSendBatchOverTheProtocol: a batch reaches the plugin in its order
// and whole; a failure names how many went before it and keeps whether it
// is temporary or unavailable; a plugin's own SendBatch is used.
func TestSendBatchOverTheProtocol(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		impl            notifier.Notifier
		wantSent        int
		wantTemporary   bool
		wantUnavailable bool
		wantErr         bool
	}{
		"delivered":   {impl: &outbox{}, wantSent: 5},
		"temporary":   {impl: &failingAt{outbox: &outbox{}, failID: "b2", err: notifier.Temporary(errors.New("421 busy"))}, wantSent: 2, wantErr: true, wantTemporary: true},
		"unavailable": {impl: &failingAt{outbox: &outbox{}, failID: "b0", err: notifier.Unavailable(errors.New("refused"))}, wantSent: 0, wantErr: true, wantTemporary: true, wantUnavailable: true},
		"permanent":   {impl: &failingAt{outbox: &outbox{}, failID: "b4", err: errors.New("550 no such user")}, wantSent: 4, wantErr: true},
		"own batches": {impl: &ownBatches{outbox: &outbox{}}, wantSent: 5},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			client := sdktest.Notifier(t, tc.impl).(notifier.BatchSender)
			ns := batch(5)
			sent, err := client.SendBatch(t.Context(), ns)
			if sent != tc.wantSent || (err != nil) != tc.wantErr {
				t.Fatalf("SendBatch = %d, %v; want %d sent, error %t", sent, err, tc.wantSent, tc.wantErr)
			}
			if notifier.IsTemporary(err) != tc.wantTemporary || notifier.IsUnavailable(err) != tc.wantUnavailable {
				t.Errorf("error %v: temporary %t, unavailable %t; want %t, %t", err,
					notifier.IsTemporary(err), notifier.IsUnavailable(err), tc.wantTemporary, tc.wantUnavailable)
			}
			var box *outbox
			switch impl := tc.impl.(type) {
			case *outbox:
				box = impl
			case *failingAt:
				box = impl.outbox
			case *ownBatches:
				box = impl.outbox
				if impl.calls.Load() != 1 {
					t.Errorf("the plugin's own SendBatch ran %d times, want 1", impl.calls.Load())
				}
			}
			got, _ := box.received()
			if !reflect.DeepEqual(got, ns[:tc.wantSent]) && !(len(got) == 0 && tc.wantSent == 0) {
				t.Errorf("plugin received %d notifications %v, want the first %d in order", len(got), ids(got), tc.wantSent)
			}
		})
	}
}

func ids(ns []notifier.Notification) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = n.ID
	}
	return out
}

// oneAtATime serves the notifier service as a plugin built before
// SendBatch: only Send.
type oneAtATime struct {
	notifierv1.UnimplementedNotifierServer
	sends atomic.Int32
}

func (s *oneAtATime) Send(_ context.Context, req *notifierv1.SendRequest) (*notifierv1.SendResponse, error) {
	s.sends.Add(1)
	if req.GetNotification().GetId() == "b3" {
		return &notifierv1.SendResponse{Failure: &notifierv1.Failure{Message: "421 busy", Temporary: true}}, nil
	}
	return &notifierv1.SendResponse{}, nil
}

// TestSendBatchToAnOldPlugin: a plugin without SendBatch answers
// UNIMPLEMENTED; the client sends the batch one Send after another, and
// keeps doing so.
func TestSendBatchToAnOldPlugin(t *testing.T) {
	t.Parallel()
	old := &oneAtATime{}
	conn := oldplugin.Conn(t, notifierv1.Notifier_ServiceDesc, old, "SendBatch")
	c, err := (&notifier.GRPCPlugin{}).GRPCClient(t.Context(), nil, conn)
	if err != nil {
		t.Fatal(err)
	}
	client := c.(notifier.BatchSender)
	for _, want := range []struct {
		sends int32
		sent  int
	}{{sends: 4, sent: 3}, {sends: 8, sent: 3}} {
		sent, err := client.SendBatch(t.Context(), batch(5))
		if sent != want.sent || !notifier.IsTemporary(err) {
			t.Fatalf("SendBatch to an old plugin = %d, %v; want %d sent and b3's temporary failure", sent, err, want.sent)
		}
		if got := old.sends.Load(); got != want.sends {
			t.Errorf("the old plugin got %d Sends, want %d", got, want.sends)
		}
	}
}
