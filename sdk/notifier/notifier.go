// Package notifier is the contract of a notifier plugin: it delivers one
// notification (an alert mail, an event-log digest) and says whether a
// failure is worth retrying.
//
// This package is part of the public SDK and imports nothing of CSCS.
package notifier

import (
	"context"
	"errors"
	"time"

	"github.com/cscs-dev/cscs/sdk/schema"
)

// Description is what a notifier says about itself.
type Description struct {
	// Name is the notifier's name, lower_snake_case ("smtp").
	Name string
	// Version is the plugin's own version (semver recommended).
	Version string
	// Config declares the keys of the JSON object Configure receives, so
	// that the core can check an operator's configuration block before
	// Configure (see package schema). The zero Schema declares none.
	Config schema.Schema
}

// Notification is one message to deliver.
type Notification struct {
	// ID is unique per notification; a notifier may use it to make
	// delivery idempotent (for example as a Message-ID).
	ID string
	// Kind is "alert", "eventlog" or "test".
	Kind    string
	To      []string
	Subject string
	// Body is plain UTF-8 text.
	Body string
	// Host is the client the notification is about ("" for none).
	Host      string
	CreatedAt time.Time
}

// Notifier delivers notifications.
//
// The core may call Send from several goroutines at once (it delivers a
// channel's notifications in a few parallel lanes, each recipient's in
// order in one lane), so a Notifier must be safe for concurrent Sends;
// serialize inside Send if the service allows only one at a time. A
// Notifier may keep connections open between Sends (and implement
// Closer to end them).
type Notifier interface {
	Describe(ctx context.Context) (Description, error)
	// Configure passes the notifier its configuration (a JSON object,
	// plugin-specific); called once before Send.
	Configure(ctx context.Context, config []byte) error
	// Send delivers n. A failure that may pass (a server down, a timeout)
	// should be wrapped with Temporary; anything else is permanent. A
	// failure to reach the service at all (refused, unreachable, no
	// greeting in time) should be wrapped with Unavailable.
	Send(ctx context.Context, n Notification) error
}

// BatchSender is implemented by a Notifier that sends several
// notifications better in one call than one at a time. SendBatch sends ns
// in their order and stops at the first failure: it returns how many,
// from the first, were delivered, and the failure of ns[sent] (marked as
// for Send). It may stop early without a failure (its deadline near, the
// batch taking long); the caller sends the rest again. A Notifier without
// it gets the same from SendBatch (the function) through Send. The core
// delivers each lane's notifications in batches through the plugin
// protocol's SendBatch, which calls this.
type BatchSender interface {
	SendBatch(ctx context.Context, ns []Notification) (sent int, err error)
}

// batchBudget is how long SendBatch goes on starting Sends of a batch:
// past it, the rest are left for the caller's next call, so that a slow
// service does not hold one call for a whole batch.
const batchBudget = time.Second

// SendBatch sends ns in order through n: with n's own SendBatch when it
// is a BatchSender, else one Send after another. It stops at the first
// failure, returning how many were sent before it and that failure, or
// without one once a second has passed or ctx has ended (the rest unsent,
// for the caller to send again).
func SendBatch(ctx context.Context, n Notifier, ns []Notification) (sent int, err error) {
	if b, ok := n.(BatchSender); ok {
		return b.SendBatch(ctx, ns)
	}
	return sendEach(ctx, n.Send, ns)
}

// sendEach is SendBatch through send, one notification at a time.
func sendEach(ctx context.Context, send func(context.Context, Notification) error, ns []Notification) (int, error) {
	start := time.Now()
	for i, n := range ns {
		if i > 0 && (ctx.Err() != nil || time.Since(start) > batchBudget) {
			return i, nil
		}
		if err := send(ctx, n); err != nil {
			return i, err
		}
	}
	return len(ns), nil
}

// Closer is implemented by a Notifier that holds resources between Sends,
// such as open connections to its service. Close is called once the host
// is done with the notifier: when the host stops the plugin process
// (sdk/plugin.Serve calls it after the last call), or when the core stops
// a notifier it runs in process. It is not part of the protocol; a plugin
// without it simply exits.
type Closer interface {
	Close() error
}

// temporary marks an error as worth retrying.
type temporary struct{ err error }

func (t temporary) Error() string { return t.err.Error() }
func (t temporary) Unwrap() error { return t.err }

// Temporary marks err as a failure that may pass: the core keeps the
// notification in its outbox and retries it later.
func Temporary(err error) error {
	if err == nil {
		return nil
	}
	return temporary{err}
}

// IsTemporary reports whether err was marked Temporary.
func IsTemporary(err error) bool {
	var t temporary
	return errors.As(err, &t)
}

// unavailable marks an error as the notifier's service being down; it
// wraps a temporary.
type unavailable struct{ err error }

func (u unavailable) Error() string { return u.err.Error() }
func (u unavailable) Unwrap() error { return u.err }

// Unavailable marks err as the notifier failing to reach its service at
// all (connection refused, no route, no answer in time while connecting):
// nothing was sent, and the notifications after this one would fail the
// same way. The core tries no more of the channel's notifications in
// this delivery and keeps them, in their order, for a later one. An
// Unavailable failure is also Temporary.
func Unavailable(err error) error {
	if err == nil {
		return nil
	}
	return unavailable{Temporary(err)}
}

// IsUnavailable reports whether err was marked Unavailable.
func IsUnavailable(err error) bool {
	var u unavailable
	return errors.As(err, &u)
}
