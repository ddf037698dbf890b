//go:build !linux && !windows

package disk

import (
	"context"
	"strings"

	"github.com/shirou/gopsutil/v4/disk"
)

// hostMounts lists the mounted file systems with gopsutil (getfsstat on
// macOS). A device under /dev is the file system's ID: a volume mounted
// twice is reported once.
func hostMounts(ctx context.Context) ([]Mount, error) {
	parts, err := disk.PartitionsWithContext(ctx, true)
	if err != nil && len(parts) == 0 {
		return nil, err
	}
	return fromPartitions(parts), nil
}

// fromPartitions turns gopsutil's partitions into mounts.
func fromPartitions(parts []disk.PartitionStat) []Mount {
	out := make([]Mount, 0, len(parts))
	for _, p := range parts {
		if p.Mountpoint == "" {
			continue
		}
		m := Mount{Point: p.Mountpoint, Device: p.Device, FSType: p.Fstype}
		if strings.HasPrefix(p.Device, "/dev/") {
			m.ID = p.Device
		}
		out = append(out, m)
	}
	return out
}

// hostStat measures the file system mounted at m with statfs(2).
func hostStat(m Mount) (Usage, error) {
	u, err := disk.UsageWithContext(context.Background(), m.Point)
	if err != nil {
		return Usage{}, err
	}
	return fromUsageStat(u), nil
}

// fromUsageStat turns gopsutil's figures into Usage: on Unix systems its
// Free is f_bavail and its Used total less f_bfree, as df counts them.
func fromUsageStat(u *disk.UsageStat) Usage {
	return Usage{
		TotalBytes: u.Total,
		UsedBytes:  min(u.Used, u.Total),
		FreeBytes:  u.Free,
		Inodes:     u.InodesTotal,
		InodesFree: min(u.InodesFree, u.InodesTotal),
	}
}
