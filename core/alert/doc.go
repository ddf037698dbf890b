// Package alert turns the <alert type limit> rules of config.xml into
// compiled Rules, evaluates them against each host's samples round after
// round, and composes the one plain-text mail per client and round that
// tells what started firing, what is still firing and what resolved.
//
// The package is logic only: alert state and recent values are read and
// written through the StateStore interface, which the core's state
// database implements; mails are returned as Message values for the
// outbox to deliver.
//
// A round for one host is:
//
//	tr, err := alert.Evaluate(ctx, now, host, rules, samples, store, repeat)
//	recent, err := alert.Recent(ctx, store, host, tr, alert.RecentCount)
//	if msg, ok := alert.Compose(host, tr, recent, now); ok { /* enqueue msg */ }
//	err = tr.Commit(ctx, store) // after the mail is safely enqueued
//
// Evaluate only reads state; Commit writes it. Committing after the mail
// is in the outbox means a crash in between repeats a mail rather than
// losing one. The core's round does better: it writes every host's
// Updates with the round's mail in one transaction (state.DB.CommitRound).
package alert
