// Package outbox delivers notifications through the core's state database:
// a notification is written there (pending) before anyone tries to send
// it, and it stays until a notifier accepts it or refuses it for good.
//
// Delivery of one notification:
//
//	pending ──claim (committed)──► sending ──► sent
//	   ▲                              │
//	   └── temporary failure: retry ◄─┤
//	       later, with backoff        └──► failed (permanent failure)
//
// A claim carries a random token and a lease, so two Deliver calls — in
// one process or in two — never send the same notification: each claim is
// a conditional update that only one of them wins.
//
// If cscs stops during a send (crash, kill, power loss), the row stays
// "sending" and nobody knows whether the server took the mail. Once the
// claim's lease has run out, the next Deliver puts it back to pending
// and sends it again with the SAME notification ID. The SMTP notifier
// derives the mail's Message-ID from that ID, so the second copy carries
// the Message-ID of the first and mail systems that deduplicate by
// Message-ID show it once. The policy prefers a possible duplicate, marked
// as such, to a silently lost alert; the window for it is the moment
// between the server accepting the mail and the "sent" being committed.
//
// A channel's notifications go out oldest first: the first alone, the
// rest claimed in batches and sent in a few lanes at once, each recipient
// set's in one lane in their order, handed to a notifier.BatchSender
// several at a time (see Deliver). When the notifier says
// it cannot reach its service at all (notifier.Unavailable: connection
// refused, no greeting in time), Deliver makes that one attempt, tries
// nothing more on the channel and keeps every notification in its place,
// so that they go out in their order once the service is back; the
// Report says when trying again is worth it (RetryAt).
package outbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	mathrand "math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/cscs-dev/cscs/core/internal/sleep"
	"github.com/cscs-dev/cscs/core/state"
	"github.com/cscs-dev/cscs/sdk/notifier"
)

// Sender delivers one notification: a notifier plugin, or anything with
// the same Send. A failure that may pass must satisfy
// notifier.IsTemporary; any other failure is permanent. Deliver calls
// Send from several goroutines at once (Options.Workers). A Sender that is
// also a notifier.BatchSender gets each lane's waiting notifications in
// one SendBatch.
type Sender interface {
	Send(ctx context.Context, n notifier.Notification) error
}

// Outbox is the mail outbox over the state database. It is safe for
// concurrent use.
type Outbox struct {
	db *state.DB
}

// New returns the outbox kept in db.
func New(db *state.DB) *Outbox { return &Outbox{db: db} }

// NewID returns a fresh random notification ID ("cscs." and 32 hex
// digits), usable as the left part of a Message-ID.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return "cscs." + hex.EncodeToString(b[:])
}

// Enqueue writes n to the outbox as pending, due now, before any attempt
// to send it. An empty n.ID gets NewID() and a zero n.CreatedAt the
// current time; set the ID yourself to know it (or to make enqueueing
// idempotent: an ID already in the outbox is left as it is). n needs a
// kind ("alert", "eventlog" or "test") and at least one recipient.
func (o *Outbox) Enqueue(ctx context.Context, n notifier.Notification) error {
	return o.EnqueueOn(ctx, state.DefaultChannel, n)
}

// EnqueueOn is Enqueue for the notifier instance channel; only the
// default channel (mail) needs a recipient.
func (o *Outbox) EnqueueOn(ctx context.Context, channel string, n notifier.Notification) error {
	now := time.Now()
	if n.ID == "" {
		n.ID = NewID()
	}
	if n.CreatedAt.IsZero() {
		n.CreatedAt = now
	}
	if _, err := o.db.InsertNotificationOn(ctx, channel, n, now); err != nil {
		return err
	}
	return nil
}

// Defaults for Options.
const (
	DefaultMaxAttemptsNow          = 3
	DefaultRetryDelayNow           = time.Second
	DefaultSendTimeout             = time.Minute
	DefaultMaxConsecutiveTemporary = 3
	DefaultLimit                   = 1000
)

// Backoff schedule between delivery attempts (see Backoff).
const (
	BackoffBase = 30 * time.Second
	BackoffMax  = time.Hour
)

