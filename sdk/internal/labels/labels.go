// Package labels checks and names the labels of a metric's values, for the
// storage contract and the agent-module protocol alike. It imports only
// the standard library and package names: the agent links it.
package labels

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/cscs-dev/cscs/sdk/internal/names"
)

// Bounds of one value's labels.
const (
	// Max is the most labels one value may carry.
	Max = 8
	// MaxValueBytes bounds a label's value (a mount point, an interface).
	MaxValueBytes = 1024
	// maxNameBytes bounds a label's name.
	maxNameBytes = 64
)

// Check returns what is wrong with labels: more than Max, a name that is
// not lower_snake_case, a value that is not UTF-8 or longer than
// MaxValueBytes. The first problem in name order is reported.
func Check(labels map[string]string) error {
	if len(labels) > Max {
		return fmt.Errorf("%d labels; at most %d are allowed", len(labels), Max)
	}
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		v := labels[k]
		switch {
		case !validName(k):
			return fmt.Errorf("label name %q is not lower_snake_case (a-z, 0-9 and _, starting with a letter, at most %d bytes)", clip(k), maxNameBytes)
		case !utf8.ValidString(v):
			return fmt.Errorf("label %s: the value is not valid UTF-8", k)
		case len(v) > MaxValueBytes:
			return fmt.Errorf("label %s: the value is %d bytes long; at most %d are allowed", k, len(v), MaxValueBytes)
		}
	}
	return nil
}

// Folded is metric with labels appended as {name="value",...}, sorted by
// name, each value quoted as in Go; metric alone for no labels. Two values
// of a metric have the same labels when their folded names are equal.
func Folded(metric string, labels map[string]string) string {
	if len(labels) == 0 {
		return metric
	}
	var b strings.Builder
	b.WriteString(metric)
	b.WriteByte('{')
	for i, k := range slices.Sorted(maps.Keys(labels)) {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(strconv.Quote(labels[k]))
	}
	b.WriteByte('}')
	return b.String()
}

func validName(name string) bool {
	return names.IsSnakeCase(name) && len(name) <= maxNameBytes
}

// clip shortens a name before it is quoted in an error.
func clip(s string) string {
	const max = 80
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}
