//go:build !linux && !windows

package disk

import (
	"reflect"
	"testing"

	"github.com/shirou/gopsutil/v4/disk"
)

func TestFromPartitions(t *testing.T) {
	got := fromPartitions([]disk.PartitionStat{
		{Device: "/dev/disk3s1s1", Mountpoint: "/", Fstype: "apfs"},
		{Device: "devfs", Mountpoint: "/dev", Fstype: "devfs"},
		{Device: "map auto_home", Mountpoint: "/System/Volumes/Data/home", Fstype: "autofs"},
		{Device: "", Mountpoint: "", Fstype: ""},
	})
	want := []Mount{
		{Point: "/", Device: "/dev/disk3s1s1", FSType: "apfs", ID: "/dev/disk3s1s1"},
		{Point: "/dev", Device: "devfs", FSType: "devfs"},
		{Point: "/System/Volumes/Data/home", Device: "map auto_home", FSType: "autofs"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("fromPartitions = %+v, want %+v", got, want)
	}
}

func TestFromUsageStat(t *testing.T) {
	got := fromUsageStat(&disk.UsageStat{Total: 100, Used: 60, Free: 30, InodesTotal: 10, InodesFree: 12})
	if want := (Usage{TotalBytes: 100, UsedBytes: 60, FreeBytes: 30, Inodes: 10, InodesFree: 10}); got != want {
		t.Fatalf("fromUsageStat = %+v, want %+v", got, want)
	}
}