// maxErrorText bounds a stored or reported error text.
const maxErrorText = 2000

// Options tune one Deliver.
type Options struct {
	// MaxAttemptsNow is how many times one delivery attempt sends a
	// notification that fails temporarily before leaving it for a later
	// Deliver (DefaultMaxAttemptsNow when zero; at most 10).
	MaxAttemptsNow int
	// RetryDelayNow is the pause before the second send of an attempt; it
	// doubles before each further one (DefaultRetryDelayNow when zero).
	RetryDelayNow time.Duration
	// SendTimeout bounds each Send (DefaultSendTimeout when zero).
	SendTimeout time.Duration
	// MaxConsecutiveTemporary stops the Deliver when that many
	// notifications in a row still fail temporarily after their attempt:
	// the notifier looks down, and the rest wait for the next Deliver
	// without an attempt counted (DefaultMaxConsecutiveTemporary when
	// zero).
	MaxConsecutiveTemporary int
	// Limit is the most notifications one Deliver takes on
	// (DefaultLimit when zero).
	Limit int
	// Backoff is the wait after the attempts-th failed attempt; nil uses
	// Backoff with a random jitter.
	Backoff func(attempts int) time.Duration
	// Redact rewrites every error text before it is stored or reported,
	// to remove anything secret a notifier might have quoted; nil keeps
	// texts as they are.
	Redact func(string) string
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Workers is how many notifications one Deliver sends at once, each
	// recipient set's in order in one of them (DefaultWorkers when
	// zero; 1 sends one at a time).
	Workers int
	// Channel is the notifier instance whose notifications this Deliver
	// sends ("" is state.DefaultChannel, the SMTP sender of
	// email_config.json).
	Channel string
}

