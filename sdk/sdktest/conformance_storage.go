package sdktest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/sdk/storage"
)

// StorageConformance checks the lifecycle rules of the storage contract on
// s: Describe works before Open, names the plugin in lower_snake_case and
// declares a configuration schema that validates (schema.Schema.Validate);
// Close works without Open; Open(config) succeeds; the same batch is
// written twice without error (whether the second write duplicated rows
// cannot be seen from outside: test that against your backend); Close
// succeeds twice. config must let Open reach a working backend.
func StorageConformance(t testing.TB, s storage.Storage, config []byte) {
	t.Helper()

	d, err := callFor(t, s.Describe)
	checkDescribedFirst(t, "storage", "Open", d.Name, d.Config, err)

	if err := call(t, s.Close); err != nil {
		t.Fatalf("Close without Open: %v (Close must be safe without Open)", err)
	}
	if err := call(t, func(ctx context.Context) error { return s.Open(ctx, config) }); err != nil {
		t.Fatalf("Open: %v", err)
	}

	b := ConformanceBatch(time.Now())
	for _, attempt := range []string{"first", "second (same batch again)"} {
		if err := call(t, func(ctx context.Context) error { return s.WriteBatch(ctx, b) }); err != nil {
			t.Errorf("WriteBatch, %s write: %v", attempt, err)
		}
	}

	for _, attempt := range []string{"first", "second"} {
		if err := call(t, s.Close); err != nil {
			t.Errorf("Close, %s call: %v (Close must be safe to call twice)", attempt, err)
		}
	}
}

// ConformanceBatch returns the batch StorageConformance writes: a round
// started at start with one reachable host (three samples) and one
// unreachable host. Its RoundID is unique per start time.
func ConformanceBatch(start time.Time) *storage.Batch {
	start = start.UTC()
	at := func(d time.Duration) time.Time { return start.Add(d) }
	return &storage.Batch{
		RoundID:    fmt.Sprintf("sdktest-%d", start.UnixNano()),
		StartedAt:  start,
		FinishedAt: at(2 * time.Second),
		Collections: []storage.Collection{
			{
				HostIP:        "192.0.2.10",
				HostPort:      22,
				Hostname:      "conformance-ok",
				OS:            "linux",
				Arch:          "amd64",
				AgentVersion:  "v0.0.0-sdktest",
				Status:        storage.StatusOK,
				StartedAt:     at(10 * time.Millisecond),
				FinishedAt:    at(1500 * time.Millisecond),
				AgentUploaded: true,
				Timings: storage.Timings{
					Connect: 120 * time.Millisecond,
					Detect:  15 * time.Millisecond,
					Upload:  300 * time.Millisecond,
					Exec:    900 * time.Millisecond,
					Total:   1490 * time.Millisecond,
				},
				Samples: []storage.Sample{
					{Metric: "cpu.used_percent", Value: 12.5, Unit: "percent", Time: at(time.Second)},
					{Metric: "memory.used_percent", Value: 48.25, Unit: "percent", Time: at(time.Second)},
					{Metric: "uptime.seconds", Value: 86400, Unit: "seconds", Time: at(time.Second)},
				},
			},
			{
				HostIP:     "192.0.2.11",
				HostPort:   2222,
				Status:     storage.StatusUnreachable,
				Error:      "dial tcp 192.0.2.11:2222: connection refused",
				StartedAt:  at(10 * time.Millisecond),
				FinishedAt: at(40 * time.Millisecond),
				Timings:    storage.Timings{Connect: 30 * time.Millisecond, Total: 30 * time.Millisecond},
			},
		},
	}
}
