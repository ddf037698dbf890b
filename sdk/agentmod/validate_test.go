package agentmod

import (
	"math"
	"strings"
	"testing"
)

func TestValidSourceName(t *testing.T) {
	tests := map[string]struct {
		name string
		want bool
	}{
		"simple":          {name: "users", want: true},
		"snake and digit": {name: "disk_io2", want: true},
		"longest":         {name: strings.Repeat("a", MaxSourceName), want: true},
		"empty":           {name: ""},
		"too long":        {name: strings.Repeat("a", MaxSourceName+1)},
		"leading digit":   {name: "2users"},
		"leading _":       {name: "_users"},
		"upper case":      {name: "Users"},
		"dot":             {name: "ext.users"},
		"dash":            {name: "disk-io"},
		"slash":           {name: "../x"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := ValidSourceName(tc.name); got != tc.want {
				t.Errorf("ValidSourceName(%q) = %v, want %v", tc.name, got, tc.want)
			}
		})
	}
}

func TestResultValidate(t *testing.T) {
	ok := Metric{Name: "users.logged_in", Value: 3, Unit: "count"}
	event := Event{Channel: "auth", RecordID: 7, Time: "2025-11-25T10:00:00Z"}
	tests := map[string]struct {
		result  Result
		wantErr string // empty: valid
	}{
		"empty":          {result: Result{}},
		"metric":         {result: Result{Metrics: []Metric{ok}}},
		"nested name":    {result: Result{Metrics: []Metric{{Name: "users.by_tty.pts_0", Unit: ""}}}},
		"every unit":     {result: Result{Metrics: []Metric{{Name: "users.a", Unit: "percent"}, {Name: "users.b", Unit: "bytes"}, {Name: "users.c", Unit: "seconds"}}}},
		"event":          {result: Result{Events: []Event{event}, Cursor: "7"}},
		"fractional sec": {result: Result{Events: []Event{{Channel: "auth", Time: "2025-11-25T10:00:00.123+01:00"}}}},
		"longest name":   {result: Result{Metrics: []Metric{{Name: "users." + strings.Repeat("x", MaxMetricName-6)}}}},
		"other source": {
			result:  Result{Metrics: []Metric{{Name: "cpu.percent", Unit: "percent"}}},
			wantErr: `does not start with "users."`,
		},
		"bare source name": {result: Result{Metrics: []Metric{{Name: "users"}}}, wantErr: "does not start with"},
		"prefix only":      {result: Result{Metrics: []Metric{{Name: "users."}}}, wantErr: "empty part"},
		"double dot":       {result: Result{Metrics: []Metric{{Name: "users..x"}}}, wantErr: "empty part"},
		"upper case":       {result: Result{Metrics: []Metric{{Name: "users.LoggedIn"}}}, wantErr: "other than a-z"},
		"space":            {result: Result{Metrics: []Metric{{Name: "users.logged in"}}}, wantErr: "other than a-z"},
		"too long": {
			result:  Result{Metrics: []Metric{{Name: "users." + strings.Repeat("x", MaxMetricName-5)}}},
			wantErr: "more than the 64 allowed",
		},
		"unknown unit": {result: Result{Metrics: []Metric{{Name: "users.x", Unit: "users"}}}, wantErr: `unit "users"`},
		"rate units":   {result: Result{Metrics: []Metric{{Name: "users.a", Unit: "bytes_per_second"}, {Name: "users.b", Unit: "per_second"}}}},
		"one metric per label": {result: Result{Metrics: []Metric{
			{Name: "users.on_tty", Value: 1, Unit: "count", Labels: map[string]string{"tty": "pts/0"}},
			{Name: "users.on_tty", Value: 2, Unit: "count", Labels: map[string]string{"tty": "pts/1"}},
			{Name: "users.on_tty", Value: 2, Unit: "count"},
		}}},
		"same labels twice": {result: Result{Metrics: []Metric{
			{Name: "users.on_tty", Unit: "count", Labels: map[string]string{"tty": "pts/0", "seat": "1"}},
			{Name: "users.on_tty", Unit: "count", Labels: map[string]string{"seat": "1", "tty": "pts/0"}},
		}}, wantErr: "comes twice with the same labels"},
		"label name":  {result: Result{Metrics: []Metric{{Name: "users.x", Labels: map[string]string{"TTY": "1"}}}}, wantErr: `label name "TTY" is not lower_snake_case`},
		"label value": {result: Result{Metrics: []Metric{{Name: "users.x", Labels: map[string]string{"tty": "\xff"}}}}, wantErr: "not valid UTF-8"},
		"NaN":         {result: Result{Metrics: []Metric{{Name: "users.x", Value: math.NaN()}}}, wantErr: "non-finite"},
		"infinite":    {result: Result{Metrics: []Metric{{Name: "users.x", Value: math.Inf(-1)}}}, wantErr: "non-finite"},
		"event without channel": {
			result:  Result{Events: []Event{{Time: "2025-11-25T10:00:00Z"}}},
			wantErr: "event 0 has no channel",
		},
		"event time before year 0 in UTC": {
			result:  Result{Events: []Event{event, {Channel: "auth", Time: "0000-01-01T00:00:00+01:00"}}},
			wantErr: "event 1 has time \"0000-01-01T00:00:00+01:00\", outside the years",
		},
		"event time after year 9999 in UTC": {
			result:  Result{Events: []Event{{Channel: "auth", Time: "9999-12-31T23:59:59-00:01"}}},
			wantErr: "outside the years 0000 to 9999",
		},
		"event at the zero time": {
			result:  Result{Events: []Event{event, {Channel: "auth", Time: "0001-01-01T00:00:00Z"}}},
			wantErr: "event 1 has time \"0001-01-01T00:00:00Z\", the zero time",
		},
		"event time not RFC 3339": {
			result:  Result{Events: []Event{event, {Channel: "auth", Time: "Nov 25 10:00:00"}}},
			wantErr: "event 1 has time",
		},
		"huge cursor": {result: Result{Cursor: strings.Repeat("c", MaxCursorBytes+1)}, wantErr: "cursor is"},
		"many problems are summed up": {
			result:  Result{Metrics: []Metric{{Name: "a"}, {Name: "b"}, {Name: "c"}, {Name: "d"}, {Name: "e"}}},
			wantErr: "and 2 more problems",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := tc.result.Validate("users")
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate: %v, want valid", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Validate: %v, want an error containing %q", err, tc.wantErr)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans several lines: %q", err)
			}
		})
	}
}