func (o Options) withDefaults() Options {
	if o.MaxAttemptsNow <= 0 {
		o.MaxAttemptsNow = DefaultMaxAttemptsNow
	}
	o.MaxAttemptsNow = min(o.MaxAttemptsNow, 10)
	if o.RetryDelayNow <= 0 {
		o.RetryDelayNow = DefaultRetryDelayNow
	}
	if o.SendTimeout <= 0 {
		o.SendTimeout = DefaultSendTimeout
	}
	if o.MaxConsecutiveTemporary <= 0 {
		o.MaxConsecutiveTemporary = DefaultMaxConsecutiveTemporary
	}
	if o.Limit <= 0 {
		o.Limit = DefaultLimit
	}
	if o.Workers <= 0 {
		o.Workers = DefaultWorkers
	}
	if o.Backoff == nil {
		o.Backoff = func(attempts int) time.Duration { return Backoff(attempts, mathrand.Float64()) }
	}
	if o.Redact == nil {
		o.Redact = func(s string) string { return s }
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Channel == "" {
		o.Channel = state.DefaultChannel
	}
	return o
}

// lease is how long a claim holds: every send of an attempt at its
// timeout, the pauses between them, and a minute to record the outcome.
// Past it, a "sending" notification counts as interrupted.
func (o Options) lease() time.Duration {
	pauses := o.RetryDelayNow * time.Duration(1<<(o.MaxAttemptsNow-1)) // sum of the doubling pauses, rounded up
	return time.Duration(o.MaxAttemptsNow)*o.SendTimeout + pauses + time.Minute
}

// Backoff is the wait after the attempts-th failed delivery attempt
// (attempts ≥ 1): BackoffBase·2^(attempts-1), at most BackoffMax, then
// shortened by up to a quarter by jitter in [0, 1) so that notifications
// failing together do not retry together: about 30s, 1m, 2m, 4m, … 1h.
func Backoff(attempts int, jitter float64) time.Duration {
	d := BackoffMax
	if attempts < 1 {
		attempts = 1
	}
	if exp := attempts - 1; exp < 30 {
		d = min(BackoffBase*time.Duration(1<<exp), BackoffMax)
	}
	jitter = math.Min(math.Max(jitter, 0), 1)
	return d - time.Duration(float64(d)*jitter/4)
}

// Report is what one Deliver did.
type Report struct {
	// Sent were accepted by the notifier.
	Sent int
	// Retrying failed temporarily and wait for a later Deliver.
	Retrying int
	// Failed were refused for good and marked failed.
	Failed int
	// Recovered were found "sending" with an expired lease (cscs stopped
	// during their send) and put back to pending; they are counted again
	// under Sent, Retrying or Failed when this Deliver tried them.
	Recovered int
	// Deferred were due but not tried, because the notifier kept failing
	// temporarily (MaxConsecutiveTemporary), was unavailable, or the
	// context ended.
	Deferred int
	// Unavailable is set when the notifier could not reach its service
	// (notifier.IsUnavailable): the notification tried keeps its place
	// and the rest were deferred. RetryAt is then when trying the channel
	// again is worth it (after Backoff of the attempts so far); until
	// then a caller that delivers repeatedly holds the channel.
	Unavailable bool
	RetryAt     time.Time
	// Tried are the ids of the notifications this Deliver sent or tried,
	// whose outbox rows it changed.
	Tried []string
	// Errors says what failed, one line per notification; no secrets.
	Errors []string
}

// interruptedNote is the last error of a notification released after its
// sender stopped mid-send.
const interruptedNote = "cscs stopped while sending this notification, so whether it was delivered is unknown; " +
	"it is sent again with the same Message-ID, so mail systems can drop a duplicate"

// Deliver sends the due notifications through sender, the longest waiting
// first. Each is claimed (committed as sending) before its send, then
// marked sent, pending again with a backoff (temporary failure, after up
// to MaxAttemptsNow sends), or failed (permanent failure, with the
// notifier's reply). Notifications whose sender stopped mid-send are
// first put back to pending (see the package comment). The error is for
// the state database failing; delivery failures are in the Report.
//
// The first notification goes alone, so that a notifier that cannot reach
// its service costs one attempt. The others are claimed in batches and
// sent in up to Workers lanes at once, each recipient set's (or, without
// recipients, each host's) in one lane in their order, so sender must be
// safe for concurrent Sends; their outcomes are recorded in batches.
func (o *Outbox) Deliver(ctx context.Context, sender Sender, opts Options) (Report, error) {
	opts = opts.withDefaults()
	var rep Report
	start := opts.Now()
	released, err := o.db.ReleaseExpiredClaims(ctx, start, interruptedNote)
	if err != nil {
		return rep, err
	}
	rep.Recovered = len(released)
	ids, err := o.db.DueNotificationsOn(ctx, opts.Channel, start, opts.Limit)
	if err != nil {
		return rep, err
	}
	r := &run{o: o, sender: sender, opts: opts, token: NewID(), rep: &rep}
	// The first alone: a notifier that cannot reach its service (or a
	// context that ended) stops the delivery after one attempt.
	for len(ids) > 0 && !r.stopped(ctx) {
		batch, err := o.db.ClaimNotifications(ctx, ids[:1], r.token, opts.Now(), opts.Now().Add(opts.lease()))
		ids = ids[1:]
		if err != nil {
			return rep, err
		}
		if len(batch) == 0 {
			continue // another Deliver took it, or it is no longer due
		}
		res := r.send(ctx, batch[0])
		if err := r.record(ctx, []result{res}); err != nil {
			return rep, err
		}
		break
	}
	if err := r.parallel(ctx, ids); err != nil {
		return rep, err
	}
	if rep.Deferred > 0 {
		reason := r.reason
		if reason == "" && ctx.Err() != nil {
			reason = "delivery was stopped (" + ctx.Err().Error() + ")"
		}
		if rep.Unavailable {
			for i := len(rep.Errors) - 1; i >= 0; i-- {
				if strings.Contains(rep.Errors[i], "the notifier is unavailable") {
					rep.Errors[i] += fmt.Sprintf("; %d more left for the next delivery, in their order", rep.Deferred)
					break
				}
			}
		} else {
			rep.Errors = append(rep.Errors, fmt.Sprintf("%d notifications left for the next delivery: %s", rep.Deferred, reason))
		}
	}
	return rep, nil
}

// Defaults of the parallel delivery.
const (
	// DefaultWorkers is how many notifications one Deliver sends at once.
	DefaultWorkers = 4
	// claimBatch is how many notifications one claim takes on.
	claimBatch = 64
	// sendBatch is the most notifications a lane hands a
	// notifier.BatchSender in one call: those waiting in the lane when
	// it is free.
	sendBatch = 32
	// batchWindow is how long after its claim a notification may still
	// start its attempt: its lease covers that wait and the attempt.
	// One that waited longer (the notifier is slow) is given back,
	// unsent, and the delivery stops.
	batchWindow = time.Minute
)

// run is one Deliver's shared state.
type run struct {
	o      *Outbox
	sender Sender
	opts   Options
	token  string

	mu  sync.Mutex
	rep *Report
	// stop is set once nothing more should be sent; reason says why
	// (empty for an unavailable notifier, whose line says it).
	stop            bool
	reason          string
	temporaryInARow int
}

// result is one notification's attempt, or unsent when it was not made.
type result struct {
	n       state.Notification
	out     outcome
	line    string
	unsent  bool
	started time.Time
}

// stopped reports whether nothing more should be sent.
func (r *run) stopped(ctx context.Context) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.stop && ctx.Err() != nil {
		r.stop = true
		r.reason = "delivery was stopped (" + ctx.Err().Error() + ")"
	}
	return r.stop
}

