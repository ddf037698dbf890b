package storage_test

import (
	"strings"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/sdk/storage"
)

func TestLabelsText(t *testing.T) {
	tests := []struct {
		in   map[string]string
		want string
	}{
		{nil, "{}"},
		{map[string]string{}, "{}"},
		{map[string]string{"mount": "/var", "device": "/dev/sda1"}, `{"device":"/dev/sda1","mount":"/var"}`},
		{map[string]string{"mount": `C:\`}, `{"mount":"C:\\"}`},
	}
	for _, tt := range tests {
		if got := storage.LabelsText(tt.in); got != tt.want {
			t.Errorf("LabelsText(%v) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestFoldLabels(t *testing.T) {
	in := []storage.Sample{
		{Metric: "cpu.percent", Value: 1},
		{Metric: "disk.used_percent", Value: 2, Labels: map[string]string{"mount": "/", "device": `/dev/"x"`}},
	}
	got := storage.FoldLabels(in)
	if got[0].Metric != "cpu.percent" || got[1].Metric != `disk.used_percent{device="/dev/\"x\"",mount="/"}` || got[1].Labels != nil {
		t.Errorf("FoldLabels = %+v", got)
	}
	if in[1].Labels == nil || in[1].Metric != "disk.used_percent" {
		t.Error("FoldLabels changed its input")
	}
	plain := []storage.Sample{{Metric: "cpu.percent"}}
	if got := storage.FoldLabels(plain); &got[0] != &plain[0] {
		t.Error("FoldLabels copied samples without labels")
	}
}

func TestValidateLabels(t *testing.T) {
	at := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	batch := func(samples ...storage.Sample) *storage.Batch {
		return &storage.Batch{RoundID: "r", StartedAt: at, Collections: []storage.Collection{{
			HostIP: "10.0.0.1", HostPort: 22, Status: storage.StatusOK, Samples: samples,
		}}}
	}
	disk := func(mount string) storage.Sample {
		return storage.Sample{Metric: "disk.used_percent", Value: 1, Labels: map[string]string{"mount": mount}}
	}
	many := map[string]string{}
	for _, k := range []string{"a", "b", "c", "d", "e", "f", "g", "h", "i"} {
		many[k] = "x"
	}
	tests := map[string]struct {
		b    *storage.Batch
		want string // "" for valid
	}{
		"two mounts":           {b: batch(disk("/"), disk("/var"))},
		"one metric twice":     {b: batch(disk("/"), disk("/")), want: `two samples of disk.used_percent{mount="/"}`},
		"bad label name":       {b: batch(storage.Sample{Metric: "m.x", Labels: map[string]string{"Mount": "/"}}), want: `label name "Mount" is not lower_snake_case`},
		"too many labels":      {b: batch(storage.Sample{Metric: "m.x", Labels: many}), want: "9 labels; at most 8"},
		"value too long":       {b: batch(disk(strings.Repeat("x", storage.MaxLabelValueBytes+1))), want: "at most 1024 are allowed"},
		"value not UTF-8":      {b: batch(disk("\xff")), want: "not valid UTF-8"},
		"labels and no labels": {b: batch(disk("/"), storage.Sample{Metric: "disk.used_percent", Value: 3})},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			err := tt.b.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Validate: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "10.0.0.1:22")):
				t.Fatalf("Validate = %v, want an error naming the host and saying %q", err, tt.want)
			}
		})
	}
}
