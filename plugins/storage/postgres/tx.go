package postgres

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// maxAttempts is how often a transaction that PostgreSQL aborted for a
// serialization failure or a deadlock is tried in all.
const maxAttempts = 5

// SQLSTATE codes of failures that go away when the transaction runs again.
const (
	codeSerializationFailure = "40001"
	codeDeadlockDetected     = "40P01"
)

// inTx runs fn in a transaction and commits it. When PostgreSQL aborts the
// transaction because it collided with another one (serialization failure,
// deadlock), the whole transaction runs again after a short random pause,
// up to maxAttempts times. fn must therefore be safe to run again.
func (s *Store) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := pgx.BeginFunc(ctx, s.pool, fn)
		if err == nil || !retryable(err) || attempt == maxAttempts {
			return err
		}
		pause := time.Duration(attempt)*20*time.Millisecond + rand.N(20*time.Millisecond)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(pause):
		}
	}
}

// retryable reports whether err is a collision with another transaction.
func retryable(err error) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	return pgErr.Code == codeSerializationFailure || pgErr.Code == codeDeadlockDetected
}
