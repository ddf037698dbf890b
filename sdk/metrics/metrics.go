// Package metrics declares, once, the metrics of the built-in sources: the
// agent's built-in modules report them under these names and units, and
// the built-in source plugins describe them to the core from this table.
// It imports nothing, so the agent reads it without growing.
package metrics

// Units a metric is measured in.
const (
	Percent = "percent"
	Bytes   = "bytes"
	Seconds = "seconds"
	Count   = "count"
	// Ratio is a plain number, such as a load average.
	Ratio = ""
)

// Names of the built-in metrics: the module's name, a dot, and what is
// measured, lower_snake_case.
const (
	CPUPercent        = "cpu.percent"
	CPUCount          = "cpu.count"
	MemoryUsedPercent = "memory.used_percent"
	MemoryTotalBytes  = "memory.total_bytes"
	MemoryUsedBytes   = "memory.used_bytes"
	MemoryAvailBytes  = "memory.available_bytes"
	SwapUsedPercent   = "swap.used_percent"
	SwapTotalBytes    = "swap.total_bytes"
	SwapUsedBytes     = "swap.used_bytes"
	UptimeSeconds     = "uptime.seconds"
	Load1             = "load.1"
	Load5             = "load.5"
	Load15            = "load.15"
	// AuthlogOwnLines counts the auth log records of the collector's own
	// SSH sessions that the authlog module left out of its events.
	AuthlogOwnLines = "authlog.own_session_lines"
)

// Metric is one row of the table.
type Metric struct {
	// Module is the agent's built-in module that measures it, and the name
	// of the built-in source that declares it.
	Module      string
	Name        string
	Unit        string
	Description string
}

// Table returns every built-in metric, module by module, in a fresh slice.
func Table() []Metric {
	return []Metric{
		{"cpu", CPUPercent, Percent, "share of time all logical CPUs together were busy during the sampling window"},
		{"cpu", CPUCount, Count, "number of logical CPUs"},
		{"memory", MemoryUsedPercent, Percent, "share of physical memory in use"},
		{"memory", MemoryTotalBytes, Bytes, "physical memory installed"},
		{"memory", MemoryUsedBytes, Bytes, "physical memory in use"},
		{"memory", MemoryAvailBytes, Bytes, "memory available to new programs without swapping"},
		{"swap", SwapUsedPercent, Percent, "share of swap space in use; 0 on a host without swap"},
		{"swap", SwapTotalBytes, Bytes, "swap space configured"},
		{"swap", SwapUsedBytes, Bytes, "swap space in use"},
		{"uptime", UptimeSeconds, Seconds, "time since the host booted"},
		{"load", Load1, Ratio, "average number of runnable (and, on Linux, uninterruptible) tasks over 1 minute"},
		{"load", Load5, Ratio, "the same average over 5 minutes"},
		{"load", Load15, Ratio, "the same average over 15 minutes"},
		{"authlog", AuthlogOwnLines, Count, "auth log records of the collector's own SSH sessions (this round's and the last round's) left out of the round's events"},
	}
}

// Of returns the metrics of the built-in module named module, in the
// table's order; none for a module without metrics.
func Of(module string) []Metric {
	var out []Metric
	for _, m := range Table() {
		if m.Module == module {
			out = append(out, m)
		}
	}
	return out
}

// Unit returns the unit of the built-in metric name; ok is false for a
// name the table does not hold.
func Unit(name string) (unit string, ok bool) {
	for _, m := range Table() {
		if m.Name == name {
			return m.Unit, true
		}
	}
	return "", false
}
