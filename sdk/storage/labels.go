package storage

import (
	"encoding/json"
	"fmt"
	"slices"

	labelset "github.com/cscs-dev/cscs/sdk/internal/labels"
)

// Bounds of a sample's labels, which Validate checks.
const (
	// MaxLabels is the most labels one sample may carry.
	MaxLabels = labelset.Max
	// MaxLabelValueBytes bounds a label's value (a mount point, an
	// interface name).
	MaxLabelValueBytes = labelset.MaxValueBytes
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
// folded into its metric name (FoldedName). The core sends samples folded
// to a storage whose Description does not say it keeps labels. Samples
// without labels are returned as they are; samples itself is not changed.
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
// by name, each value quoted as in Go: `disk.used_percent{device="/dev/sda1",mount="/var"}`;
// metric alone for no labels.
func FoldedName(metric string, labels map[string]string) string {
	return labelset.Folded(metric, labels)
}
