package alert

import (
	"maps"
	"slices"
	"strings"

	"github.com/cscs-dev/cscs/sdk/storage"
)

// GoneText is what a mail and the storages say of a rule on one labelled
// sample (a file system, an interface) that fired and that the host no
// longer reports, while it still reports others of the metric.
const GoneText = "no longer reported by the host"

// identityLabels are the labels that name a sample in a few words, in
// order of preference: a file system by its mount point, an interface by
// its name.
var identityLabels = [...]string{"mount", "interface"}

// ForSeries returns rules with every rule on a metric the round has
// labelled samples of (one per file system, one per interface) replaced
// by one rule per sample: its ID is the rule's ID followed by the labels
// (`disk>90{device="/dev/sda1",fstype="ext4",mount="/"}`), so each file
// system keeps its own state, and Labels holds them. A rule whose metric
// has no labelled sample this round (the metric has one value per host,
// or the host reported none of it) is kept as it is. An expression rule
// is replaced by the samples of the first labelled metric its condition
// names (see MetricLister); each is evaluated with that sample's labels
// (see HostInfo.Labels) and with every metric of the same labels in place
// of the metric itself.
func ForSeries(rules []Rule, samples []storage.Sample) []Rule {
	labelled := make(map[string][]map[string]string)
	seen := make(map[string]bool)
	for _, s := range samples {
		if len(s.Labels) == 0 {
			continue
		}
		key := storage.FoldedName(s.Metric, s.Labels)
		if seen[key] {
			continue
		}
		seen[key] = true
		labelled[s.Metric] = append(labelled[s.Metric], s.Labels)
	}
	if len(labelled) == 0 {
		return rules
	}
	out := make([]Rule, 0, len(rules))
	for _, r := range rules {
		sets := labelled[r.Metric]
		if m, ok := r.Cond.(MetricLister); ok {
			for _, name := range m.Metrics() {
				if len(labelled[name]) > 0 {
					sets = labelled[name]
					break
				}
			}
		}
		if r.IsDown() || len(sets) == 0 {
			out = append(out, r)
			continue
		}
		for _, labels := range sets {
			inst := r
			inst.ID = r.ID + labelSuffix(labels)
			inst.Labels = labels
			out = append(out, inst)
		}
	}
	return out
}

// MetricLister is a Condition that names the metrics it reads, in order.
type MetricLister interface {
	Metrics() []string
}

// SeriesMetric is the name the rule's samples and recent values are kept
// under: the metric, followed by the labels for a rule on one labelled
// sample (see storage.FoldedName).
func (r Rule) SeriesMetric() string { return storage.FoldedName(r.Metric, r.Labels) }

// labelSuffix is labels as they follow a metric name: `{mount="/"}`.
func labelSuffix(labels map[string]string) string { return storage.FoldedName("", labels) }

// baseID is the ID of the rule a rule ID on one labelled sample was made
// from, and whether id is one.
func baseID(id string) (string, bool) {
	i := strings.IndexByte(id, '{')
	if i <= 0 || !strings.HasSuffix(id, "}") {
		return id, false
	}
	return id[:i], true
}

// seriesView is samples as a rule on one labelled sample sees them: each
// metric of the rule's labels under its plain name.
func seriesView(samples map[string]float64, labels map[string]string) map[string]float64 {
	suffix := labelSuffix(labels)
	view := make(map[string]float64, len(samples))
	maps.Copy(view, samples)
	for k, v := range samples {
		if base, ok := strings.CutSuffix(k, suffix); ok && base != "" && !strings.Contains(base, "{") {
			view[base] = v
		}
	}
	return view
}

// SeriesLabel names the sample of labels in a few words for a mail: the
// mount point or interface name, else every label as name=value.
func SeriesLabel(labels map[string]string) string {
	for _, k := range identityLabels {
		if v, ok := labels[k]; ok {
			return cleanText(v, maxFieldLen)
		}
	}
	return LabelsText(labels)
}

// LabelsText is every label as name=value, the naming ones (mount,
// interface) first, then the others by name.
func LabelsText(labels map[string]string) string {
	names := slices.Sorted(maps.Keys(labels))
	slices.SortStableFunc(names, func(a, b string) int {
		return boolRank(slices.Contains(identityLabels[:], b)) - boolRank(slices.Contains(identityLabels[:], a))
	})
	parts := make([]string, len(names))
	for i, k := range names {
		parts[i] = cleanText(k, maxFieldLen) + "=" + cleanText(labels[k], maxFieldLen)
	}
	return strings.Join(parts, " ")
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}
