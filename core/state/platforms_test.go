package state

import (
	"database/sql"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/core/transport"
	"github.com/cscs-dev/cscs/sdk/sqlmigrate"
)

func TestPlatforms(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e engine) {
		db := openTest(t, e, Options{})
		ctx := t.Context()
		linux := transport.Platform{OS: "linux", Arch: "amd64", UID: "1000", RemoteDir: "/tmp/cscs-1000", Shell: transport.ShellPOSIX}
		linuxCsh := linux
		linuxCsh.Shell = "" // the login shell changed to one that is not POSIX
		arm := transport.Platform{OS: "linux", Arch: "arm64", UID: "1001", RemoteDir: "/var/tmp/cscs-1001"}
		if _, ok, err := db.Platform(ctx, "10.0.0.1", 22, "ops"); ok || err != nil {
			t.Fatalf("Platform before SetPlatform: %v, %v; want none", ok, err)
		}
		steps := []struct {
			set      *transport.Platform
			setUser  string
			getUser  string
			port     int
			want     transport.Platform
			wantKnow bool
		}{
			{set: &linux, setUser: "ops", getUser: "ops", port: 22, want: linux, wantKnow: true},
			{set: &linuxCsh, setUser: "ops", getUser: "ops", port: 22, want: linuxCsh, wantKnow: true},
			{set: &linux, setUser: "ops", getUser: "ops", port: 22, want: linux, wantKnow: true},
			{getUser: "root", port: 22},  // detected for another login
			{getUser: "ops", port: 2222}, // another port is another host
			{set: &arm, setUser: "ops", getUser: "ops", port: 22, want: arm, wantKnow: true}, // replaced
			{set: &linux, setUser: "root", getUser: "ops", port: 22},                         // now root's
		}
		for i, s := range steps {
			if s.set != nil {
				if err := db.SetPlatform(ctx, "10.0.0.1", s.port, s.setUser, *s.set); err != nil {
					t.Fatalf("step %d: SetPlatform: %v", i, err)
				}
			}
			got, ok, err := db.Platform(ctx, "10.0.0.1", s.port, s.getUser)
			if err != nil || ok != s.wantKnow || got != s.want {
				t.Errorf("step %d: Platform = %+v, %v, %v; want %+v, %v", i, got, ok, err, s.want, s.wantKnow)
			}
		}
		for name, p := range map[string]transport.Platform{
			"no OS":         {Arch: "amd64", RemoteDir: "/tmp/x"},
			"no remote dir": {OS: "linux", Arch: "amd64"},
		} {
			if err := db.SetPlatform(ctx, "10.0.0.1", 22, "ops", p); err == nil {
				t.Errorf("SetPlatform with %s succeeded", name)
			}
		}
		if err := db.SetPlatform(ctx, "", 22, "ops", linux); err == nil {
			t.Error("SetPlatform without a host succeeded")
		}
	})
}

func TestAddRoundValues(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e engine) {
		db := openTest(t, e, Options{KeepValues: 2})
		ctx := t.Context()
		t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		for i := range 3 {
			err := db.AddRoundValues(ctx, []HostValues{
				{HostIP: "10.0.0.1", HostPort: 22, At: t0.Add(time.Duration(i) * time.Minute), Values: map[string]float64{"cpu.percent": float64(i)}},
				{HostIP: "10.0.0.2", HostPort: 22, At: t0.Add(time.Duration(i) * time.Minute), Values: map[string]float64{"cpu.percent": 10 + float64(i)}},
				{HostIP: "10.0.0.3", HostPort: 22, Values: map[string]float64{"cpu.percent": 1}},      // no time
				{HostIP: "10.0.0.4", HostPort: 22, At: t0, Values: map[string]float64{"a": 1, "": 2}}, // unnamed metric
				{HostIP: "10.0.0.5", HostPort: 22, At: t0}, // nothing to store
			})
			if err == nil || !strings.Contains(err.Error(), "10.0.0.3") || !strings.Contains(err.Error(), "10.0.0.4") {
				t.Fatalf("round %d: error %v; want one naming 10.0.0.3 and 10.0.0.4", i, err)
			}
		}
		want := map[string][]float64{"10.0.0.1": {1, 2}, "10.0.0.2": {11, 12}, "10.0.0.3": nil, "10.0.0.4": nil}
		for ip, vals := range want {
			got, err := db.recentValues(ctx, ip, 22, "cpu.percent", -1)
			if err != nil {
				t.Fatal(err)
			}
			var gotVals []float64
			for _, v := range got {
				gotVals = append(gotVals, v.value)
			}
			if len(gotVals) != len(vals) || (len(vals) > 0 && (gotVals[0] != vals[0] || gotVals[1] != vals[1])) {
				t.Errorf("%s: values %v; want %v (the newest two)", ip, gotVals, vals)
			}
		}
		if got, _ := db.recentValues(ctx, "10.0.0.4", 22, "a", -1); len(got) != 0 {
			t.Errorf("a host with an unnamed metric kept %v", got)
		}
		if err := db.AddRoundValues(ctx, nil); err != nil {
			t.Errorf("AddRoundValues(nil) = %v", err)
		}
	})
}

