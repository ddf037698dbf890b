package storagetest

import (
	"embed"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/sdk/storage"
)

//go:embed testdata
var testdata embed.FS

// mixedRound is testdata/mixed_round.json: one ok host with four samples,
// one unreachable host and one that refused authentication.
func mixedRound(t testing.TB) *storage.Batch {
	t.Helper()
	data, err := testdata.ReadFile("testdata/mixed_round.json")
	if err != nil {
		t.Fatal(err)
	}
	var b storage.Batch
	if err := json.Unmarshal(data, &b); err != nil {
		t.Fatalf("parse mixed_round.json: %v", err)
	}
	return &b
}

// OKCollection is a successful collection of ip:22 at the given time with
// the given metric values.
func OKCollection(ip string, at time.Time, metrics map[string]float64) storage.Collection {
	c := storage.Collection{
		HostIP: ip, HostPort: 22, Hostname: "host-" + ip, OS: "linux", Arch: "amd64",
		AgentVersion: "0.1.0", Status: storage.StatusOK,
		StartedAt: at, FinishedAt: at.Add(time.Second),
		Timings: storage.Timings{Connect: 10 * time.Millisecond, Exec: 500 * time.Millisecond, Total: time.Second},
	}
	for name, v := range metrics {
		c.Samples = append(c.Samples, storage.Sample{Metric: name, Value: v, Unit: "percent", Time: at.Add(time.Second)})
	}
	return c
}

// failedCollection is a collection of ip:22 that ended with status st.
func failedCollection(ip string, at time.Time, st storage.Status) storage.Collection {
	return storage.Collection{HostIP: ip, HostPort: 22, Status: st, Error: "it failed", StartedAt: at, FinishedAt: at.Add(time.Second)}
}

// SyntheticBatch is a round of hosts ok hosts (10.x.y.z:22) with
// samplesPerHost samples each, for load tests and benchmarks.
func SyntheticBatch(roundID string, at time.Time, hosts, samplesPerHost int) *storage.Batch {
	b := &storage.Batch{RoundID: roundID, StartedAt: at, FinishedAt: at.Add(time.Minute)}
	for h := range hosts {
		c := storage.Collection{
			HostIP: fmt.Sprintf("10.%d.%d.%d", h>>16&255, h>>8&255, h&255), HostPort: 22,
			Hostname: fmt.Sprintf("host-%d", h), OS: "linux", Arch: "amd64", AgentVersion: "0.1.0",
			Status: storage.StatusOK, StartedAt: at, FinishedAt: at.Add(2 * time.Second),
			Timings: storage.Timings{Connect: time.Millisecond, Exec: time.Second, Total: 2 * time.Second},
		}
		for s := range samplesPerHost {
			c.Samples = append(c.Samples, storage.Sample{
				Metric: fmt.Sprintf("bench.metric_%02d", s), Value: float64(h*samplesPerHost + s), Unit: "count",
				Time: at.Add(time.Second),
			})
		}
		b.Collections = append(b.Collections, c)
	}
	return b
}
