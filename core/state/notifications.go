package state

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cscs-dev/cscs/sdk/notifier"
)

// Statuses of a notification in the outbox.
const (
	// StatusPending waits for its next_attempt_at.
	StatusPending = "pending"
	// StatusSending is claimed by a sender, which holds it until its lease
	// ends.
	StatusSending = "sending"
	// StatusSent was accepted by the notifier.
	StatusSent = "sent"
	// StatusFailed was refused for good (a permanent failure).
	StatusFailed = "failed"
)

// Kinds of notification.
var kinds = []string{"alert", "eventlog", "test"}

// ErrNotFound: no notification has that id.
var ErrNotFound = errors.New("no such notification")

// ErrClaimLost: the notification is no longer claimed with that token
// (its lease ended and another sender took it over).
var ErrClaimLost = errors.New("the notification is no longer claimed by this sender")

// Notification is one row of the outbox.
type Notification struct {
	notifier.Notification
	// Channel is the notifier instance that delivers it (DefaultChannel:
	// the SMTP sender of email_config.json).
	Channel       string
	Status        string
	Attempts      int
	NextAttemptAt time.Time
	LastError     string
	SentAt        time.Time
	ServerReply   string
}

// Outcome is how the delivery of a claimed notification ended.
type Outcome struct {
	// Status is StatusSent, StatusPending (retry at NextAttemptAt) or
	// StatusFailed.
	Status string
	// Tries is the number of sends made under the claim; added to Attempts.
	Tries int
	// At is when the outcome was reached; the sent time for StatusSent.
	At time.Time
	// NextAttemptAt is when a pending notification is due again.
	NextAttemptAt time.Time
	// LastError is the last failure's text (pending and failed).
	LastError string
	// ServerReply is the final answer of the notifier, when known.
	ServerReply string
}

// InsertNotification adds n to the outbox as pending, due at dueAt. n
// needs an ID, a kind ("alert", "eventlog" or "test") and a recipient;
// CreatedAt defaults to dueAt. Host "ip:port" or "ip" fills host_ip and
// host_port. Inserting an ID that is already in the outbox changes
// nothing and returns false.
func (d *DB) InsertNotification(ctx context.Context, n notifier.Notification, dueAt time.Time) (bool, error) {
	return d.InsertNotificationOn(ctx, DefaultChannel, n, dueAt)
}

// DefaultChannel is the channel of the SMTP sender of email_config.json.
const DefaultChannel = "email"

// InsertNotificationOn is InsertNotification for the notifier instance
// channel. Only the default channel (mail) needs a recipient.
func (d *DB) InsertNotificationOn(ctx context.Context, channel string, n notifier.Notification, dueAt time.Time) (bool, error) {
	return insertNotification(ctx, d.db, channel, n, dueAt)
}

// insertNotification is InsertNotificationOn through ex.
func insertNotification(ctx context.Context, ex execer, channel string, n notifier.Notification, dueAt time.Time) (bool, error) {
	if channel == "" {
		channel = DefaultChannel
	}
	if err := checkNotification(n, channel == DefaultChannel); err != nil {
		return false, fmt.Errorf("add notification to the outbox: %w", err)
	}
	if dueAt.IsZero() {
		return false, fmt.Errorf("add notification %s to the outbox: no due time given", n.ID)
	}
	created := n.CreatedAt
	if created.IsZero() {
		created = dueAt
	}
	to, err := json.Marshal(n.To)
	if err != nil {
		return false, fmt.Errorf("add notification %s to the outbox: recipients: %w", n.ID, err)
	}
	hostIP, hostPort := splitHost(n.Host)
	res, err := ex.ExecContext(ctx,
		`INSERT INTO notifications (id, kind, host_ip, host_port, recipients, subject, body, status, next_attempt_at, created_at, channel)
		 VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)
		 ON CONFLICT (id) DO NOTHING`,
		n.ID, n.Kind, hostIP, hostPort, string(to), n.Subject, n.Body, formatTime(dueAt), formatTime(created), channel)
	if err != nil {
		return false, fmt.Errorf("add notification %s to the outbox: %w", n.ID, err)
	}
	added, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("add notification %s to the outbox: %w", n.ID, err)
	}
	return added == 1, nil
}

