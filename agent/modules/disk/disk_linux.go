package disk

import (
	"context"
	"os"
	"syscall"
)

// hostMounts lists the mounts of /proc/self/mountinfo.
func hostMounts(context.Context) ([]Mount, error) {
	b, err := os.ReadFile(mountinfoPath)
	if err != nil {
		return nil, err
	}
	return parseMountinfo(b)
}

// hostStat measures the file system mounted at m with statfs(2). Block
// counts are in fragment size units (f_frsize), as df counts them.
func hostStat(m Mount) (Usage, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(m.Point, &st); err != nil {
		return Usage{}, err
	}
	size := uint64(st.Frsize)
	if size == 0 {
		size = uint64(st.Bsize)
	}
	return fromStatfs(uint64(st.Blocks), uint64(st.Bfree), uint64(st.Bavail), size, uint64(st.Files), uint64(st.Ffree)), nil
}