// halt stops the delivery for reason, unless it already stopped.
func (r *run) halt(reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.stop {
		r.stop = true
		r.reason = reason
	}
}

// send makes n's attempt and updates the counters that may stop the
// delivery.
func (r *run) send(ctx context.Context, n state.Notification) result {
	return r.finish(ctx, n, nil)
}

// finish makes n's attempt after first, the outcome of a send already
// made in a batch (nil when none was), and updates the counters that may
// stop the delivery.
func (r *run) finish(ctx context.Context, n state.Notification, first *tried) result {
	out, line := r.o.attempt(ctx, r.sender, n, r.opts, first)
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case out.unavailable:
		if !r.stop {
			r.stop = true
			r.reason = ""
		}
	case out.Status == state.StatusPending:
		r.temporaryInARow++
		if r.temporaryInARow >= r.opts.MaxConsecutiveTemporary && !r.stop {
			r.stop = true
			r.reason = fmt.Sprintf("the notifier failed temporarily for %d notifications in a row", r.temporaryInARow)
		}
	default:
		r.temporaryInARow = 0
	}
	return result{n: n, out: out, line: line}
}

// record writes results to the outbox in one transaction and to the
// report: outcomes of attempts, claims of unsent ones given back. It
// records even when ctx has ended meanwhile, so that an interrupted
// Deliver does not leave a finished send looking interrupted.
func (r *run) record(ctx context.Context, results []result) error {
	var (
		done   []state.Finished
		unsent []string
	)
	for _, res := range results {
		if res.unsent {
			unsent = append(unsent, res.n.ID)
			continue
		}
		done = append(done, state.Finished{ID: res.n.ID, Outcome: res.out.Outcome})
	}
	recordCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	var err error
	if len(done) > 0 {
		err = r.o.db.FinishNotifications(recordCtx, r.token, done)
		if err != nil {
			err = fmt.Errorf("notifications may have been delivered, but recording that failed (they may be sent again, with the same Message-ID): %w", err)
		}
	}
	if len(unsent) > 0 {
		err = errors.Join(err, r.o.db.ReleaseClaims(recordCtx, unsent, r.token))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	rep := r.rep
	for _, res := range results {
		if res.unsent {
			rep.Deferred++
			continue
		}
		rep.Tried = append(rep.Tried, res.n.ID)
		switch {
		case res.out.unavailable:
			rep.Retrying++
			rep.Unavailable = true
			if rep.RetryAt.IsZero() || res.out.retryAt.Before(rep.RetryAt) {
				rep.RetryAt = res.out.retryAt
			}
		case res.out.Status == state.StatusSent:
			rep.Sent++
		case res.out.Status == state.StatusPending:
			rep.Retrying++
		default:
			rep.Failed++
		}
		if res.line != "" {
			rep.Errors = append(rep.Errors, res.line)
		}
	}
	return err
}

// parallel delivers ids: claimed in batches, sent in lanes by recipient
// set, outcomes recorded in batches as they come.
func (r *run) parallel(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	workers := min(r.opts.Workers, len(ids))
	lanes := make([]chan result, workers)
	results := make(chan result, claimBatch)
	var wg sync.WaitGroup
	for i := range lanes {
		lanes[i] = make(chan result, claimBatch)
		wg.Add(1)
		go func(lane <-chan result) {
			defer wg.Done()
			var waiting []result
			for res := range lane {
				waiting = takeWaiting(lane, append(waiting[:0], res), sendBatch)
				r.sendLane(ctx, waiting, results)
			}
		}(lanes[i])
	}
	recorded := make(chan error, 1)
	go func() {
		var errs []error
		for res := range results {
			if err := r.record(ctx, takeWaiting(results, []result{res}, claimBatch)); err != nil {
				errs = append(errs, err)
				r.halt("the outbox could not record outcomes")
			}
		}
		recorded <- errors.Join(errs...)
	}()
	var claimErr error
	for len(ids) > 0 {
		if r.stopped(ctx) {
			r.mu.Lock()
			r.rep.Deferred += len(ids)
			r.mu.Unlock()
			break
		}
		take := ids[:min(claimBatch, len(ids))]
		ids = ids[len(take):]
		now := r.opts.Now()
		batch, err := r.o.db.ClaimNotifications(ctx, take, r.token, now, now.Add(r.opts.lease()+batchWindow))
		if err != nil {
			claimErr = err
			r.halt("the outbox could not claim notifications")
			break
		}
		for _, n := range batch {
			lanes[laneOf(n, workers)] <- result{n: n, started: now}
		}
	}
	for _, lane := range lanes {
		close(lane)
	}
	wg.Wait()
	close(results)
	return errors.Join(claimErr, <-recorded)
}

// takeWaiting appends to got what waits in ch now, without waiting, until
// got holds limit.
func takeWaiting[T any](ch <-chan T, got []T, limit int) []T {
	for len(got) < limit {
		select {
		case v, ok := <-ch:
			if !ok {
				return got
			}
			got = append(got, v)
		default:
			return got
		}
	}
	return got
}

// sendLane sends a lane's waiting notifications in their order, in
// batches when the sender is a notifier.BatchSender, and passes each
// one's result on.
func (r *run) sendLane(ctx context.Context, waiting []result, results chan<- result) {
	batcher, _ := r.sender.(notifier.BatchSender)
	for len(waiting) > 0 {
		res := waiting[0]
		if r.stopped(ctx) {
			res.unsent = true
		} else if r.opts.Now().Sub(res.started) > batchWindow {
			r.halt(fmt.Sprintf("the notifier is slow: notifications waited more than %s for their turn", batchWindow))
			res.unsent = true
		}
		if res.unsent || batcher == nil || len(waiting) == 1 {
			if !res.unsent {
				res = r.send(ctx, res.n)
			}
			results <- res
			waiting = waiting[1:]
			continue
		}
		ns := make([]notifier.Notification, len(waiting))
		for i, w := range waiting {
			ns[i] = w.n.Notification
		}
		sendCtx, cancel := context.WithTimeout(ctx, r.opts.SendTimeout)
		sent, err := batcher.SendBatch(sendCtx, ns)
		cancel()
		sent = max(0, min(sent, len(waiting)))
		for _, w := range waiting[:sent] {
			results <- r.finish(ctx, w.n, &tried{})
		}
		waiting = waiting[sent:]
		switch {
		case err != nil && len(waiting) > 0:
			// The failure is that of the first not sent: its attempt
			// goes on alone (retries, unavailable), the rest after it.
			results <- r.finish(ctx, waiting[0].n, &tried{err: err})
			waiting = waiting[1:]
		case sent == 0 && len(waiting) > 0:
			// Nothing sent and no failure: one alone, so that the lane
			// moves on.
			results <- r.send(ctx, waiting[0].n)
			waiting = waiting[1:]
		}
	}
}

// laneOf is the lane of n among lanes: the same for every notification to
// the same recipients (or, without recipients, about the same host), so
// that theirs go out in order.
func laneOf(n state.Notification, lanes int) int {
	key := n.Host
	if len(n.To) > 0 {
		to := slices.Clone(n.To)
		for i := range to {
			to[i] = strings.ToLower(strings.TrimSpace(to[i]))
		}
		slices.Sort(to)
		key = strings.Join(to, "\n")
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(key))
	return int(h.Sum32() % uint32(lanes))
}

// outcome is how an attempt ended: what to record, and whether the
// notifier was unavailable (then retryAt is when to try the channel
// again).
type outcome struct {
	state.Outcome
	unavailable bool
	retryAt     time.Time
}

// tried is the outcome of a send made in a batch: err is nil when the
// notification was delivered.
type tried struct{ err error }

// attempt sends n up to opts.MaxAttemptsNow times while it fails
// temporarily (once when the notifier is unavailable), and returns the
// outcome to record and, for a failure, a line for the report. first,
// when not nil, is the attempt's first send, made in a batch.
func (o *Outbox) attempt(ctx context.Context, sender Sender, n state.Notification, opts Options, first *tried) (outcome, string) {
	var err error
	tries := 0
	if first != nil {
		err, tries = first.err, 1
	}
	for {
		if tries > 0 {
			if err == nil || !notifier.IsTemporary(err) || notifier.IsUnavailable(err) || tries >= opts.MaxAttemptsNow {
				break
			}
			if !sleep.For(ctx, opts.RetryDelayNow<<(tries-1)) {
				break
			}
		}
		tries++
		sendCtx, cancel := context.WithTimeout(ctx, opts.SendTimeout)
		err = sender.Send(sendCtx, n.Notification)
		cancel()
	}
	now := opts.Now()
	if err == nil {
		return outcome{Outcome: state.Outcome{Status: state.StatusSent, Tries: 1, At: now}}, ""
	}
	text := errorText(err, opts.Redact)
	what := fmt.Sprintf("%s notification %s to %s", n.Kind, n.ID, strings.Join(n.To, ", "))
	attempts := n.Attempts + 1
	if notifier.IsUnavailable(err) {
		// It keeps its next_attempt_at, and so its place before the
		// channel's later notifications.
		next := now.Add(opts.Backoff(attempts))
		return outcome{Outcome: state.Outcome{Status: state.StatusPending, Tries: 1, At: now, NextAttemptAt: n.NextAttemptAt, LastError: text},
				unavailable: true, retryAt: next},
			fmt.Sprintf("%s: %s (the notifier is unavailable; attempt %d, kept in its place, worth trying again after %s)",
				what, text, attempts, next.Format(time.RFC3339))
	}
	if notifier.IsTemporary(err) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		next := now.Add(opts.Backoff(attempts))
		return outcome{Outcome: state.Outcome{Status: state.StatusPending, Tries: 1, At: now, NextAttemptAt: next, LastError: text}},
			fmt.Sprintf("%s: %s (temporary failure, %s; attempt %d, next after %s)",
				what, text, plural(tries, "send"), attempts, next.Format(time.RFC3339))
	}
	return outcome{Outcome: state.Outcome{Status: state.StatusFailed, Tries: 1, At: now, LastError: text, ServerReply: text}},
		fmt.Sprintf("%s: %s (permanent failure; marked failed, not retried)", what, text)
}

// errorText is err's text, redacted, on one line and bounded.
func errorText(err error, redact func(string) string) string {
	s := redact(err.Error())
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > maxErrorText {
		cut := maxErrorText
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	if s == "" {
		s = "the notifier failed without saying why"
	}
	return s
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
