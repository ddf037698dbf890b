package storage

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Bounds of a sample's labels, which Validate checks.
const (
	// MaxLabels is the most labels one sample may carry.
	MaxLabels = 8
	// MaxLabelValueBytes bounds a label's value (a mount point, an
	// interface name).
	MaxLabelValueBytes = 1024
)

// LabelsText is labels as the SQL storages keep them: a JSON object with
// its keys sorted, "{}" for none. Two samples have the same labels when
// their texts are equal.
func LabelsText(labels map[string]string) string {
	if len(labels) == 0 {
		return "{}"
	}
	b, err := json.Marshal(labels) // encoding/json sorts map keys
	if err != nil {
		// A map of strings always encodes; keep the signature simple.
		panic(fmt.Sprintf("storage: encode labels: %v", err))
	}
	return string(b)
}

// FoldLabels returns samples with the labels of each labelled sample
// folded into its metric name, sorted by label name:
// `disk.used_percent{device="/dev/sda1",mount="/var"}`. The core sends
// samples folded to a storage whose Description does not say it keeps
// labels. Samples without labels are returned as they are; samples itself
// is not changed.
func FoldLabels(samples []Sample) []Sample {
	if !slices.ContainsFunc(samples, func(s Sample) bool { return len(s.Labels) > 0 }) {
		return samples
	}
	out := make([]Sample, len(samples))
	for i, s := range samples {
		if len(s.Labels) > 0 {
			s.Metric = FoldedName(s.Metric, s.Labels)
			s.Labels = nil
		}
		out[i] = s
	}
	return out
}

// FoldedName is metric with labels appended as {name="value",...}, sorted
// by name, each value quoted as in Go; metric alone for no labels.
func FoldedName(metric string, labels map[string]string) string {
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

// validateLabels checks one sample's labels: at most MaxLabels, names
// lower_snake_case, values UTF-8 of at most MaxLabelValueBytes.
func validateLabels(labels map[string]string) error {
	if len(labels) > MaxLabels {
		return fmt.Errorf("%d labels; at most %d are allowed", len(labels), MaxLabels)
	}
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		v := labels[k]
		switch {
		case !snakeCase(k):
			return fmt.Errorf("label name %q is not lower_snake_case (a-z, 0-9 and _, starting with a letter)", k)
		case !utf8.ValidString(v):
			return fmt.Errorf("label %s: the value is not valid UTF-8", k)
		case len(v) > MaxLabelValueBytes:
			return fmt.Errorf("label %s: the value is %d bytes long; at most %d are allowed", k, len(v), MaxLabelValueBytes)
		}
	}
	return nil
}

func snakeCase(name string) bool {
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z':
		case i > 0 && (c >= '0' && c <= '9' || c == '_'):
		default:
			return false
		}
	}
	return name != "" && len(name) <= 64
}
