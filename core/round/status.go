package round

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/cscs-dev/cscs/core/alert"
	"github.com/cscs-dev/cscs/core/identity"
	"github.com/cscs-dev/cscs/core/pipeline"
	"github.com/cscs-dev/cscs/core/round/pool"
	"github.com/cscs-dev/cscs/core/spool"
	"github.com/cscs-dev/cscs/core/state"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// The reads of this file serve status pages and scrapes while rounds run:
// they open the state database next to the running round (SQLite waits
// for the round's write lock, up to the busy timeout) and change nothing
// a round keeps.

// DownRule is the rule ID of the built-in alert that fires when a host
// failed several rounds in a row (alert.DownRule).
const DownRule = alert.DownRuleID

// RecentMails bounds the event-log mails ReadHost returns.
const RecentMails = 20

// FiringAlert is an alert rule that fires on a host.
type FiringAlert = state.FiringAlert

// Series are one metric's recent values on a host, oldest first.
type Series = state.MetricValues

// Mail is one notification of the outbox.
type Mail = state.Notification

// SpoolBacklog is what waits in the spool of one storage.
type SpoolBacklog struct {
	// Storage is the spool's name ("sqlite-3f9a1c2b4d5e", "storage-<name>").
	Storage string
	// Label names the storage as messages do ("postgres
	// postgres://cscs@db/cscs"); "" when not known.
	Label string
	// Rounds is how many rounds wait.
	Rounds int
	// Oldest is when the oldest waiting round started (zero when none
	// waits, or its id has no time).
	Oldest time.Time
}

// Fleet is what the state database and the spool say about the whole
// fleet.
type Fleet struct {
	// Alerts are the firing alerts, by host and rule.
	Alerts []FiringAlert
	// Outbox counts the notifications by status (pending, sending, sent,
	// failed).
	Outbox map[string]int
	// Spools are the spools of the storages, by name.
	Spools []SpoolBacklog
}

// Host is what the state database says about one host.
type Host struct {
	// Alerts are the rules firing on the host.
	Alerts []FiringAlert
	// Series are its recent values, by metric.
	Series []Series
	// EventMails are its latest event-log mails, newest first.
	EventMails []Mail
}

// ReadFleet reads the firing alerts, the outbox counts and the spool
// backlog of the plan's data directory. What it could read is returned
// beside the error.
func ReadFleet(ctx context.Context, p *Plan) (Fleet, error) {
	var f Fleet
	spools, spoolErr := ReadSpools(p)
	f.Spools = spools
	st, err := openState(ctx, p)
	if errors.Is(err, state.ErrNoState) {
		return f, spoolErr // nothing yet: no alert, no mail
	}
	if err != nil {
		return f, errors.Join(err, spoolErr)
	}
	defer st.Close()
	alerts, alertErr := st.FiringAlerts(ctx)
	f.Alerts = alerts
	counts, outboxErr := st.NotificationCounts(ctx)
	if outboxErr == nil {
		for _, s := range storage.NotificationStatuses {
			counts[s] += 0 // every status, 0 when none is in it
		}
	}
	f.Outbox = counts
	return f, errors.Join(alertErr, outboxErr, spoolErr)
}

// ReadHost reads one host's firing alerts, recent values and latest
// event-log mails. What it could read is returned beside the error.
func ReadHost(ctx context.Context, p *Plan, ip string, port int) (Host, error) {
	var h Host
	st, err := openState(ctx, p)
	if errors.Is(err, state.ErrNoState) {
		return h, nil
	}
	if err != nil {
		return h, err
	}
	defer st.Close()
	alerts, alertErr := st.HostFiringAlerts(ctx, ip, port)
	h.Alerts = alerts
	series, valuesErr := st.HostRecentValues(ctx, ip, port)
	h.Series = series
	mails, mailErr := st.HostNotifications(ctx, ip, port, "eventlog", RecentMails)
	h.EventMails = mails
	return h, errors.Join(alertErr, valuesErr, mailErr)
}

