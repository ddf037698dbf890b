package disk

import (
	"context"
	"errors"
	"strings"

	"github.com/shirou/gopsutil/v4/disk"
	"golang.org/x/sys/windows"
)

// hostMounts lists the drive letters ("C:") and the volumes mounted in
// folders with gopsutil, less CD-ROM drives and drives without a medium.
func hostMounts(ctx context.Context) ([]Mount, error) {
	parts, err := disk.PartitionsWithContext(ctx, true)
	if err != nil && len(parts) == 0 {
		return nil, err // besides the list, gopsutil returns warnings
	}
	var out []Mount
	for _, p := range parts {
		if p.Mountpoint == "" || driveType(p.Mountpoint) == windows.DRIVE_CDROM {
			continue
		}
		out = append(out, fromPartition(p))
	}
	return out, nil
}

// fromPartition turns one of gopsutil's partitions into a mount: the
// mount point without a trailing backslash.
func fromPartition(p disk.PartitionStat) Mount {
	return Mount{Point: cleanPoint(p.Mountpoint), Device: cleanPoint(p.Device), FSType: p.Fstype}
}

// driveType is GetDriveTypeW of the root of point.
func driveType(point string) uint32 {
	root, err := windows.UTF16PtrFromString(strings.TrimRight(point, `\`) + `\`)
	if err != nil {
		return windows.DRIVE_UNKNOWN
	}
	return windows.GetDriveType(root)
}

// hostStat measures the volume mounted at m with GetDiskFreeSpaceExW;
// Windows has no inode count.
func hostStat(m Mount) (Usage, error) {
	p, err := windows.UTF16PtrFromString(strings.TrimRight(m.Point, `\`) + `\`)
	if err != nil {
		return Usage{}, err
	}
	var avail, total, free uint64
	if err := windows.GetDiskFreeSpaceEx(p, &avail, &total, &free); err != nil {
		if errors.Is(err, windows.ERROR_NOT_READY) {
			return Usage{}, errNoMedium
		}
		return Usage{}, err
	}
	return fromFreeSpace(avail, total, free), nil
}
