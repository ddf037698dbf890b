package storage

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// maxAgeDays bounds an age given in days, far beyond any useful retention,
// so that the conversion to a time.Duration cannot overflow.
const maxAgeDays = 100 * 366

// ParseAge reads an age such as a retention period or a prune cutoff: a
// whole number of days with a "d" suffix ("90d"), or a Go duration
// ("36h", "1h30m"). The age must be positive.
func ParseAge(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New(`age is empty; write a number of days such as "90d" or a duration such as "36h"`)
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n <= 0 || n > maxAgeDays {
			return 0, fmt.Errorf(`age %q: want a whole number of days from 1 to %d followed by "d", such as "90d"`, s, maxAgeDays)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf(`age %q: want a number of days such as "90d" or a duration such as "36h"`, s)
	}
	if d <= 0 {
		return 0, fmt.Errorf("age %q: want a positive age", s)
	}
	return d, nil
}
