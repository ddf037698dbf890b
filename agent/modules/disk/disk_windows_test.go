package disk

import (
	"testing"

	"github.com/shirou/gopsutil/v4/disk"
)

func TestFromPartition(t *testing.T) {
	for _, tc := range []struct {
		in   disk.PartitionStat
		want Mount
	}{
		{disk.PartitionStat{Device: "C:", Mountpoint: "C:", Fstype: "NTFS"}, Mount{Point: "C:", Device: "C:", FSType: "NTFS"}},
		{disk.PartitionStat{Device: `C:\mnt\vol\`, Mountpoint: `C:\mnt\vol\`, Fstype: "ReFS"}, Mount{Point: `C:\mnt\vol`, Device: `C:\mnt\vol`, FSType: "ReFS"}},
	} {
		if got := fromPartition(tc.in); got != tc.want {
			t.Errorf("fromPartition(%+v) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}
