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
	// BytesPerSecond and PerSecond are rates the core computes from a
	// counter (see Metric.Counter): bytes, and events (packets, errors),
	// per second.
	BytesPerSecond = "bytes_per_second"
	PerSecond      = "per_second"
)

// Units returns every unit a metric may be measured in.
func Units() []string {
	return []string{Percent, Bytes, Seconds, Count, Ratio, BytesPerSecond, PerSecond}
}

// Labels that tell the samples of one metric apart on a host.
const (
	// LabelMount is a file system's mount point ("/", "/var", "C:").
	LabelMount = "mount"
	// LabelDevice is the device a file system is on ("/dev/sda1").
	LabelDevice = "device"
	// LabelFSType is a file system's type ("ext4", "xfs", "NTFS").
	LabelFSType = "fstype"
	// LabelInterface is a network interface's name ("eth0").
	LabelInterface = "interface"
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

	// Per mounted file system, labelled LabelMount, LabelDevice and
	// LabelFSType.
	DiskTotalBytes        = "disk.total_bytes"
	DiskUsedBytes         = "disk.used_bytes"
	DiskFreeBytes         = "disk.free_bytes"
	DiskUsedPercent       = "disk.used_percent"
	DiskInodesUsedPercent = "disk.inodes_used_percent"

	// Per network interface, labelled LabelInterface. The agent reports
	// each as its counter (Metric.Counter); the core stores the rate.
	NetRxBytesPerSecond   = "net.rx_bytes_per_second"
	NetTxBytesPerSecond   = "net.tx_bytes_per_second"
	NetRxPacketsPerSecond = "net.rx_packets_per_second"
	NetTxPacketsPerSecond = "net.tx_packets_per_second"
	NetRxErrorsPerSecond  = "net.rx_errors_per_second"
	NetTxErrorsPerSecond  = "net.tx_errors_per_second"
	NetRxDropsPerSecond   = "net.rx_drops_per_second"
	NetTxDropsPerSecond   = "net.tx_drops_per_second"
)

// Metric is one row of the table.
type Metric struct {
	// Module is the agent's built-in module that measures it, and the name
	// of the built-in source that declares it.
	Module      string
	Name        string
	Unit        string
	Description string
	// Labels are the label names each sample of the metric carries, the
	// first one naming the sample on its host (a mount point, an
	// interface); none for a metric with one value per host.
	Labels []string
	// Counter says the agent reports the counter's running total and the
	// core stores its rate per second, from the total it kept from the
	// host's previous round.
	Counter bool
}

// Table returns every built-in metric, module by module, in a fresh slice.
func Table() []Metric {
	disk := []string{LabelMount, LabelDevice, LabelFSType}
	net := []string{LabelInterface}
	return []Metric{
		{Module: "cpu", Name: CPUPercent, Unit: Percent, Description: "share of time all logical CPUs together were busy during the sampling window"},
		{Module: "cpu", Name: CPUCount, Unit: Count, Description: "number of logical CPUs"},
		{Module: "memory", Name: MemoryUsedPercent, Unit: Percent, Description: "share of physical memory in use"},
		{Module: "memory", Name: MemoryTotalBytes, Unit: Bytes, Description: "physical memory installed"},
		{Module: "memory", Name: MemoryUsedBytes, Unit: Bytes, Description: "physical memory in use"},
		{Module: "memory", Name: MemoryAvailBytes, Unit: Bytes, Description: "memory available to new programs without swapping"},
		{Module: "swap", Name: SwapUsedPercent, Unit: Percent, Description: "share of swap space in use; 0 on a host without swap"},
		{Module: "swap", Name: SwapTotalBytes, Unit: Bytes, Description: "swap space configured"},
		{Module: "swap", Name: SwapUsedBytes, Unit: Bytes, Description: "swap space in use"},
		{Module: "uptime", Name: UptimeSeconds, Unit: Seconds, Description: "time since the host booted"},
		{Module: "load", Name: Load1, Unit: Ratio, Description: "average number of runnable (and, on Linux, uninterruptible) tasks over 1 minute"},
		{Module: "load", Name: Load5, Unit: Ratio, Description: "the same average over 5 minutes"},
		{Module: "load", Name: Load15, Unit: Ratio, Description: "the same average over 15 minutes"},
		{Module: "authlog", Name: AuthlogOwnLines, Unit: Count, Description: "auth log records of the collector's own SSH sessions (this round's and the last round's) left out of the round's events"},
		{Module: "disk", Name: DiskUsedPercent, Unit: Percent, Labels: disk, Description: "share of the file system's space in use, of what unprivileged users can use (as df shows it)"},
		{Module: "disk", Name: DiskTotalBytes, Unit: Bytes, Labels: disk, Description: "size of the file system"},
		{Module: "disk", Name: DiskUsedBytes, Unit: Bytes, Labels: disk, Description: "space in use"},
		{Module: "disk", Name: DiskFreeBytes, Unit: Bytes, Labels: disk, Description: "space free for unprivileged users (without the blocks reserved for root)"},
		{Module: "disk", Name: DiskInodesUsedPercent, Unit: Percent, Labels: disk, Description: "share of the file system's inodes in use; absent where the file system has no fixed inode count"},
		{Module: "net", Name: NetRxBytesPerSecond, Unit: BytesPerSecond, Labels: net, Counter: true, Description: "bytes received per second since the previous round"},
		{Module: "net", Name: NetTxBytesPerSecond, Unit: BytesPerSecond, Labels: net, Counter: true, Description: "bytes sent per second since the previous round"},
		{Module: "net", Name: NetRxPacketsPerSecond, Unit: PerSecond, Labels: net, Counter: true, Description: "packets received per second"},
		{Module: "net", Name: NetTxPacketsPerSecond, Unit: PerSecond, Labels: net, Counter: true, Description: "packets sent per second"},
		{Module: "net", Name: NetRxErrorsPerSecond, Unit: PerSecond, Labels: net, Counter: true, Description: "receive errors per second"},
		{Module: "net", Name: NetTxErrorsPerSecond, Unit: PerSecond, Labels: net, Counter: true, Description: "transmit errors per second"},
		{Module: "net", Name: NetRxDropsPerSecond, Unit: PerSecond, Labels: net, Counter: true, Description: "received packets dropped per second"},
		{Module: "net", Name: NetTxDropsPerSecond, Unit: PerSecond, Labels: net, Counter: true, Description: "packets to send dropped per second"},
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
	m, ok := Lookup(name)
	return m.Unit, ok
}

// Lookup returns the row of the built-in metric name; ok is false for a
// name the table does not hold.
func Lookup(name string) (m Metric, ok bool) {
	for _, m := range Table() {
		if m.Name == name {
			return m, true
		}
	}
	return Metric{}, false
}