func checkNotification(n notifier.Notification, needRecipient bool) error {
	if n.ID == "" {
		return errors.New("the notification has no id")
	}
	if !slices.Contains(kinds, n.Kind) {
		return fmt.Errorf("notification %s: kind %q is not one of %s", n.ID, n.Kind, strings.Join(kinds, ", "))
	}
	if len(n.To) == 0 && needRecipient {
		return fmt.Errorf("notification %s has no recipient", n.ID)
	}
	for _, to := range n.To {
		if strings.TrimSpace(to) == "" {
			return fmt.Errorf("notification %s has an empty recipient", n.ID)
		}
	}
	return nil
}

// DueNotifications returns the ids of up to limit pending notifications
// due at now, on every channel, oldest first: by creation, then in the
// order they were queued (a notification put back after a failure keeps
// its place).
func (d *DB) DueNotifications(ctx context.Context, now time.Time, limit int) ([]string, error) {
	return d.DueNotificationsOn(ctx, "", now, limit)
}

// DueNotificationsOn is DueNotifications for one channel ("" for all).
func (d *DB) DueNotificationsOn(ctx context.Context, channel string, now time.Time, limit int) ([]string, error) {
	if limit <= 0 {
		return nil, nil
	}
	ids, err := queryStrings(ctx, d.db,
		`SELECT id FROM notifications WHERE status = 'pending' AND next_attempt_at <= ? AND (? = '' OR channel = ?)
		 ORDER BY created_at, rowid LIMIT ?`, formatTime(now), channel, channel, limit)
	if err != nil {
		return nil, fmt.Errorf("list due notifications: %w", err)
	}
	return ids, nil
}

// ClaimNotification marks notification id sending under token until
// leaseUntil, if it is pending and due at now, and returns it; false when
// it is not (another sender claimed it first, or it is no longer due).
// The claim is committed before it returns, so it survives a crash.
func (d *DB) ClaimNotification(ctx context.Context, id, token string, now, leaseUntil time.Time) (Notification, bool, error) {
	if token == "" {
		return Notification{}, false, fmt.Errorf("claim notification %s: no claim token given", id)
	}
	var (
		n       Notification
		claimed bool
	)
	err := d.inTx(ctx, func(tx *txn) error {
		res, err := tx.ExecContext(ctx,
			`UPDATE notifications SET status = 'sending', claim_token = ?, lease_until = ?
			 WHERE id = ? AND status = 'pending' AND next_attempt_at <= ?`,
			token, formatTime(leaseUntil), id, formatTime(now))
		if err != nil {
			return err
		}
		if c, err := res.RowsAffected(); err != nil || c == 0 {
			return err
		}
		claimed = true
		n, err = scanNotification(tx.QueryRowContext(ctx, selectNotification+` WHERE id = ?`, id))
		return err
	})
	if err != nil {
		return Notification{}, false, fmt.Errorf("claim notification %s: %w", id, err)
	}
	return n, claimed, nil
}

// FinishNotification records the outcome of a notification claimed with
// token. ErrClaimLost when the claim no longer holds.
func (d *DB) FinishNotification(ctx context.Context, id, token string, o Outcome) error {
	query, args, err := finishQuery(id, token, o)
	if err != nil {
		return err
	}
	res, err := d.db.ExecContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("record the outcome of notification %s: %w", id, err)
	}
	return finished(id, res)
}

// Finished is the outcome of one claimed notification, for
// FinishNotifications.
type Finished struct {
	ID      string
	Outcome Outcome
}

