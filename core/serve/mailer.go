package serve

import (
	"context"
	"time"

	"github.com/cscs-dev/cscs/core/round"
)

// mailer delivers the outbox beside the rounds, in one goroutine: woken
// after each round has queued its notifications, and when a notifier
// that was unavailable is worth trying again. A round never waits for
// it, so a mail server that is down, slow or silent costs the rounds and
// their schedule nothing; the outbox's claims make sure a notification
// goes once even when another process (`cscs run`) delivers at the same
// time.
type mailer struct {
	deliverer *round.Deliverer
	wake      chan struct{}
	done      chan struct{}
}

// startMailer starts the service's mailer; it delivers until ctx ends
// or stop is called, then gives the delivery in progress
// round.StopGrace to finish. stop waits for the mailer to end.
func (s *Service) startMailer(ctx context.Context) (m *mailer, stop func()) {
	m = &mailer{deliverer: s.deliverer, wake: make(chan struct{}, 1), done: make(chan struct{})}
	loopCtx, cancelLoop := context.WithCancel(ctx)
	// A delivery running when the loop ends gets StopGrace, as a round's
	// mail did, before it is cut short; what is not sent waits in the
	// outbox.
	deliverCtx, cancelDeliver := context.WithCancel(context.WithoutCancel(ctx))
	stopGrace := context.AfterFunc(loopCtx, func() {
		t := time.AfterFunc(round.StopGrace, cancelDeliver)
		<-m.done
		t.Stop()
	})
	go func() {
		defer close(m.done)
		m.loop(loopCtx, deliverCtx, s)
	}()
	return m, func() {
		cancelLoop()
		<-m.done
		stopGrace()
		cancelDeliver()
	}
}

// Wake asks for a delivery: at once when none runs, else right after the
// one running. A nil mailer (no delivery beside the rounds) ignores it.
func (m *mailer) Wake() {
	if m == nil {
		return
	}
	select {
	case m.wake <- struct{}{}:
	default: // a delivery is already asked for
	}
}

// loop delivers on each wake and when a held channel's backoff ends,
// until ctx ends; deliveries run under deliverCtx.
func (m *mailer) loop(ctx, deliverCtx context.Context, s *Service) {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-m.wake:
		case <-timer.C:
		}
		rep := &pluginFailures{Reporter: s.reporter()}
		d := m.deliverer.Deliver(deliverCtx, s.currentPlan(), rep)
		s.metrics.plugins.Add(float64(rep.n))
		if !d.OK {
			s.opts.Logger.Warn("mail: a notification failed for good or a notifier could not be started; see the notes above")
		}
		s.metrics.observeDelivery(d)
		timer.Stop()
		if !d.Next.IsZero() {
			timer.Reset(max(time.Until(d.Next), 0))
		}
	}
}

// pluginFailures passes a delivery's reports on and counts the notes
// about failed plugins (a notifier that could not be started).
type pluginFailures struct {
	round.Reporter
	n int
}

func (p *pluginFailures) Note(n round.Note) {
	if n.PluginFailed {
		p.n++
	}
	p.Reporter.Note(n)
}