// BenchmarkAddRoundValues stores rounds of 200 hosts with 15 metrics into
// a database that already keeps KeepValues rounds: the steady state.
func BenchmarkAddRoundValues(b *testing.B) {
	forEachEngineB(b, func(b *testing.B, e engine) { benchmarkAddRoundValues(b, e) })
}

func benchmarkAddRoundValues(b *testing.B, e engine) {
	db := openTest(b, e, Options{})
	round := func(at time.Time) []HostValues {
		hosts := make([]HostValues, 200)
		for i := range hosts {
			vals := make(map[string]float64, 15)
			for m := range 15 {
				vals[fmt.Sprintf("metric.%d", m)] = float64(i * m)
			}
			hosts[i] = HostValues{HostIP: fmt.Sprintf("10.0.%d.%d", i/250, i%250+1), HostPort: 22, At: at, Values: vals}
		}
		return hosts
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range DefaultKeepValues {
		if err := db.AddRoundValues(b.Context(), round(t0.Add(time.Duration(i)*time.Minute))); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := range b.N {
		if err := db.AddRoundValues(b.Context(), round(t0.Add(time.Duration(DefaultKeepValues+i)*time.Minute))); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*200), "µs/host")
}

// TestLookupsReadTheTableOnce: the first Platform or Cursor call of a DB
// reads the whole table; its own writes stay visible, another handle's
// later writes are seen by the next DB opened (the next round).
func TestLookupsReadTheTableOnce(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e engine) {
		ctx := t.Context()
		path := e.target(t)
		open := func() *DB {
			db, err := Open(ctx, path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		}
		linux := transport.Platform{OS: "linux", Arch: "amd64", UID: "0", RemoteDir: "/tmp/cscs-0"}
		round, other := open(), open()
		if _, ok, err := round.Platform(ctx, "10.0.0.1", 22, "ops"); ok || err != nil {
			t.Fatalf("Platform of an empty table: %v, %v", ok, err)
		}
		if _, ok, err := round.Cursor(ctx, "10.0.0.1", 22, "auth"); ok || err != nil {
			t.Fatalf("Cursor of an empty table: %v, %v", ok, err)
		}
		mustDo(t, other.SetPlatform(ctx, "10.0.0.1", 22, "ops", linux))
		mustDo(t, other.SetCursor(ctx, "10.0.0.1", 22, "auth", "c1"))
		mustDo(t, round.SetPlatform(ctx, "10.0.0.2", 22, "ops", linux))
		mustDo(t, round.SetCursor(ctx, "10.0.0.2", 22, "auth", "c2"))

		tests := []struct {
			name       string
			db         *DB
			ip         string
			wantKnown  bool
			wantCursor string
		}{
			{"another handle's write is not seen", round, "10.0.0.1", false, ""},
			{"own write is seen", round, "10.0.0.2", true, "c2"},
			{"next round sees the other's write", open(), "10.0.0.1", true, "c1"},
			{"next round sees this round's write", open(), "10.0.0.2", true, "c2"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				p, ok, err := tc.db.Platform(ctx, tc.ip, 22, "ops")
				if err != nil || ok != tc.wantKnown || (ok && p != linux) {
					t.Errorf("Platform = %+v, %v, %v; want known %v", p, ok, err, tc.wantKnown)
				}
				c, ok, err := tc.db.Cursor(ctx, tc.ip, 22, "auth")
				if err != nil || c != tc.wantCursor || ok != (tc.wantCursor != "") {
					t.Errorf("Cursor = %q, %v, %v; want %q", c, ok, err, tc.wantCursor)
				}
			})
		}
	})
}

