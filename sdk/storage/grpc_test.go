package storage_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/sdk/internal/schemafixture"
	"github.com/cscs-dev/cscs/sdk/internal/zerofield"
	"github.com/cscs-dev/cscs/sdk/schema"
	"github.com/cscs-dev/cscs/sdk/sdktest"
	"github.com/cscs-dev/cscs/sdk/storage"
)

// recorder is a Storage that keeps what it receives and answers with the
// errors a test sets.
type recorder struct {
	mu      sync.Mutex
	config  []byte
	batches []storage.Batch
	closed  int
	err     error
}

func (r *recorder) Describe(context.Context) (storage.Description, error) {
	return storage.Description{Name: "recorder", Version: "1.2.3", Labels: true}, r.err
}

func (r *recorder) Open(_ context.Context, config []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.config = config
	return r.err
}

func (r *recorder) WriteBatch(ctx context.Context, b *storage.Batch) error {
	r.mu.Lock()
	r.batches = append(r.batches, *b)
	err := r.err
	r.mu.Unlock()
	if err != nil && errors.Is(err, context.DeadlineExceeded) {
		<-ctx.Done()
		return ctx.Err()
	}
	return err
}

// received returns the batches, config and Close count the plugin saw.
func (r *recorder) received() ([]storage.Batch, []byte, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.batches, r.config, r.closed
}

func (r *recorder) Close(context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed++
	return r.err
}

