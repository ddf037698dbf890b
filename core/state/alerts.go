package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"
	"time"
)

// alertRow is the stored state of one alert rule on one host.
type alertRow struct {
	firing       bool
	since        time.Time
	lastNotified time.Time
	lastValue    float64 // NaN is stored as NULL and read back as NaN
	streak       int
}

// timedValue is one stored value of a metric.
type timedValue struct {
	at    time.Time
	value float64
}

func checkHost(hostIP string, hostPort int) error {
	if hostIP == "" {
		return errors.New("no host IP given")
	}
	if hostPort < 0 || hostPort > 65535 {
		return fmt.Errorf("host port %d is outside 0..65535", hostPort)
	}
	return nil
}

// getAlert returns the state of ruleID on the host; false when none is
// stored yet. A host given to PrefetchAlerts is answered from memory.
func (d *DB) getAlert(ctx context.Context, hostIP string, hostPort int, ruleID string) (alertRow, bool, error) {
	if row, found, kept := d.alerts.get(HostKey{IP: hostIP, Port: hostPort}, ruleID); kept {
		return row, found, nil
	}
	var stored storedAlert
	err := d.db.QueryRowContext(ctx,
		`SELECT `+alertColumns+` FROM alert_state
		 WHERE host_ip = ? AND host_port = ? AND rule_id = ?`,
		hostIP, hostPort, ruleID).Scan(stored.dest()...)
	if errors.Is(err, sql.ErrNoRows) {
		return alertRow{}, false, nil
	}
	if err != nil {
		return alertRow{}, false, fmt.Errorf("read alert state of rule %s on %s: %w", ruleID, hostLabel(hostIP, hostPort), err)
	}
	row, err := stored.row()
	if err != nil {
		return alertRow{}, false, fmt.Errorf("alert state of rule %s on %s: %w", ruleID, hostLabel(hostIP, hostPort), err)
	}
	return row, true, nil
}

// alertColumns are the columns of alert_state that storedAlert reads.
const alertColumns = `firing, since, last_notified, last_value, streak`

// storedAlert is an alertRow as read from alert_state (alertColumns).
type storedAlert struct {
	firing              bool
	since, lastNotified sql.NullString
	lastValue           sql.NullFloat64
	streak              int
}

// dest are the Scan destinations of alertColumns.
func (s *storedAlert) dest() []any {
	return []any{&s.firing, &s.since, &s.lastNotified, &s.lastValue, &s.streak}
}

// row is the state read; an error for a stored time that does not parse.
func (s *storedAlert) row() (alertRow, error) {
	row := alertRow{firing: s.firing, streak: s.streak, lastValue: math.NaN()}
	var err error
	if row.since, err = parseTime(s.since); err != nil {
		return alertRow{}, err
	}
	if row.lastNotified, err = parseTime(s.lastNotified); err != nil {
		return alertRow{}, err
	}
	if s.lastValue.Valid {
		row.lastValue = s.lastValue.Float64
	}
	return row, nil
}

// putAlert stores, through ex, the state of ruleID on the host, replacing
// what was there.
func putAlert(ctx context.Context, ex execer, hostIP string, hostPort int, ruleID string, row alertRow) error {
	if err := checkHost(hostIP, hostPort); err != nil {
		return fmt.Errorf("store alert state: %w", err)
	}
	if ruleID == "" {
		return fmt.Errorf("store alert state on %s: no rule id given", hostLabel(hostIP, hostPort))
	}
	var lastValue any
	if !math.IsNaN(row.lastValue) {
		lastValue = row.lastValue
	}
	firing := 0 // an INTEGER 0 or 1 on both engines
	if row.firing {
		firing = 1
	}
	_, err := ex.ExecContext(ctx,
		`INSERT INTO alert_state (host_ip, host_port, rule_id, firing, since, last_notified, last_value, updated_at, streak)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		 ON CONFLICT (host_ip, host_port, rule_id) DO UPDATE SET
		   firing = excluded.firing, since = excluded.since, last_notified = excluded.last_notified,
		   last_value = excluded.last_value, updated_at = excluded.updated_at, streak = excluded.streak`,
		hostIP, hostPort, ruleID, firing, nullTime(row.since), nullTime(row.lastNotified), lastValue, formatTime(time.Now()), row.streak)
	if err != nil {
		return fmt.Errorf("store alert state of rule %s on %s: %w", ruleID, hostLabel(hostIP, hostPort), err)
	}
	return nil
}

