package rate

import (
	"encoding/json"
	"testing"
)

// roundTrip passes totals through JSON, as the state keeps them.
func roundTrip(t *testing.T, totals map[string]Counter) map[string]Counter {
	t.Helper()
	b, err := json.Marshal(totals)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]Counter
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}