// fullBatch sets every field of a Batch, with nanoseconds and odd
// durations, so that a field lost on the wire shows.
func fullBatch() storage.Batch {
	t0 := time.Date(2026, 5, 6, 7, 8, 9, 123456789, time.UTC)
	return storage.Batch{
		RoundID:    "round-0001",
		StartedAt:  t0,
		FinishedAt: t0.Add(2*time.Second + 7),
		Collections: []storage.Collection{
			{
				HostIP:        "10.0.0.1",
				HostPort:      2222,
				Hostname:      "web-1",
				OS:            "linux",
				Arch:          "arm64",
				AgentVersion:  "v1.4.0",
				Status:        storage.StatusOK,
				Error:         "warning: event log truncated",
				StartedAt:     t0.Add(1),
				FinishedAt:    t0.Add(time.Second + 999),
				AgentUploaded: true,
				Timings: storage.Timings{
					Connect: 101*time.Millisecond + 1,
					Detect:  2*time.Millisecond + 3,
					Upload:  303 * time.Microsecond,
					Exec:    404*time.Millisecond + 5,
					Total:   time.Second + 6,
				},
				Samples: []storage.Sample{
					{Metric: "disk.used_percent", Value: 12.345678901234, Unit: "percent", Time: t0.Add(500*time.Millisecond + 1),
						Labels: map[string]string{"mount": "/srv/data dir", "device": "/dev/sda1", "fstype": "ext4"}},
					{Metric: "net.rx_bytes_per_second", Value: 1e9 + 0.5, Unit: "bytes_per_second", Time: t0.Add(500*time.Millisecond + 2),
						Labels: map[string]string{"interface": "eth0"}},
				},
				Events: []storage.Event{
					{
						Channel:  "auth",
						RecordID: 1,
						Time:     t0.Add(-time.Minute + 3),
						Level:    "notice",
						Provider: "sshd",
						EventID:  -1,
						Computer: "web-1",
						Message:  "Accepted publickey for ops from 10.0.0.9 port 50022 ssh2",
						Fields:   map[string]string{"user": "ops", "rhost": "10.0.0.9"},
					},
				},
			},
			{
				HostIP:        "10.0.0.2",
				HostPort:      22,
				Hostname:      "db-1",
				OS:            "windows",
				Arch:          "amd64",
				AgentVersion:  "v1.4.0",
				Status:        storage.StatusTimeout,
				Error:         "agent did not answer within 30s",
				StartedAt:     t0.Add(2),
				FinishedAt:    t0.Add(30 * time.Second),
				AgentUploaded: true,
				Timings:       storage.Timings{Connect: 1, Detect: 2, Upload: 3, Exec: 4, Total: 5},
				Samples: []storage.Sample{{Metric: "memory.used_percent", Value: -0.25, Unit: "percent", Time: t0.Add(-time.Hour),
					Labels: map[string]string{"zone": "é"}}},
				Events: []storage.Event{
					{
						Channel:  "Security",
						RecordID: 1298116,
						Time:     time.Date(2026, 3, 16, 15, 52, 9, 516634100, time.UTC),
						Level:    "Information",
						Provider: "Microsoft-Windows-Security-Auditing",
						EventID:  4625,
						Computer: "DB-1.corp.example",
						Message:  "An account failed to log on.\r\n\tSubject: …",
						Fields:   map[string]string{"TargetUserName": "Administrator", "IpAddress": "fd00::9", "Empty?": " "},
					},
					{
						Channel:  "Security",
						RecordID: math.MaxUint64,
						Time:     time.Date(1969, 12, 31, 23, 59, 59, 999999999, time.UTC),
						Level:    "Audit Failure",
						Provider: "Microsoft-Windows-Eventlog",
						EventID:  math.MaxInt32 + 1,
						Computer: "db-1",
						Message:  "a NUL \x00 travels as it is",
						Fields:   map[string]string{"x": "\x00"},
					},
				},
			},
		},
		Alerts: []storage.AlertState{
			{
				HostIP:       "10.0.0.1",
				HostPort:     2222,
				RuleID:       "memory>90",
				Type:         "memory",
				Metric:       "memory.used_percent",
				Condition:    "> 90%",
				Firing:       true,
				Since:        t0.Add(-time.Hour + 11),
				LastNotified: t0.Add(-time.Minute + 12),
				LastValue:    93.123456789,
				UpdatedAt:    t0.Add(13),
			},
			{
				HostIP:       "fd00::2",
				HostPort:     22,
				RuleID:       "cpu>20",
				Type:         "cpu",
				Metric:       "cpu.percent",
				Condition:    "> 20 %",
				Firing:       true,
				Since:        time.Date(1969, 12, 31, 23, 59, 59, 1, time.UTC),
				LastNotified: t0.Add(14),
				LastValue:    -1e-300,
				UpdatedAt:    t0.Add(15),
			},
		},
		Notifications: []storage.NotificationRecord{
			{
				ID:         "n-0001",
				Kind:       storage.NotificationAlert,
				HostIP:     "10.0.0.1",
				HostPort:   2222,
				Recipients: []string{"ops@example.com", "Anna Müller <anna@example.com>"},
				Subject:    "CSCS alert: web-1 memory 93.1% > 90%",
				Status:     storage.NotificationFailed,
				Attempts:   7,
				LastError:  "550 5.1.1 mailbox unavailable",
				CreatedAt:  t0.Add(16),
				SentAt:     t0.Add(17),
				UpdatedAt:  t0.Add(18),
				Channel:    "chat",
			},
		},
	}
}

