package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/sdk/sdktest"
	"github.com/cscs-dev/cscs/sdk/storage"
)

var roundStart = time.Date(2026, 3, 4, 5, 0, 0, 0, time.UTC)

// batch is round with one ok collection per "ip:port" host.
func batch(t testing.TB, round string, hosts ...string) *storage.Batch {
	t.Helper()
	b := &storage.Batch{RoundID: round, StartedAt: roundStart, FinishedAt: roundStart.Add(2 * time.Second)}
	for i, h := range hosts {
		ip, port, err := net.SplitHostPort(h)
		if err != nil {
			t.Fatal(err)
		}
		p, err := strconv.Atoi(port)
		if err != nil {
			t.Fatal(err)
		}
		b.Collections = append(b.Collections, storage.Collection{
			HostIP: ip, HostPort: p, Status: storage.StatusOK,
			Samples: []storage.Sample{{Metric: "cpu.percent", Value: float64(10 + i), Unit: "percent", Time: roundStart.Add(time.Second)}},
		})
	}
	return b
}

// configFor is the storage configuration for path.
func configFor(t testing.TB, path string) []byte {
	t.Helper()
	raw, err := json.Marshal(Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// readRecords decodes every line of path strictly and checks that the file
// ends with a newline.
func readRecords(t testing.TB, path string) []Record {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		t.Errorf("%s does not end with a newline", path)
	}
	var records []Record
	for i, line := range bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		var r Record
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("line %d of %s is not a record: %v\n%s", i+1, path, err, line)
		}
		records = append(records, r)
	}
	return records
}

// keys lists "round ip:port" of records in file order.
func keys(records []Record) []string {
	var out []string
	for _, r := range records {
		out = append(out, fmt.Sprintf("%s %s", r.RoundID, net.JoinHostPort(r.HostIP, strconv.Itoa(r.HostPort))))
	}
	return out
}