// openState opens the plan's state database for reading only
// (state.ErrNoState before the first round).
func openState(ctx context.Context, p *Plan) (*state.DB, error) {
	if p == nil || p.Env.State == "" { // state.db in the data directory
		if err := hasDataDir(p); err != nil {
			return nil, err
		}
	}
	st, err := state.OpenReadOnly(ctx, p.Env.StateTarget(), state.Options{})
	if err != nil {
		return nil, fmt.Errorf("state database: %w", err)
	}
	return st, nil
}

// ReadSpools lists the spools under the plan's data directory with what
// waits in each, by storage name; none when nothing was ever spooled.
func ReadSpools(p *Plan) ([]SpoolBacklog, error) {
	if err := hasDataDir(p); err != nil {
		return nil, err
	}
	return Spools(p.Env.DataDir)
}

// Spools lists the spools under dataDir (see ReadSpools).
func Spools(dataDir string) ([]SpoolBacklog, error) {
	spools, err := spool.List(spoolRoot(dataDir))
	out := make([]SpoolBacklog, len(spools))
	for i, sp := range spools {
		out[i] = backlog(sp)
	}
	return out, err
}

// ReplaySpool stores the rounds waiting in the spool called name under
// dataDir in w, oldest first, removing each one stored; it stops at the
// first that fails and returns how many were stored.
func ReplaySpool(ctx context.Context, dataDir, name string, st storage.Storage) (int, error) {
	sp, err := openSpool(dataDir, name)
	if err != nil {
		return 0, err
	}
	return sp.Replay(ctx, pipeline.WriterFor(ctx, st))
}

// DropSpool deletes the rounds waiting in the spool called name under
// dataDir, and returns its storage's label and how many it deleted.
func DropSpool(dataDir, name string) (label string, n int, err error) {
	sp, err := openSpool(dataDir, name)
	if err != nil {
		return "", 0, err
	}
	label = sp.Label()
	n, err = sp.Drop()
	return label, n, err
}

// ErrNoSpool is a spool name that is not in the data directory.
var ErrNoSpool = errors.New("no spool")

// CheckSpool reports an error wrapping ErrNoSpool unless the spool called
// name is in dataDir.
func CheckSpool(dataDir, name string) error {
	_, err := openSpool(dataDir, name)
	return err
}

// openSpool opens the spool called name under dataDir, which must exist,
// with the core key of dataDir.
func openSpool(dataDir, name string) (*spool.Spool, error) {
	spools, err := Spools(dataDir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, sp := range spools {
		names = append(names, sp.Storage)
	}
	if !slices.Contains(names, name) {
		if len(names) == 0 {
			names = []string{"none"}
		}
		return nil, fmt.Errorf("%w %q in %s; `cscs spool list` lists them (%s)", ErrNoSpool, name, spoolRoot(dataDir), strings.Join(names, ", "))
	}
	id, _, err := identity.LoadOrCreate(dataDir)
	if err != nil {
		return nil, fmt.Errorf("core key: %w", err)
	}
	return spool.Open(spoolRoot(dataDir), name, id)
}

// backlog is what waits in sp.
func backlog(sp spool.Info) SpoolBacklog {
	b := SpoolBacklog{Storage: sp.Name, Label: sp.Label, Rounds: len(sp.Rounds)}
	if len(sp.Rounds) > 0 {
		b.Oldest, _ = pool.RoundTime(sp.Rounds[0])
	}
	return b
}

// hasDataDir refuses a plan without a data directory: its state would be
// read from the working directory.
func hasDataDir(p *Plan) error {
	if p == nil || p.Env.DataDir == "" {
		return errors.New("the plan has no data directory to read the state from")
	}
	return nil
}

// spoolRoot is the directory holding every storage's spool.
func (p *Plan) spoolRoot() string { return spoolRoot(p.Env.DataDir) }

// spoolRoot is the directory of dataDir holding every storage's spool.
func spoolRoot(dataDir string) string { return filepath.Join(dataDir, "spool") }
