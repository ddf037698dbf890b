package storage

import (
	"strconv"
	"testing"
	"time"
)

// FuzzParseAge parses fuzzed ages (retention and prune settings an
// operator writes). Properties: no panic; an age or an error; an age is
// positive; Go's own spelling of it, and for whole days of at most
// maxAgeDays the spelling in days, parse to the same age.
func FuzzParseAge(f *testing.F) {
	for _, s := range []string{"90d", "36h", "1h30m", " 7d ", "0d", "-1h", "36600d", "36601d", "+5d", "1e3d", "2562047h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseAge(s)
		if err != nil {
			if d != 0 {
				t.Errorf("age %v with error %v", d, err)
			}
			return
		}
		if d <= 0 {
			t.Errorf("ParseAge(%q) = %v, not positive", s, d)
		}
		if again, err := ParseAge(d.String()); err != nil || again != d {
			t.Errorf("ParseAge(%q) = %v, but ParseAge(%q) = %v, %v", s, d, d.String(), again, err)
		}
		if day := 24 * time.Hour; d%day == 0 && d/day <= maxAgeDays {
			inDays := strconv.FormatInt(int64(d/day), 10) + "d"
			if again, err := ParseAge(inDays); err != nil || again != d {
				t.Errorf("ParseAge(%q) = %v, but ParseAge(%q) = %v, %v", s, d, inDays, again, err)
			}
		}
	})
}
