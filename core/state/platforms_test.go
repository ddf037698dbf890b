package state

import (
	"strings"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/core/transport"
)

func TestPlatforms(t *testing.T) {
	db := openTest(t, Options{})
	ctx := t.Context()
	linux := transport.Platform{OS: "linux", Arch: "amd64", UID: "1000", RemoteDir: "/tmp/cscs-1000"}
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
}

func TestAddRoundValues(t *testing.T) {
	db := openTest(t, Options{KeepValues: 2})
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
}