func TestWriteBatchRoundTrip(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		batch storage.Batch
		check func(t *testing.T, b storage.Batch)
	}{
		"every field": {batch: fullBatch()},
		"zero batch":  {batch: storage.Batch{}},
		"times before 1970 and far ahead": {batch: storage.Batch{
			RoundID:    "old",
			StartedAt:  time.Date(1960, 1, 1, 0, 0, 0, 1, time.UTC),
			FinishedAt: time.Date(2200, 12, 31, 23, 59, 59, 999999999, time.UTC),
		}},
		"alert at rest and notification without host": {batch: storage.Batch{
			RoundID: "quiet",
			Alerts: []storage.AlertState{{
				HostIP: "10.0.0.3", HostPort: 22, RuleID: "memory>90", Firing: false,
				UpdatedAt: time.Date(2026, 5, 6, 7, 8, 9, 1, time.UTC),
			}},
			Notifications: []storage.NotificationRecord{{
				ID: "n-test", Kind: storage.NotificationTest, Recipients: []string{"ops@example.com"},
				Status: storage.NotificationPending, CreatedAt: time.Date(2026, 5, 6, 7, 8, 9, 2, time.UTC),
			}},
		}},
		"every notification kind and status": {batch: func() storage.Batch {
			var b storage.Batch
			for _, k := range storage.NotificationKinds {
				for _, st := range storage.NotificationStatuses {
					b.Notifications = append(b.Notifications, storage.NotificationRecord{ID: k + "-" + st, Kind: k, Status: st})
				}
			}
			return b
		}()},
		"event without time, fields or text": {batch: storage.Batch{
			RoundID: "bare-event",
			Collections: []storage.Collection{{
				HostIP: "10.0.0.4", HostPort: 22, Status: storage.StatusOK,
				Events: []storage.Event{{Channel: "Security", RecordID: 7}, {}},
			}},
		}},
		"more collections than one part of a stream": {batch: manyCollections(2*storage.PartCollections + 7)},
		"every status": {batch: func() storage.Batch {
			var b storage.Batch
			for _, s := range storage.Statuses {
				b.Collections = append(b.Collections, storage.Collection{Status: s})
			}
			return b
		}()},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			rec := &recorder{}
			client := sdktest.Storage(t, rec)
			in := tc.batch
			if err := client.WriteBatch(t.Context(), &in); err != nil {
				t.Fatalf("WriteBatch: %v", err)
			}
			batches, _, _ := rec.received()
			if len(batches) != 1 {
				t.Fatalf("plugin received %d batches, want 1", len(batches))
			}
			if got := batches[0]; !reflect.DeepEqual(got, tc.batch) {
				t.Errorf("plugin received\n%+v\nwant\n%+v", got, tc.batch)
			}
		})
	}
}

// manyCollections is fullBatch with n collections, each its own host.
func manyCollections(n int) storage.Batch {
	b := fullBatch()
	one := b.Collections[0]
	b.Collections = nil
	for i := range n {
		c := one
		c.HostIP = fmt.Sprintf("10.1.%d.%d", i/200, i%200)
		b.Collections = append(b.Collections, c)
	}
	return b
}

// TestFullBatchSetsEveryField keeps the round-trip fixture honest: a field
// added to the contract must be set there (and then carried on the wire).
func TestFullBatchSetsEveryField(t *testing.T) {
	t.Parallel()
	if zero := zerofield.Find(fullBatch()); len(zero) > 0 {
		t.Errorf("fullBatch leaves fields zero, set them: %v", zero)
	}
}

// TestAlertValueSpecialsAreCarried covers the values reflect.DeepEqual
// cannot compare: NaN (no value) and the infinities.
func TestAlertValueSpecialsAreCarried(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	client := sdktest.Storage(t, rec)
	in := []float64{math.NaN(), math.Inf(1), math.Inf(-1)}
	b := storage.Batch{RoundID: "specials"}
	for i, v := range in {
		b.Alerts = append(b.Alerts, storage.AlertState{HostIP: "10.0.0.1", HostPort: 22, RuleID: strconv.Itoa(i), LastValue: v})
	}
	if err := client.WriteBatch(t.Context(), &b); err != nil {
		t.Fatal(err)
	}
	batches, _, _ := rec.received()
	got := batches[0].Alerts
	if len(got) != len(in) {
		t.Fatalf("plugin received %d alerts, want %d", len(got), len(in))
	}
	for i, want := range in {
		v := got[i].LastValue
		if !(v == want || math.IsNaN(v) && math.IsNaN(want)) {
			t.Errorf("alert %d LastValue = %v, want %v", i, v, want)
		}
	}
}

