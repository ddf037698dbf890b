package eventlog

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/cscs-dev/cscs/agent/module"
)

// DefaultChannel is the channel the module reads when its settings name
// none.
const DefaultChannel = "Security"

// Settings are the module's settings (Request.ModuleConfig["eventlog"]), all
// optional:
//
//	{"channel": "Security", "first_window": "24h", "event_ids": [4624, 4625], "max": 500}
type Settings struct {
	// Channel is the event log channel read; "" means DefaultChannel.
	Channel string `json:"channel,omitempty"`
	// FirstWindow is a Go duration ("24h", "90m") bounding the first round;
	// "" means DefaultFirstWindow.
	FirstWindow string `json:"first_window,omitempty"`
	// EventIDs, when not empty, selects only these event ids.
	EventIDs []int `json:"event_ids,omitempty"`
	// Max is the most events one round returns; 0 means DefaultMax.
	Max int `json:"max,omitempty"`
}

// ParseSettings reads raw (nil or "null" means defaults), checks every
// value and returns the channel to read and the options of Read, with
// defaults filled in. Unknown keys are refused so a misspelt setting is
// not silently ignored.
func ParseSettings(raw json.RawMessage) (channel string, opts Options, err error) {
	var s Settings
	if err := module.DecodeSettings(raw, ModuleName, "channel, first_window, event_ids, max", &s); err != nil {
		return "", Options{}, err
	}
	channel, err = checkChannel(s.Channel)
	if err != nil {
		return "", Options{}, err
	}
	opts = Options{EventIDs: s.EventIDs, Max: s.Max}
	if s.FirstWindow != "" {
		if opts.FirstWindow, err = time.ParseDuration(s.FirstWindow); err != nil {
			return "", Options{}, fmt.Errorf("eventlog first_window %q is not a duration such as \"24h\" or \"90m\"", clip(s.FirstWindow))
		}
		if opts.FirstWindow <= 0 {
			return "", Options{}, fmt.Errorf("eventlog first_window %q must be positive", s.FirstWindow)
		}
	}
	if err := opts.Validate(); err != nil {
		return "", Options{}, fmt.Errorf("eventlog settings: %w", err)
	}
	opts = opts.clamped()
	return channel, opts, nil
}

// checkChannel returns name trimmed, DefaultChannel for "", or an error for
// a name no event log channel has.
func checkChannel(name string) (string, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return DefaultChannel, nil
	case len(name) > maxSystemBytes:
		return "", fmt.Errorf("eventlog channel is %d bytes long: at most %d are supported", len(name), maxSystemBytes)
	case !utf8.ValidString(name) || strings.ContainsFunc(name, unicode.IsControl):
		return "", fmt.Errorf("eventlog channel %q holds invalid or control characters", clip(name))
	}
	return name, nil
}