// opened returns the store, seen through the SDK's gRPC client, opened on
// path.
func opened(t *testing.T, path string) storage.Storage {
	t.Helper()
	s := sdktest.Storage(t, &Store{})
	if err := s.Open(t.Context(), configFor(t, path)); err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

func TestWriteBatchIsIdempotent(t *testing.T) {
	t.Parallel()
	a := batch(t, "r-1", "192.0.2.10:22", "192.0.2.11:2222")
	type step struct {
		// op is "write", "reopen" (Open the same store again) or
		// "restart" (Close, then Open a new store on the same file).
		op    string
		batch *storage.Batch
	}
	cases := map[string]struct {
		steps []step
		want  []string
	}{
		"one write": {
			steps: []step{{"write", a}},
			want:  []string{"r-1 192.0.2.10:22", "r-1 192.0.2.11:2222"},
		},
		"same batch twice": {
			steps: []step{{"write", a}, {"write", a}},
			want:  []string{"r-1 192.0.2.10:22", "r-1 192.0.2.11:2222"},
		},
		"reopen then same batch": {
			steps: []step{{"write", a}, {op: "reopen"}, {"write", a}},
			want:  []string{"r-1 192.0.2.10:22", "r-1 192.0.2.11:2222"},
		},
		"restart then same batch": {
			steps: []step{{"write", a}, {op: "restart"}, {"write", a}, {"write", a}},
			want:  []string{"r-1 192.0.2.10:22", "r-1 192.0.2.11:2222"},
		},
		"overlapping batch adds only the new host": {
			steps: []step{{"write", a}, {op: "restart"}, {"write", batch(t, "r-1", "192.0.2.11:2222", "192.0.2.12:22")}},
			want:  []string{"r-1 192.0.2.10:22", "r-1 192.0.2.11:2222", "r-1 192.0.2.12:22"},
		},
		"next round adds lines": {
			steps: []step{{"write", a}, {op: "restart"}, {"write", batch(t, "r-2", "192.0.2.10:22", "192.0.2.11:2222")}},
			want:  []string{"r-1 192.0.2.10:22", "r-1 192.0.2.11:2222", "r-2 192.0.2.10:22", "r-2 192.0.2.11:2222"},
		},
		"same host twice in one batch keeps the first": {
			steps: []step{{"write", batch(t, "r-1", "192.0.2.10:22", "192.0.2.10:22")}},
			want:  []string{"r-1 192.0.2.10:22"},
		},
		"another port is another host": {
			steps: []step{{"write", batch(t, "r-1", "192.0.2.10:22", "192.0.2.10:2222")}},
			want:  []string{"r-1 192.0.2.10:22", "r-1 192.0.2.10:2222"},
		},
		"empty round writes nothing": {
			steps: []step{{"write", batch(t, "r-0")}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "rounds.jsonl")
			s := opened(t, path)
			for i, st := range tc.steps {
				var err error
				switch st.op {
				case "write":
					err = s.WriteBatch(t.Context(), st.batch)
				case "reopen":
					err = s.Open(t.Context(), configFor(t, path))
				case "restart":
					if err = s.Close(t.Context()); err == nil {
						s = opened(t, path)
					}
				}
				if err != nil {
					t.Fatalf("step %d (%s): %v", i+1, st.op, err)
				}
			}
			if got := keys(readRecords(t, path)); !slices.Equal(got, tc.want) {
				t.Errorf("lines = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestRecordCarriesTheCollection(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "rounds.jsonl")
	s := opened(t, path)
	b := sdktest.ConformanceBatch(roundStart)
	b.Collections[0].Samples = append(b.Collections[0].Samples, storage.Sample{Metric: "users.logged_in", Value: math.NaN(), Unit: "count"})
	if err := s.WriteBatch(t.Context(), b); err != nil {
		t.Fatalf("WriteBatch: %v", err)
	}

	records := readRecords(t, path)
	if len(records) != len(b.Collections) {
		t.Fatalf("%d lines, want one per collection (%d)", len(records), len(b.Collections))
	}
	for i, c := range b.Collections {
		r := records[i]
		want := newRecord(b, c)
		if r.RoundID != b.RoundID || r.HostIP != c.HostIP || r.HostPort != c.HostPort || r.Status != string(c.Status) ||
			r.Error != c.Error || r.Hostname != c.Hostname || r.OS != c.OS || r.Arch != c.Arch ||
			r.AgentVersion != c.AgentVersion || r.AgentUploaded != c.AgentUploaded || r.TimingsMS != want.TimingsMS ||
			!r.RoundStartedAt.Equal(b.StartedAt) || !r.StartedAt.Equal(c.StartedAt) || !r.FinishedAt.Equal(c.FinishedAt) {
			t.Errorf("line %d = %+v, want the fields of %+v", i+1, r, c)
		}
		if len(r.Samples) != len(c.Samples) {
			t.Fatalf("line %d has %d samples, want %d", i+1, len(r.Samples), len(c.Samples))
		}
		for j, smp := range c.Samples {
			got := r.Samples[j]
			if got.Metric != smp.Metric || got.Unit != smp.Unit || !got.Time.Equal(smp.Time) {
				t.Errorf("line %d sample %d = %+v, want %+v", i+1, j, got, smp)
			}
			switch {
			case math.IsNaN(smp.Value) && got.Value != nil:
				t.Errorf("line %d sample %s: NaN written as %v, want null", i+1, smp.Metric, *got.Value)
			case !math.IsNaN(smp.Value) && (got.Value == nil || *got.Value != smp.Value):
				t.Errorf("line %d sample %s: value %v, want %v", i+1, smp.Metric, got.Value, smp.Value)
			}
		}
	}
	if records[0].TimingsMS.Total != 1490 {
		t.Errorf("total time = %v ms, want 1490", records[0].TimingsMS.Total)
	}
}

// copyFixture copies testdata/name into a fresh directory and returns the
// copy's path.
func copyFixture(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestOpenExistingFile(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		fixture string
		write   *storage.Batch
		want    []string
		wantErr string
	}{
		"earlier round is not written again": {
			fixture: "earlier-round.jsonl",
			write:   batch(t, "r-1", "192.0.2.10:22", "192.0.2.11:2222", "192.0.2.12:22"),
			want:    []string{"r-1 192.0.2.10:22", "r-1 192.0.2.11:2222", "r-1 192.0.2.12:22"},
		},
		"unfinished last line is cut and written again": {
			fixture: "torn.jsonl",
			write:   batch(t, "r-1", "192.0.2.10:22", "192.0.2.11:2222"),
			want:    []string{"r-1 192.0.2.10:22", "r-1 192.0.2.11:2222"},
		},
		"record without its newline is kept": {
			fixture: "no-final-newline.jsonl",
			write:   batch(t, "r-2", "192.0.2.10:22"),
			want:    []string{"r-1 192.0.2.10:22", "r-1 192.0.2.11:2222", "r-2 192.0.2.10:22"},
		},
		"line that is no record is named": {fixture: "corrupt.jsonl", wantErr: "corrupt.jsonl:2: not a JSON record"},
		"record without host is named":    {fixture: "missing-host.jsonl", wantErr: `missing-host.jsonl:1: record has no "round_id" or no "host_ip"`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path := copyFixture(t, tc.fixture)
			s := sdktest.Storage(t, &Store{})
			err := s.Open(t.Context(), configFor(t, path))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Open = %v, want an error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer func() { _ = s.Close(context.Background()) }()
			if err := s.WriteBatch(t.Context(), tc.write); err != nil {
				t.Fatalf("WriteBatch: %v", err)
			}
			if got := keys(readRecords(t, path)); !slices.Equal(got, tc.want) {
				t.Errorf("lines = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestOpenConfiguration(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cases := map[string]struct {
		config  string
		wantErr string
	}{
		"creates missing directories": {config: string(configFor(t, filepath.Join(dir, "a", "b", "rounds.jsonl")))},
		"empty":                       {config: "", wantErr: "no configuration"},
		"not an object":               {config: `"rounds.jsonl"`, wantErr: `not a JSON object with the key "path"`},
		"misspelt key":                {config: `{"file":"x.jsonl"}`, wantErr: `unknown field "file"`},
		"missing path":                {config: `{}`, wantErr: `"path" is missing`},
		"two objects":                 {config: `{"path":"a"}{"path":"b"}`, wantErr: "data after its JSON object"},
		"path is a directory":         {config: string(configFor(t, dir)), wantErr: "open " + dir},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := sdktest.Storage(t, &Store{})
			err := s.Open(t.Context(), []byte(tc.config))
			defer func() { _ = s.Close(context.Background()) }()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Open: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Open = %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestNewFileIsPrivate(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("file modes are POSIX")
	}
	path := filepath.Join(t.TempDir(), "rounds.jsonl")
	opened(t, path)
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := info.Mode().Perm(); mode != 0o600 {
		t.Errorf("new file has mode %o, want 600", mode)
	}
}

func TestWriteBatchRefuses(t *testing.T) {
	t.Parallel()
	open := func(t *testing.T) *Store {
		s := &Store{}
		if err := s.Open(t.Context(), configFor(t, filepath.Join(t.TempDir(), "r.jsonl"))); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close(context.Background()) })
		return s
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	cases := map[string]struct {
		store   func(*testing.T) *Store
		ctx     context.Context
		batch   *storage.Batch
		wantErr string
	}{
		"before open":       {store: func(*testing.T) *Store { return &Store{} }, batch: batch(t, "r-1", "192.0.2.10:22"), wantErr: "before Open"},
		"after close":       {store: func(t *testing.T) *Store { s := open(t); _ = s.Close(t.Context()); return s }, batch: batch(t, "r-1", "192.0.2.10:22"), wantErr: "before Open"},
		"no batch":          {store: open, wantErr: "no batch"},
		"no round ID":       {store: open, batch: batch(t, "", "192.0.2.10:22"), wantErr: "no round ID"},
		"context cancelled": {store: open, ctx: cancelled, batch: batch(t, "r-1", "192.0.2.10:22"), wantErr: "context canceled"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := tc.ctx
			if ctx == nil {
				ctx = t.Context()
			}
			err := tc.store(t).WriteBatch(ctx, tc.batch)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("WriteBatch = %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestConformanceInProcess(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "rounds.jsonl")
	sdktest.StorageConformance(t, sdktest.Storage(t, &Store{}), configFor(t, path))
	// The conformance check writes its two-host batch twice.
	if n := len(readRecords(t, path)); n != 2 {
		t.Errorf("%d lines after writing a two-host batch twice, want 2", n)
	}
}