func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// A platform stored before the login shell was recorded reads back without
// it (so the host keeps the /bin/sh path) once the database is upgraded.
func TestPlatformStoredBeforeShell(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e engine) {
		ctx := t.Context()
		target := e.target(t)
		var old *sql.DB
		if e.pg {
			pg, err := openPostgres(ctx, target, Options{}.withDefaults(), true) // no migration
			if !errors.Is(err, ErrNoState) {
				t.Fatalf("read-only open of an empty schema: %v, %v; want ErrNoState", pg, err)
			}
			if old, err = sql.Open("pgx", target); err != nil {
				t.Fatal(err)
			}
		} else {
			if err := os.MkdirAll(filepath.Dir(target), 0o700); err != nil {
				t.Fatal(err)
			}
			var err error
			if old, err = sql.Open("sqlite3", dsn(target, 0)); err != nil {
				t.Fatal(err)
			}
		}
		all, err := loadMigrations(e.pg)
		if err != nil {
			t.Fatal(err)
		}
		before := slices.IndexFunc(all, func(m sqlmigrate.Migration) bool { return strings.Contains(m.Name, "host_platforms_shell") })
		if before < 0 {
			t.Fatal("no host_platforms_shell migration")
		}
		if err := migrate(ctx, old, e.pg, all[:before]); err != nil {
			t.Fatal(err)
		}
		if _, err := old.Exec(`INSERT INTO host_platforms (host_ip, host_port, login_user, os, arch, uid, remote_dir, detected_at)
		VALUES ('10.0.0.9', 22, 'ops', 'linux', 'amd64', '1000', '/tmp/cscs-1000', 'x')`); err != nil {
			t.Fatal(err)
		}
		if err := old.Close(); err != nil {
			t.Fatal(err)
		}
		db, err := Open(ctx, target, Options{})
		if err != nil {
			t.Fatalf("Open upgrades: %v", err)
		}
		t.Cleanup(func() { db.Close() })
		got, ok, err := db.Platform(ctx, "10.0.0.9", 22, "ops")
		want := transport.Platform{OS: "linux", Arch: "amd64", UID: "1000", RemoteDir: "/tmp/cscs-1000"}
		if err != nil || !ok || got != want {
			t.Fatalf("Platform after upgrade = %+v, %v, %v; want %+v", got, ok, err, want)
		}
	})
}

// TestAddRoundValuesInBatches: a round of more values than one statement
// writes stores them all, and a host given twice at one time keeps the
// values given last (a NaN given last leaves the earlier value).
func TestAddRoundValuesInBatches(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e engine) {
		ctx := t.Context()
		db := openTest(t, e, Options{})
		at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		many := make(map[string]float64, 2*valuesPerInsert+50)
		for m := range 2*valuesPerInsert + 50 {
			many[fmt.Sprintf("m.%04d", m)] = float64(m)
		}
		hosts := []HostValues{
			{HostIP: "10.0.0.1", HostPort: 22, At: at, Values: many},
			{HostIP: "10.0.0.1", HostPort: 22, At: at, Values: map[string]float64{"m.0001": -1, "extra": 2, "m.0002": math.NaN()}},
		}
		mustDo(t, db.AddRoundValues(ctx, hosts))
		got, err := db.HostRecentValues(ctx, "10.0.0.1", 22)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(many)+1 {
			t.Fatalf("%d metrics stored, want %d", len(got), len(many)+1)
		}
		for _, mv := range got {
			want, ok := many[mv.Metric]
			switch mv.Metric {
			case "m.0001":
				want = -1
			case "extra":
				want, ok = 2, true
			}
			if !ok || len(mv.Points) != 1 || mv.Points[0].Value != want || !mv.Points[0].At.Equal(at) {
				t.Errorf("%s: %+v, want one value %v", mv.Metric, mv.Points, want)
			}
		}
	})
}
