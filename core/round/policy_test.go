package round

import (
	"encoding/json"
	"testing"
)

func TestHostPolicyFlagSettingsWin(t *testing.T) {
	tests := map[string]struct {
		group, flag, want string
	}{
		"flag replaces a key":   {`{"file":"/g.log","max_events":10}`, `{"file":"/flag.log"}`, `{"file":"/flag.log","max_events":10}`},
		"no flag":               {`{"max_events":10}`, ``, `{"max_events":10}`},
		"flag into empty group": {`{}`, `{"file":"/flag.log"}`, `{"file":"/flag.log"}`},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := mergeObjects(json.RawMessage(tt.group), json.RawMessage(tt.flag))
			if err != nil || string(got) != tt.want {
				t.Errorf("mergeObjects(%s, %s) = %s, %v; want %s", tt.group, tt.flag, got, err, tt.want)
			}
		})
	}
}
