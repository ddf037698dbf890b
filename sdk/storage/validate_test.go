package storage

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestBatchValidate(t *testing.T) {
	at := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	good := func() *Batch {
		return &Batch{RoundID: "r1", StartedAt: at, Collections: []Collection{{
			HostIP: "10.0.0.5", HostPort: 22, Status: StatusOK, StartedAt: at,
			Samples: []Sample{{Metric: "cpu.percent", Value: 1, Unit: "percent", Time: at}},
		}}}
	}
	tests := map[string]struct {
		edit func(b *Batch)
		want string
	}{
		"good":           {func(*Batch) {}, ""},
		"no round id":    {func(b *Batch) { b.RoundID = " " }, "no round id"},
		"no host":        {func(b *Batch) { b.Collections[0].HostIP = "" }, "has no host ip"},
		"bad port":       {func(b *Batch) { b.Collections[0].HostPort = 0 }, "outside 1-65535"},
		"unknown status": {func(b *Batch) { b.Collections[0].Status = "exploded" }, `unknown status "exploded"`},
		"no times":       {func(b *Batch) { b.StartedAt, b.Collections[0].StartedAt = time.Time{}, time.Time{} }, "no start time"},
		"nan sample":     {func(b *Batch) { b.Collections[0].Samples[0].Value = math.NaN() }, "is NaN"},
		"alert no rule":  {func(b *Batch) { b.Alerts = []AlertState{{HostIP: "10.0.0.5", HostPort: 22}} }, "has no rule id"},
		"notice bad kind": {func(b *Batch) {
			b.Notifications = []NotificationRecord{{ID: "n1", Kind: "fax", Status: NotificationSent}}
		}, `unknown kind "fax"`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			b := good()
			tc.edit(b)
			err := b.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}