// TestEventTextBecomesUTF8 covers host text that protobuf cannot carry:
// invalid UTF-8 arrives as U+FFFD instead of failing the batch.
func TestEventTextBecomesUTF8(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	client := sdktest.Storage(t, rec)
	bad := "bad\xffbyte"
	in := storage.Event{
		Channel: bad, Level: bad, Provider: bad, Computer: bad, Message: bad,
		Fields: map[string]string{bad: bad, "ok": "fine"},
	}
	b := storage.Batch{RoundID: "utf8", Collections: []storage.Collection{{HostIP: "10.0.0.1", HostPort: 22, Events: []storage.Event{in}}}}
	if err := client.WriteBatch(t.Context(), &b); err != nil {
		t.Fatalf("WriteBatch with invalid UTF-8 in an event: %v", err)
	}
	batches, _, _ := rec.received()
	const good = "bad\uFFFDbyte"
	want := storage.Event{
		Channel: good, Level: good, Provider: good, Computer: good, Message: good,
		Fields: map[string]string{good: good, "ok": "fine"},
	}
	if got := batches[0].Collections[0].Events[0]; !reflect.DeepEqual(got, want) {
		t.Errorf("plugin received %+v; want %+v", got, want)
	}
	if in.Channel != bad || in.Fields[bad] != bad {
		t.Errorf("the caller's event was changed: %+v", in)
	}
}

func TestZoneIsCarriedAsInstant(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	client := sdktest.Storage(t, rec)
	local := time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("UTC+5", 5*3600))
	if err := client.WriteBatch(t.Context(), &storage.Batch{StartedAt: local}); err != nil {
		t.Fatal(err)
	}
	batches, _, _ := rec.received()
	got := batches[0].StartedAt
	if !got.Equal(local) || got.Location() != time.UTC {
		t.Errorf("StartedAt = %v, want the instant %v in UTC", got, local)
	}
}

