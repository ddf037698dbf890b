package uptime

import (
	"context"
	"time"

	"github.com/cscs-dev/cscs/agent/internal/procfs"
)

// hostReader reads the time since boot from /proc/uptime, in whole seconds
// as sysinfo(2) (and so earlier agents) gave it.
type hostReader struct{}

func (hostReader) Read(context.Context) (time.Duration, error) {
	d, err := procfs.Read(procfs.UptimePath, procfs.ParseUptime)
	return d.Truncate(time.Second), err
}