// recentValues returns up to n of the newest values of metric on the
// host, oldest first; every kept value for n < 0. Only the newest
// KeepValues are kept, so n beyond that returns at most KeepValues.
func (d *DB) recentValues(ctx context.Context, hostIP string, hostPort int, metric string, n int) ([]timedValue, error) {
	if n == 0 {
		return nil, nil
	}
	if n < 0 || n > d.keep {
		n = d.keep // the table may hold a few older ones (see trimSlack)
	}
	query, args := `SELECT at, value FROM recent_values
		 WHERE host_ip = ? AND host_port = ? AND metric = ?
		 ORDER BY at DESC LIMIT ?`, []any{hostIP, hostPort, metric, n}
	rows, err := d.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("read recent values of %s on %s: %w", metric, hostLabel(hostIP, hostPort), err)
	}
	defer rows.Close()
	var out []timedValue
	for rows.Next() {
		var (
			at sql.NullString
			v  timedValue
		)
		if err := rows.Scan(&at, &v.value); err != nil {
			return nil, fmt.Errorf("read recent values of %s on %s: %w", metric, hostLabel(hostIP, hostPort), err)
		}
		if v.at, err = parseTime(at); err != nil {
			return nil, fmt.Errorf("recent values of %s on %s: %w", metric, hostLabel(hostIP, hostPort), err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read recent values of %s on %s: %w", metric, hostLabel(hostIP, hostPort), err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].at.Before(out[j].at) })
	return out, nil
}

// HostValues are one host's values of one round, for AddRoundValues.
type HostValues struct {
	HostIP   string
	HostPort int
	// At is when they were measured; it must be set.
	At time.Time
	// Values by metric name; NaN is no measurement and is not stored.
	Values map[string]float64
}

// AddValues records one round's values of the host's metrics at time at,
// in one transaction, and trims each metric to the newest KeepValues
// values. Writing the same time again replaces the value, so a replayed
// round adds nothing. NaN is no measurement and is not stored.
func (d *DB) AddValues(ctx context.Context, hostIP string, hostPort int, at time.Time, values map[string]float64) error {
	return d.AddRoundValues(ctx, []HostValues{{HostIP: hostIP, HostPort: hostPort, At: at, Values: values}})
}

// AddRoundValues is AddValues for every host of a round in one
// transaction: a round of hundreds of hosts commits (and syncs) once
// instead of once per host. A host whose values are invalid (no host, no
// time, a metric without a name) is left out and named in the returned
// error; the other hosts are still written. A database error writes
// nothing.
func (d *DB) AddRoundValues(ctx context.Context, hosts []HostValues) error {
	var invalid []error
	valid := make([]HostValues, 0, len(hosts))
	for _, h := range hosts {
		if err := h.check(); err != nil {
			invalid = append(invalid, fmt.Errorf("store recent values: %w", err))
			continue
		}
		if len(h.Values) > 0 {
			valid = append(valid, h)
		}
	}
	if len(valid) > 0 {
		if err := d.inTx(ctx, func(tx *txn) error { return d.addValues(ctx, tx, valid) }); err != nil {
			if len(valid) == 1 {
				err = fmt.Errorf("store recent values of %s: %w", hostLabel(valid[0].HostIP, valid[0].HostPort), err)
			} else {
				err = fmt.Errorf("store recent values of %d hosts: %w", len(valid), err)
			}
			return errors.Join(append([]error{err}, invalid...)...)
		}
	}
	return errors.Join(invalid...)
}

// check refuses values AddRoundValues cannot store.
func (h HostValues) check() error {
	if err := checkHost(h.HostIP, h.HostPort); err != nil {
		return err
	}
	if h.At.IsZero() {
		return fmt.Errorf("values of %s: no time given", hostLabel(h.HostIP, h.HostPort))
	}
	if _, ok := h.Values[""]; ok {
		return fmt.Errorf("values of %s: a metric has no name", hostLabel(h.HostIP, h.HostPort))
	}
	return nil
}

// trimSlack is how many values beyond KeepValues a host's metric may
// hold before a round trims the round's hosts back to KeepValues: the
// trim reads every value of those hosts, so it runs about every
// trimSlack-th round, not every round. Readers see the newest KeepValues
// only.
const trimSlack = 5

// hostsPerStatement is how many hosts one statement names, as
// (host_ip, host_port) IN ((?, ?), …): 800 parameters, well below
// SQLite's limit (32766; 999 before 3.32) and PostgreSQL's (65535).
const hostsPerStatement = 400

// valuesPerInsert is how many values one INSERT of addValues writes:
// one statement per few hundred values instead of one per value spares
// PostgreSQL the round trips (5 parameters each, far below both engines'
// limits).
const valuesPerInsert = 200

// addValues writes checked hosts' values in tx, valuesPerInsert a
// statement, then trims the metrics of the hosts written, never others:
// several cores may share the database, each writing the values of its
// own hosts. For each hostsPerStatement of those hosts one statement
// counts their values and, when they hold more than d.keep+trimSlack
// values per metric written this round, one more trims each of their
// metrics to the newest d.keep values: one DELETE every few rounds costs
// a fraction of one per round, or one per host and metric.
func (d *DB) addValues(ctx context.Context, tx *txn, hosts []HostValues) error {
	// A key (host, metric, time) given twice keeps the last value; only a
	// host given twice at one time can repeat keys. The rows go in as they
	// come, valuesPerInsert at a time through one prepared statement,
	// never all of them in memory at once (for 10,000 hosts the round's
	// rows, or an index of them, were most of its peak memory).
	hosts = mergeRepeats(hosts)
	w := valueWriter{tx: tx}
	defer w.close()
	var written []hostWritten // the hosts written, in the order given
	pos := map[HostKey]int{}  // index in written
	for _, h := range hosts {
		stamp := formatTime(h.At)
		k := HostKey{IP: h.HostIP, Port: h.HostPort}
		for _, m := range slices.Sorted(maps.Keys(h.Values)) {
			v := h.Values[m]
			if math.IsNaN(v) {
				continue
			}
			if err := w.add(ctx, h.HostIP, h.HostPort, m, stamp, v); err != nil {
				return err
			}
			i, ok := pos[k]
			if !ok {
				i = len(written)
				pos[k] = i
				written = append(written, hostWritten{host: k})
			}
			written[i].values++
		}
	}
	if err := w.flush(ctx); err != nil {
		return err
	}
	for len(written) > 0 {
		batch := written[:min(len(written), hostsPerStatement)]
		written = written[len(batch):]
		if err := d.trimValues(ctx, tx, batch); err != nil {
			return err
		}
	}
	return nil
}

// mergeRepeats returns hosts with each host given more than once at one
// time merged into its first place, the later values (but for NaN)
// replacing the earlier; hosts itself when none repeats.
func mergeRepeats(hosts []HostValues) []HostValues {
	seen := make(map[hostAt]int, len(hosts))
	var out []HostValues
	for i, h := range hosts {
		k := hostAt{HostKey{IP: h.HostIP, Port: h.HostPort}, formatTime(h.At)}
		first, repeated := seen[k]
		if !repeated {
			seen[k] = len(seen)
			if out != nil {
				out = append(out, h)
			}
			continue
		}
		if out == nil {
			out = slices.Clone(hosts[:i])
		}
		merged := maps.Clone(out[first].Values)
		for m, v := range h.Values {
			if !math.IsNaN(v) {
				merged[m] = v
			}
		}
		out[first].Values = merged
	}
	if out == nil {
		return hosts
	}
	return out
}

// valueWriter inserts recent values in a transaction, valuesPerInsert
// rows a statement, prepared once.
type valueWriter struct {
	tx   *txn
	full *sql.Stmt
	args []any
}

// add queues one row, writing the queued ones when they fill a statement.
func (w *valueWriter) add(ctx context.Context, ip string, port int, metric, at string, value float64) error {
	if w.args == nil {
		w.args = make([]any, 0, 5*valuesPerInsert)
	}
	w.args = append(w.args, ip, port, metric, at, value)
	if len(w.args) < 5*valuesPerInsert {
		return nil
	}
	if w.full == nil {
		st, err := w.tx.PrepareContext(ctx, upsertValues(valuesPerInsert))
		if err != nil {
			return err
		}
		w.full = st
	}
	_, err := w.full.ExecContext(ctx, w.args...)
	clear(w.args)
	w.args = w.args[:0]
	return err
}

// flush writes the rows queued.
func (w *valueWriter) flush(ctx context.Context) error {
	if len(w.args) == 0 {
		return nil
	}
	_, err := w.tx.ExecContext(ctx, upsertValues(len(w.args)/5), w.args...)
	w.args = w.args[:0]
	return err
}

// close releases the prepared statement.
func (w *valueWriter) close() {
	if w.full != nil {
		_ = w.full.Close()
	}
}

// hostWritten is how many values a round wrote for a host.
type hostWritten struct {
	host   HostKey
	values int
}

// trimValues trims, in tx, the metrics of hosts to the newest d.keep
// values when those hosts hold more than d.keep+trimSlack values per
// value just written.
func (d *DB) trimValues(ctx context.Context, tx *txn, hosts []hostWritten) error {
	keys := make([]HostKey, len(hosts))
	written := 0
	for i, h := range hosts {
		keys[i] = h.host
		written += h.values
	}
	in, args := hostsIn(keys)
	var held int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM recent_values WHERE `+in, args...).Scan(&held); err != nil {
		return fmt.Errorf("count the recent values of %d hosts: %w", len(hosts), err)
	}
	if held <= written*(d.keep+trimSlack) {
		return nil
	}
	if _, err := tx.ExecContext(ctx,
		`DELETE FROM recent_values WHERE (host_ip, host_port, metric, at) IN (
		   SELECT host_ip, host_port, metric, at FROM (
		     SELECT host_ip, host_port, metric, at,
		       row_number() OVER (PARTITION BY host_ip, host_port, metric ORDER BY at DESC) AS newer
		     FROM recent_values WHERE `+in+`) AS ranked
		   WHERE newer > ?)`, append(args, d.keep)...); err != nil {
		return fmt.Errorf("trim the recent values of %d hosts: %w", len(hosts), err)
	}
	return nil
}

// hostsIn is the condition that a row's host is one of hosts, as
// (host_ip, host_port) IN (VALUES (?, CAST(? AS INTEGER)), …), and its
// arguments; both engines answer it from the primary keys that start with
// (host_ip, host_port). Not a list of pairs, (…) IN ((?, ?), …), which
// PostgreSQL plans as one OR branch per host: some 30 ms of planning for
// each statement of hostsPerStatement hosts, where it plans a VALUES list
// as one join (below 1 ms). The CAST types the port for PostgreSQL, which
// would take an untyped VALUES column for text. hosts must not be empty;
// callers give at most hostsPerStatement.
func hostsIn(hosts []HostKey) (string, []any) {
	var b strings.Builder
	args := make([]any, 0, 2*len(hosts))
	b.WriteString("(host_ip, host_port) IN (VALUES ")
	for i, h := range hosts {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, CAST(? AS INTEGER))")
		args = append(args, h.IP, h.Port)
	}
	b.WriteString(")")
	return b.String(), args
}

// hostAt is a host at one time of its values, as stored.
type hostAt struct {
	host HostKey
	at   string
}

// upsertValues is the statement writing n rows of recent_values,
// replacing the value of a time already stored.
func upsertValues(n int) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO recent_values (host_ip, host_port, metric, at, value) VALUES `)
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, ?, ?, ?, ?)")
	}
	b.WriteString(` ON CONFLICT (host_ip, host_port, metric, at) DO UPDATE SET value = excluded.value`)
	return b.String()
}