func TestDescribeOpenClose(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	client := sdktest.Storage(t, rec)
	d, err := client.Describe(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if want := (storage.Description{Name: "recorder", Version: "1.2.3", Labels: true}); !reflect.DeepEqual(d, want) {
		t.Errorf("Describe = %+v, want %+v", d, want)
	}
	config := []byte(`{"path":"/var/lib/cscs/cscs.db","busy_timeout":"5s"}`)
	if err := client.Open(t.Context(), config); err != nil {
		t.Fatal(err)
	}
	if _, got, _ := rec.received(); string(got) != string(config) {
		t.Errorf("plugin received config %q, want %q", got, config)
	}
	for range 2 {
		if err := client.Close(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, closed := rec.received(); closed != 2 {
		t.Errorf("plugin saw %d Close calls, want 2", closed)
	}
}

// described is a recorder that describes itself as desc.
type described struct {
	*recorder
	desc storage.Description
}

func (d described) Describe(context.Context) (storage.Description, error) { return d.desc, nil }

func TestDescribeCarriesTheConfigSchema(t *testing.T) {
	t.Parallel()
	schemafixture.TestDescribe(t, func(t *testing.T, s schema.Schema) (any, any, error) {
		want := storage.Description{Name: "described", Version: "0.0.1", Config: s}
		got, err := sdktest.Storage(t, described{recorder: &recorder{}, desc: want}).Describe(t.Context())
		return want, got, err
	})
}

func TestErrorsCarryThePluginMessage(t *testing.T) {
	t.Parallel()
	const msg = "opening /var/lib/cscs/cscs.db: permission denied"
	rec := &recorder{err: errors.New(msg)}
	client := sdktest.Storage(t, rec)
	calls := map[string]func() error{
		"describe": func() error { _, err := client.Describe(t.Context()); return err },
		"open":     func() error { return client.Open(t.Context(), nil) },
		"write":    func() error { return client.WriteBatch(t.Context(), &storage.Batch{}) },
		"write in parts": func() error {
			b := manyCollections(storage.PartCollections + 1)
			return client.WriteBatch(t.Context(), &b)
		},
		"close": func() error { return client.Close(t.Context()) },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			err := call()
			if err == nil || err.Error() != msg {
				t.Errorf("error = %v, want %q", err, msg)
			}
		})
	}
}

func TestDeadlineReachesThePlugin(t *testing.T) {
	t.Parallel()
	rec := &recorder{err: context.DeadlineExceeded}
	client := sdktest.Storage(t, rec)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	err := client.WriteBatch(ctx, &storage.Batch{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error = %v, want one that is context.DeadlineExceeded", err)
	}
}

func TestNilBatchIsRefused(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	client := sdktest.Storage(t, rec)
	err := client.WriteBatch(t.Context(), nil)
	if err == nil || !strings.Contains(err.Error(), "nil") {
		t.Errorf("error = %v, want one about the nil batch", err)
	}
	if batches, _, _ := rec.received(); len(batches) != 0 {
		t.Errorf("plugin received %d batches, want none", len(batches))
	}
}

func TestConformanceOverGRPC(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	sdktest.StorageConformance(t, sdktest.Storage(t, rec), []byte(`{}`))
	batches, _, _ := rec.received()
	if len(batches) != 2 || !reflect.DeepEqual(batches[0], batches[1]) {
		t.Errorf("plugin received %d batches, want the same one twice", len(batches))
	}
}

// maintained is a recorder that also migrates and prunes.
type maintained struct {
	*recorder
	config    []byte
	olderThan time.Time
}

func (m *maintained) Migrate(_ context.Context, config []byte) (storage.Migration, error) {
	m.config = config
	return storage.Migration{Target: "db.example/cscs", SchemaVersion: 7}, m.err
}

func (m *maintained) Prune(_ context.Context, config []byte, olderThan time.Time) (storage.Pruned, error) {
	m.config, m.olderThan = config, olderThan
	return storage.Pruned{Target: "db.example/cscs", Collections: 3, Events: 11}, m.err
}

// TestMaintenanceCalls: Migrate and Prune reach a plugin that implements
// them with its configuration; one that does not answers ErrUnsupported,
// over gRPC as in process; a plugin's error comes back with its message.
func TestMaintenanceCalls(t *testing.T) {
	t.Parallel()
	cutoff := time.Date(2026, 9, 1, 12, 30, 0, 5, time.UTC)
	config := []byte(`{"dsn":"x"}`)
	impl := &maintained{recorder: &recorder{}}
	client := sdktest.Storage(t, impl)
	m, err := storage.Migrate(t.Context(), client, config)
	if err != nil || m != (storage.Migration{Target: "db.example/cscs", SchemaVersion: 7}) || string(impl.config) != string(config) {
		t.Errorf("Migrate = %+v, %v; plugin got %q", m, err, impl.config)
	}
	p, err := storage.Prune(t.Context(), client, config, cutoff)
	if err != nil || p != (storage.Pruned{Target: "db.example/cscs", Collections: 3, Events: 11}) || !impl.olderThan.Equal(cutoff) {
		t.Errorf("Prune = %+v, %v; plugin got %v", p, err, impl.olderThan)
	}
	impl.err = errors.New("schema is at version 9, newer than this plugin")
	if _, err := storage.Migrate(t.Context(), client, config); err == nil || !strings.Contains(err.Error(), "version 9") {
		t.Errorf("Migrate error = %v; want the plugin's message", err)
	}

	plain := map[string]storage.Storage{"over gRPC": sdktest.Storage(t, &recorder{}), "in process": &recorder{}}
	for name, s := range plain {
		if _, err := storage.Migrate(t.Context(), s, config); !errors.Is(err, storage.ErrUnsupported) {
			t.Errorf("%s: Migrate on a storage without it: %v; want ErrUnsupported", name, err)
		}
		if _, err := storage.Prune(t.Context(), s, config, cutoff); !errors.Is(err, storage.ErrUnsupported) {
			t.Errorf("%s: Prune on a storage without it: %v; want ErrUnsupported", name, err)
		}
	}
}
