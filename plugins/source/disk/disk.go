// Package disk is the built-in source of the space and inodes of a host's
// mounted file systems, measured by the agent's disk module on Linux,
// macOS and Windows. Each metric has one sample per file system, labelled
// mount ("/", "/var", "C:"), device ("/dev/sda1", "server:/export", "C:")
// and fstype ("ext4", "apfs", "NTFS").
//
// Figures are df's: used is the total less the free blocks, free is what
// unprivileged users may still use, and used_percent is used / (used +
// free). disk.inodes_used_percent is absent where the file system has no
// fixed inode count (btrfs, vfat, every Windows volume).
//
// By default the module measures every file system but pseudo,
// memory-backed and read-only image ones (proc, sysfs, tmpfs, overlay,
// squashfs, ...), macOS's helper volumes under /System/Volumes other than
// Data, CD-ROM drives and file systems of size 0; a device mounted at
// several points (bind mounts) is reported once, at its shortest point.
// A file system that cannot be measured within 2 seconds (a hung network
// mount) is left out of the round; the module fails only when no file
// system could be measured.
//
// The module's settings, all optional, are
//
//	{"mounts": ["/", "/var"], "types": ["ext4", "xfs"], "exclude_mounts": ["/mnt/backup"]}
//
// The agent's module checks them and refuses unknown keys; this package
// only declares them (the plugins may not import the agent, and a test
// keeps the two in step).
package disk

import (
	"github.com/cscs-dev/cscs/plugins/source/agentbuiltin"
	"github.com/cscs-dev/cscs/sdk/metrics"
	"github.com/cscs-dev/cscs/sdk/schema"
)

// Name is the source's name and the name of the agent module measuring it.
const Name = "disk"

// New returns the disk source reporting version.
func New(version string) *agentbuiltin.Source {
	return agentbuiltin.NewMeteredWithSettings(Name, version, metrics.DiskUsedPercent, settingsSchema(), "linux/*", "darwin/*", "windows/*")
}

// settingsSchema declares the settings of the agent's disk module.
func settingsSchema() schema.Schema {
	return schema.Schema{Attributes: []schema.Attribute{
		{Name: "mounts", Type: schema.ListOfString,
			Description: `report only the file systems mounted at these points (such as ["/", "/var"] or ["C:"]), whatever their type or size, at most 64; a point not mounted is left out`},
		{Name: "types", Type: schema.ListOfString,
			Description: `report only file systems of these types (such as ["ext4", "xfs"] or ["NTFS"], without regard to case), at most 64; replaces the default exclusion of pseudo and image file systems`},
		{Name: "exclude_mounts", Type: schema.ListOfString,
			Description: `leave out the file systems mounted at these points (such as ["/mnt/backup"]), at most 64`},
	}}
}
