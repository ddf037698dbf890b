//go:build !linux

package uptime

import (
	"context"
	"time"

	"github.com/shirou/gopsutil/v4/host"
)

// hostReader reads the uptime with gopsutil.
type hostReader struct{}

func (hostReader) Read(ctx context.Context) (time.Duration, error) {
	secs, err := host.UptimeWithContext(ctx)
	if err != nil {
		return 0, err
	}
	return time.Duration(secs) * time.Second, nil
}
