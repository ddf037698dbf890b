package eventlog

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseSettings(t *testing.T) {
	defaults := Options{FirstWindow: 24 * time.Hour, Max: 500, EventIDs: []int{}}
	tests := map[string]struct {
		raw         string
		wantChannel string
		wantOpts    Options
		wantErr     string
	}{
		"no settings":   {raw: "", wantChannel: "Security", wantOpts: defaults},
		"null":          {raw: "null", wantChannel: "Security", wantOpts: defaults},
		"empty object":  {raw: "{}", wantChannel: "Security", wantOpts: defaults},
		"all settings":  {raw: `{"channel": "System", "first_window": "90m", "event_ids": [4625, 4624, 4625], "max": 50}`, wantChannel: "System", wantOpts: Options{FirstWindow: 90 * time.Minute, Max: 50, EventIDs: []int{4624, 4625}}},
		"channel path":  {raw: `{"channel": " Microsoft-Windows-Sysmon/Operational "}`, wantChannel: "Microsoft-Windows-Sysmon/Operational", wantOpts: defaults},
		"largest":       {raw: `{"first_window": "8784h", "max": 5000}`, wantChannel: "Security", wantOpts: Options{FirstWindow: MaxFirstWindow, Max: MaxMax, EventIDs: []int{}}},
		"not json":      {raw: `{"channel": `, wantErr: "eventlog settings are not valid"},
		"wrong type":    {raw: `{"max": "500"}`, wantErr: "eventlog settings are not valid"},
		"unknown key":   {raw: `{"event_id": [4624]}`, wantErr: `unknown field "event_id"`},
		"two values":    {raw: `{} {}`, wantErr: "more than one JSON value"},
		"window number": {raw: `{"first_window": 24}`, wantErr: "eventlog settings are not valid"},
		"bad window":    {raw: `{"first_window": "a day"}`, wantErr: `first_window "a day" is not a duration`},
		"zero window":   {raw: `{"first_window": "0s"}`, wantErr: "must be positive"},
		"negative":      {raw: `{"first_window": "-1h"}`, wantErr: "must be positive"},
		"window large":  {raw: `{"first_window": "8785h"}`, wantErr: "first window 8785h0m0s is out of range"},
		"max negative":  {raw: `{"max": -1}`, wantErr: "max -1 is out of range"},
		"max large":     {raw: `{"max": 5001}`, wantErr: "max 5001 is out of range"},
		"id negative":   {raw: `{"event_ids": [-1]}`, wantErr: "event id -1 is out of range"},
		"id large":      {raw: `{"event_ids": [65536]}`, wantErr: "event id 65536 is out of range"},
		"too many ids":  {raw: `{"event_ids": [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17]}`, wantErr: "17 event ids listed"},
		"long channel":  {raw: `{"channel": "` + strings.Repeat("a", 257) + `"}`, wantErr: "channel is 257 bytes long"},
		"control char":  {raw: `{"channel": "Secu\u0007rity"}`, wantErr: "invalid or control characters"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			channel, opts, err := ParseSettings(json.RawMessage(tc.raw))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseSettings error = %v, want one containing %q", err, tc.wantErr)
				}
				if !strings.HasPrefix(err.Error(), "eventlog ") {
					t.Errorf("error %q does not name the module", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseSettings: %v", err)
			}
			if channel != tc.wantChannel {
				t.Errorf("channel = %q, want %q", channel, tc.wantChannel)
			}
			if opts.FirstWindow != tc.wantOpts.FirstWindow || opts.Max != tc.wantOpts.Max || !slices.Equal(opts.EventIDs, tc.wantOpts.EventIDs) {
				t.Errorf("options = %+v, want %+v", opts, tc.wantOpts)
			}
		})
	}
}