// FinishNotifications records the outcomes of notifications claimed with
// token in one transaction, in the order of their ids (several outcomes
// of one id in the order given). A notification whose claim no
// longer holds is skipped and named in the error (wrapping ErrClaimLost);
// the others are recorded.
func (d *DB) FinishNotifications(ctx context.Context, token string, outcomes []Finished) error {
	var lost []error
	err := d.inTx(ctx, func(tx *txn) error {
		lost = nil
		// One statement per kind of outcome, prepared once.
		prepared := map[string]*sql.Stmt{}
		defer func() {
			for _, st := range prepared {
				_ = st.Close()
			}
		}()
		for _, f := range lockOrderFinished(outcomes) {
			query, args, err := finishQuery(f.ID, token, f.Outcome)
			if err != nil {
				return err
			}
			st, ok := prepared[query]
			if !ok {
				if st, err = tx.PrepareContext(ctx, query); err != nil {
					return err
				}
				prepared[query] = st
			}
			res, err := st.ExecContext(ctx, args...)
			if err != nil {
				return fmt.Errorf("record the outcome of notification %s: %w", f.ID, err)
			}
			if err := finished(f.ID, res); err != nil {
				if !errors.Is(err, ErrClaimLost) {
					return err
				}
				lost = append(lost, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record the outcomes of %d notifications: %w", len(outcomes), err)
	}
	return errors.Join(lost...)
}

// finishQuery is the update recording o for notification id claimed with
// token.
func finishQuery(id, token string, o Outcome) (string, []any, error) {
	const where = ` WHERE id = ? AND status = 'sending' AND claim_token = ?`
	switch o.Status {
	case StatusSent:
		return `UPDATE notifications SET status = 'sent', attempts = attempts + ?, sent_at = ?, server_reply = ?,
			   claim_token = '', lease_until = NULL` + where,
			[]any{o.Tries, formatTime(o.At), o.ServerReply, id, token}, nil
	case StatusPending:
		return `UPDATE notifications SET status = 'pending', attempts = attempts + ?, next_attempt_at = ?, last_error = ?,
			   claim_token = '', lease_until = NULL` + where,
			[]any{o.Tries, formatTime(o.NextAttemptAt), o.LastError, id, token}, nil
	case StatusFailed:
		return `UPDATE notifications SET status = 'failed', attempts = attempts + ?, last_error = ?, server_reply = ?,
			   claim_token = '', lease_until = NULL` + where,
			[]any{o.Tries, o.LastError, o.ServerReply, id, token}, nil
	}
	return "", nil, fmt.Errorf("finish notification %s: status %q is not sent, pending or failed", id, o.Status)
}

// finished checks that the update recording notification id's outcome
// changed its row.
func finished(id string, res sql.Result) error {
	if c, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("record the outcome of notification %s: %w", id, err)
	} else if c == 0 {
		return fmt.Errorf("record the outcome of notification %s: %w", id, ErrClaimLost)
	}
	return nil
}

// ClaimNotifications is ClaimNotification for several notifications in
// one transaction: it claims those of ids that are pending and due at
// now, under token until leaseUntil, and returns them in the order of
// ids. The claims are committed before it returns.
func (d *DB) ClaimNotifications(ctx context.Context, ids []string, token string, now, leaseUntil time.Time) ([]Notification, error) {
	if token == "" {
		return nil, fmt.Errorf("claim %d notifications: no claim token given", len(ids))
	}
	var claimed map[string]Notification
	err := d.inTx(ctx, func(tx *txn) error {
		claimed = make(map[string]Notification, len(ids))
		claim, err := tx.PrepareContext(ctx, `UPDATE notifications SET status = 'sending', claim_token = ?, lease_until = ?
			WHERE id = ? AND status = 'pending' AND next_attempt_at <= ? RETURNING `+notificationColumns)
		if err != nil {
			return err
		}
		defer claim.Close()
		for _, id := range lockOrder(ids) {
			n, err := scanNotification(claim.QueryRowContext(ctx, token, formatTime(leaseUntil), id, formatTime(now)))
			if errors.Is(err, sql.ErrNoRows) {
				continue // another sender claimed it first, or it is no longer due
			}
			if err != nil {
				return err
			}
			claimed[id] = n
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim %d notifications: %w", len(ids), err)
	}
	var out []Notification
	for _, id := range ids {
		if n, ok := claimed[id]; ok {
			out = append(out, n)
			delete(claimed, id) // an id given twice is claimed once
		}
	}
	return out, nil
}

// ReleaseClaims puts notifications claimed with token that were not sent
// after all back to pending, as they were before the claim: no attempt is
// counted and they keep their due time and place.
func (d *DB) ReleaseClaims(ctx context.Context, ids []string, token string) error {
	err := d.inTx(ctx, func(tx *txn) error {
		for _, id := range lockOrder(ids) {
			if _, err := tx.ExecContext(ctx,
				`UPDATE notifications SET status = 'pending', claim_token = '', lease_until = NULL
				 WHERE id = ? AND status = 'sending' AND claim_token = ?`, id, token); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("give back %d claimed notifications: %w", len(ids), err)
	}
	return nil
}

// ReleaseExpiredClaims puts every notification whose sending lease ended
// before now back to pending, due at now, counting the interrupted send
// as an attempt and recording note as its last error. It returns their
// ids. Such a notification was claimed by a sender that stopped (the core
// crashed or was killed) without recording whether the send went through.
func (d *DB) ReleaseExpiredClaims(ctx context.Context, now time.Time, note string) ([]string, error) {
	var ids []string
	err := d.inTx(ctx, func(tx *txn) error {
		var err error
		ids, err = queryStrings(ctx, tx,
			`SELECT id FROM notifications WHERE status = 'sending' AND (lease_until IS NULL OR lease_until < ?) ORDER BY id`,
			formatTime(now))
		if err != nil {
			return err
		}
		// Each update checks again that the claim is still expired: on
		// PostgreSQL another core may have released (and a third claimed)
		// the row since the select.
		released := ids[:0]
		for _, id := range ids {
			res, err := tx.ExecContext(ctx,
				`UPDATE notifications SET status = 'pending', attempts = attempts + 1, next_attempt_at = ?, last_error = ?,
				   claim_token = '', lease_until = NULL
				 WHERE id = ? AND status = 'sending' AND (lease_until IS NULL OR lease_until < ?)`,
				formatTime(now), note, id, formatTime(now))
			if err != nil {
				return err
			}
			if c, err := res.RowsAffected(); err != nil {
				return err
			} else if c == 1 {
				released = append(released, id)
			}
		}
		ids = released
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("release interrupted notifications: %w", err)
	}
	return ids, nil
}

// Notification returns the outbox row of id; ErrNotFound when there is none.
func (d *DB) Notification(ctx context.Context, id string) (Notification, error) {
	n, err := scanNotification(d.db.QueryRowContext(ctx, selectNotification+` WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Notification{}, fmt.Errorf("notification %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Notification{}, fmt.Errorf("read notification %s: %w", id, err)
	}
	return n, nil
}

// idsPerStatement bounds the ids one statement of Notifications names.
const idsPerStatement = 400

// Notifications returns the outbox rows of ids, in the order of ids; an
// id given twice comes once, one without a row not at all.
func (d *DB) Notifications(ctx context.Context, ids []string) ([]Notification, error) {
	uniq := slices.Compact(slices.Sorted(slices.Values(ids)))
	found := make(map[string]Notification, len(uniq))
	for part := range slices.Chunk(uniq, idsPerStatement) {
		args := make([]any, len(part))
		for i, id := range part {
			args[i] = id
		}
		err := eachRow(ctx, d.db, func(rows *sql.Rows) error {
			n, err := scanNotification(rows)
			found[n.ID] = n
			return err
		}, selectNotification+` WHERE id IN (?`+strings.Repeat(", ?", len(part)-1)+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("read %d notifications: %w", len(uniq), err)
		}
	}
	out := make([]Notification, 0, len(found))
	for _, id := range ids {
		if n, ok := found[id]; ok {
			out = append(out, n)
			delete(found, id)
		}
	}
	return out, nil
}

// NotificationCounts returns how many notifications are in each status.
func (d *DB) NotificationCounts(ctx context.Context) (map[string]int, error) {
	out := map[string]int{}
	err := eachRow(ctx, d.db, func(rows *sql.Rows) error {
		var (
			status string
			n      int
		)
		if err := rows.Scan(&status, &n); err != nil {
			return err
		}
		out[status] = n
		return nil
	}, `SELECT status, COUNT(*) FROM notifications GROUP BY status`)
	if err != nil {
		return nil, fmt.Errorf("count notifications: %w", err)
	}
	return out, nil
}

const (
	notificationColumns = `id, kind, host_ip, host_port, recipients, subject, body, created_at,
	status, attempts, next_attempt_at, last_error, sent_at, server_reply, channel`
	selectNotification = `SELECT ` + notificationColumns + ` FROM notifications`
)

// rowScanner is a *sql.Row or *sql.Rows.
type rowScanner interface{ Scan(dest ...any) error }

func scanNotification(row rowScanner) (Notification, error) {
	var (
		n                   Notification
		hostIP, recipients  string
		hostPort            int
		created, next, sent sql.NullString
	)
	if err := row.Scan(&n.ID, &n.Kind, &hostIP, &hostPort, &recipients, &n.Subject, &n.Body, &created,
		&n.Status, &n.Attempts, &next, &n.LastError, &sent, &n.ServerReply, &n.Channel); err != nil {
		return Notification{}, err
	}
	if err := json.Unmarshal([]byte(recipients), &n.To); err != nil {
		return Notification{}, fmt.Errorf("stored recipients: %w", err)
	}
	n.Host = hostLabel(hostIP, hostPort)
	var err error
	if n.CreatedAt, err = parseTime(created); err != nil {
		return Notification{}, err
	}
	if n.NextAttemptAt, err = parseTime(next); err != nil {
		return Notification{}, err
	}
	if n.SentAt, err = parseTime(sent); err != nil {
		return Notification{}, err
	}
	return n, nil
}

// splitHost reads a notification's Host: "ip:port" (or "[v6]:port") into
// both parts, anything else into the IP with port 0.
func splitHost(host string) (string, int) {
	if h, p, err := net.SplitHostPort(host); err == nil {
		if port, err := strconv.Atoi(p); err == nil && port > 0 && port <= 65535 {
			return h, port
		}
	}
	return host, 0
}

// hostLabel joins a host's IP and port as messages and notifications
// show them: "10.0.0.1:22", or the IP alone for port 0.
func hostLabel(hostIP string, hostPort int) string {
	if hostPort == 0 {
		return hostIP
	}
	return net.JoinHostPort(hostIP, strconv.Itoa(hostPort))
}

// WaitingChannels returns the channels that have notifications pending or
// being sent, sorted.
func (d *DB) WaitingChannels(ctx context.Context) ([]string, error) {
	out, err := queryStrings(ctx, d.db,
		`SELECT DISTINCT channel FROM notifications WHERE status IN ('pending', 'sending') ORDER BY channel`)
	if err != nil {
		return nil, fmt.Errorf("list notification channels: %w", err)
	}
	return out, nil
}

// lockOrder is ids sorted: the transactions that change several outbox
// rows change them in the order of their ids, so that two of them (two
// cores on one PostgreSQL database) never wait for each other's rows in
// a deadlock.
func lockOrder(ids []string) []string {
	sorted := slices.Clone(ids)
	slices.Sort(sorted)
	return sorted
}

// lockOrderFinished is outcomes in lockOrder, stable.
func lockOrderFinished(outcomes []Finished) []Finished {
	sorted := slices.Clone(outcomes)
	slices.SortStableFunc(sorted, func(a, b Finished) int { return strings.Compare(a.ID, b.ID) })
	return sorted
}
