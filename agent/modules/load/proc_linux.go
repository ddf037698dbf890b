package load

import (
	"context"

	"github.com/cscs-dev/cscs/agent/internal/procfs"
)

// hostReader reads load averages from /proc/loadavg.
type hostReader struct{}

func (hostReader) Read(context.Context) (Averages, error) {
	l, err := procfs.Read(procfs.LoadavgPath, procfs.ParseLoadavg)
	if err != nil {
		return Averages{}, err
	}
	return Averages{One: l.One, Five: l.Five, Fifteen: l.Fifteen}, nil
}
