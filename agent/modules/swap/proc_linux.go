package swap

import (
	"context"

	"github.com/cscs-dev/cscs/agent/internal/procfs"
)

// hostReader reads swap figures from /proc/meminfo.
type hostReader struct{}

func (hostReader) Read(context.Context) (Stats, error) {
	m, err := procfs.Read(procfs.MeminfoPath, procfs.ParseMeminfo)
	if err != nil {
		return Stats{}, err
	}
	return fromMeminfo(m), nil
}
