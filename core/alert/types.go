package alert

import (
	"maps"
	"slices"

	"github.com/cscs-dev/cscs/sdk/source"
)

// Type is an alert type a source understands: the <alert type> name, the
// metric it compares and that metric's unit ("percent", "bytes",
// "seconds", "count" or "" for a plain ratio).
type Type struct {
	Name   string
	Metric string
	Unit   string
}

// TypesFrom collects the alert types the sources declare, each with the
// unit of its metric as declared by any of the sources. A metric no source
// declares gets the unit "" and takes plain numbers as limits.
func TypesFrom(descs []source.Description) map[string]Type {
	units := make(map[string]string)
	for _, d := range descs {
		for _, m := range d.Metrics {
			units[m.Name] = m.Unit
		}
	}
	types := make(map[string]Type)
	for _, d := range descs {
		for _, a := range d.AlertTypes {
			types[a.Name] = Type{Name: a.Name, Metric: a.Metric, Unit: units[a.Metric]}
		}
	}
	return types
}

// TypeNames returns the names of types, sorted; config.LoadOptions.AlertTypes
// takes this list.
func TypeNames(types map[string]Type) []string {
	return slices.Sorted(maps.Keys(types))
}
