package module

import (
	"testing"
	"time"
)

func TestCPUSampleOrDefault(t *testing.T) {
	tests := map[string]struct {
		in   time.Duration
		want time.Duration
	}{
		"unset":    {in: 0, want: DefaultCPUSample},
		"negative": {in: -time.Second, want: DefaultCPUSample},
		"set":      {in: 250 * time.Millisecond, want: 250 * time.Millisecond},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := (Config{CPUSample: tc.in}).CPUSampleOrDefault(); got != tc.want {
				t.Fatalf("CPUSampleOrDefault() = %v, want %v", got, tc.want)
			}
		})
	}
}
