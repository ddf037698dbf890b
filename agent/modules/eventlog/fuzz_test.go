package eventlog

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzParseSettings parses fuzzed module settings (from an operator's
// overlay, through the core). Properties: no panic; a channel and options
// or an error; an error is valid UTF-8 without control characters (the
// agent's protocol.ErrorText makes it fit a report); accepted options
// pass Validate, with a channel of clean text and event ids sorted,
// unique, in range.
func FuzzParseSettings(f *testing.F) {
	for _, s := range []string{"", "null", `{}`, `{"channel": "Security", "first_window": "24h", "event_ids": [4624, 4625], "max": 500}`,
		`{"channel":"Microsoft-Windows-Sysmon/Operational","event_ids":[70000,-1,1,1]}`, `{"first_window":"-1h"}`,
		`{"max":5001}`, `{"chanel":"x"}`, `{} {}`, `{"channel":"\u0007\ufffd"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		channel, opts, err := ParseSettings(raw)
		if err != nil {
			if msg := err.Error(); !utf8.ValidString(msg) || strings.ContainsFunc(msg, unicode.IsControl) {
				t.Errorf("error is not UTF-8 text without control characters: %q", msg)
			}
			return
		}
		if channel == "" || !utf8.ValidString(channel) || strings.ContainsFunc(channel, unicode.IsControl) || len(channel) > maxSystemBytes {
			t.Errorf("channel %q accepted", channel)
		}
		if err := opts.Validate(); err != nil || opts.FirstWindow <= 0 || opts.Max <= 0 {
			t.Errorf("options %+v accepted: %v", opts, err)
		}
		for i, id := range opts.EventIDs {
			if i > 0 && opts.EventIDs[i-1] >= id {
				t.Errorf("event ids %v not sorted and unique", opts.EventIDs)
			}
		}
	})
}
