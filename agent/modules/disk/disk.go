// Package disk is the agent module measuring the space and inodes of the
// host's mounted file systems: one labelled set of samples per file system
// (labels mount, device and fstype; metrics disk.total_bytes,
// disk.used_bytes, disk.free_bytes, disk.used_percent and, where the file
// system has a fixed inode count, disk.inodes_used_percent).
//
// Figures are those of df: used is total less the free blocks, free is
// what unprivileged users may still use (without the blocks reserved for
// root), and used_percent is used / (used + free) * 100, so a file system
// whose users can write nothing more is at 100%.
//
// Where the mounts come from:
//
//   - Linux: /proc/self/mountinfo, each mount measured with statfs(2) (the
//     standard library only: the Linux agent stays small).
//   - macOS: gopsutil (getfsstat and statfs).
//   - Windows: the drive letters and the volumes mounted in folders that
//     gopsutil lists, each measured with GetDiskFreeSpaceExW; CD-ROM
//     drives and drives without a medium are left out. Windows has no
//     inode count, so there is no disk.inodes_used_percent.
//
// By default the module leaves out pseudo, memory-backed and read-only
// image file systems (DefaultExcludedTypes), macOS's helper volumes under
// /System/Volumes other than Data, and file systems of size 0; a device
// mounted more than once (bind mounts, btrfs subvolumes) is reported once,
// under its shortest mount point.
//
// Settings (Request.ModuleConfig["disk"]), all optional:
//
//	{"mounts": ["/", "/var"], "types": ["ext4", "xfs"], "exclude_mounts": ["/mnt/backup"]}
//
// mounts reports only the file systems mounted at these points, in that
// order, whatever their type or size (the default exclusions and the
// one-point-per-device rule do not apply to them); types reports only file
// systems of these types (compared without regard to case), replacing the
// default exclusion of types; exclude_mounts leaves out the file systems
// mounted at these points. Given together, each narrows the others. Each
// list holds at most MaxListed entries; unknown keys are refused.
//
// Each file system is measured under its own deadline (StatTimeout): a
// hung network mount does not hang the module. A file system that could
// not be measured (timed out, or the system refused), or a point of
// mounts that is not mounted, is left out of the round while the others
// are reported, with a module.PartialError naming what was left out; when
// none at all could be reported the module fails with that error.
package disk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/cscs-dev/cscs/sdk/metrics"

	"github.com/cscs-dev/cscs/agent/module"
	"github.com/cscs-dev/cscs/agent/protocol"
)

// Name is the module's name.
const Name = "disk"

// StatTimeout bounds the measuring of one file system; the file systems are
// measured concurrently, so it bounds them all together too (and never
// exceeds half of what remains of the module's own deadline).
const StatTimeout = 2 * time.Second

// MaxListed is the most entries each list of the settings holds.
const MaxListed = 64

// DefaultExcludedTypes are the file system types left out unless the
// settings name them (types) or their mount point (mounts): kernel
// interfaces, memory-backed file systems, container layers, read-only
// images and automounter placeholders.
var DefaultExcludedTypes = []string{
	// Linux kernel interfaces and pseudo file systems.
	"proc", "sysfs", "devtmpfs", "devpts", "cgroup", "cgroup2", "securityfs",
	"pstore", "debugfs", "tracefs", "configfs", "fusectl", "mqueue", "hugetlbfs",
	"bpf", "binfmt_misc", "nsfs", "rpc_pipefs", "efivarfs", "selinuxfs",
	"nfsd", "rootfs", "autofs", "sockfs", "pipefs", "anon_inodefs", "usbfs",
	"xenfs", "ipathfs", "fuse.lxcfs", "fuse.gvfsd-fuse", "fuse.portal",
	"fuse.snapfuse",
	// Memory-backed.
	"tmpfs", "ramfs",
	// Container layers: the space is the backing file system's.
	"overlay", "overlayfs", "aufs", "shiftfs",
	// Read-only images and optical media (Windows names them CDFS, UDF).
	"squashfs", "iso9660", "udf", "cdfs", "erofs", "cramfs", "romfs",
	// macOS and BSD.
	"devfs", "fdescfs", "linprocfs", "linsysfs",
}

// Settings are the module's settings; see the package comment.
type Settings struct {
	Mounts        []string `json:"mounts,omitempty"`
	Types         []string `json:"types,omitempty"`
	ExcludeMounts []string `json:"exclude_mounts,omitempty"`
}

// ParseSettings reads raw (nil or "null" means defaults) and checks it.
// Unknown keys are refused so a misspelt setting is not silently ignored.
func ParseSettings(raw json.RawMessage) (Settings, error) {
	var s Settings
	if err := module.DecodeSettings(raw, Name, "mounts, types, exclude_mounts", &s); err != nil {
		return Settings{}, err
	}
	for _, l := range []struct {
		name string
		list *[]string
	}{{"mounts", &s.Mounts}, {"types", &s.Types}, {"exclude_mounts", &s.ExcludeMounts}} {
		if len(*l.list) > MaxListed {
			return Settings{}, fmt.Errorf("disk %s lists %d entries: at most %d are supported", l.name, len(*l.list), MaxListed)
		}
		for i, v := range *l.list {
			v = strings.TrimSpace(v)
			if v == "" || strings.ContainsFunc(v, unicode.IsControl) {
				return Settings{}, fmt.Errorf("disk %s entry %q is empty or holds control characters", l.name, v)
			}
			if l.name != "types" {
				v = cleanPoint(v)
			}
			(*l.list)[i] = v
		}
	}
	return s, nil
}

// cleanPoint drops a mount point's trailing separators ("/var/" is
// "/var", `D:\` is "D:") but keeps a root ("/").
func cleanPoint(p string) string {
	for len(p) > 1 && (p[len(p)-1] == '/' || p[len(p)-1] == '\\') {
		p = p[:len(p)-1]
	}
	return p
}

// samePoint tells whether mount points a and b are the same: exactly, or,
// for Windows paths ("C:", `C:\mnt\x`), without regard to case.
func samePoint(a, b string) bool {
	a, b = cleanPoint(a), cleanPoint(b)
	if len(a) >= 2 && a[1] == ':' {
		return strings.EqualFold(a, b)
	}
	return a == b
}

func containsPoint(list []string, p string) bool {
	for _, v := range list {
		if samePoint(v, p) {
			return true
		}
	}
	return false
}

func containsFold(list []string, v string) bool {
	for _, s := range list {
		if strings.EqualFold(s, v) {
			return true
		}
	}
	return false
}

// Mount is one mounted file system.
type Mount struct {
	// Point is where it is mounted ("/", "/var", "C:").
	Point string
	// Device is what is mounted ("/dev/sda1", "server:/export", "C:").
	Device string
	// FSType is its type ("ext4", "nfs4", "apfs", "NTFS").
	FSType string
	// ID tells apart the file systems: two mounts with the same non-empty
	// ID show the same file system (Linux: the device's "major:minor").
	ID string
}

// Usage are a file system's figures.
type Usage struct {
	TotalBytes uint64
	// UsedBytes is the total less the free blocks (reserved ones too).
	UsedBytes uint64
	// FreeBytes is the space unprivileged users may still use.
	FreeBytes uint64
	// Inodes is the file system's inode count, 0 where it has none.
	Inodes, InodesFree uint64
}

// fromStatfs turns statfs(2) counts (blocks of size frsize) into Usage.
func fromStatfs(blocks, bfree, bavail, frsize, files, ffree uint64) Usage {
	bfree = min(bfree, blocks)
	bavail = min(bavail, bfree)
	return Usage{
		TotalBytes: blocks * frsize,
		UsedBytes:  (blocks - bfree) * frsize,
		FreeBytes:  bavail * frsize,
		Inodes:     files,
		InodesFree: min(ffree, files),
	}
}

// toMetrics turns one file system's figures into its labelled samples.
func toMetrics(m Mount, u Usage) []protocol.Metric {
	labels := map[string]string{metrics.LabelMount: m.Point, metrics.LabelDevice: m.Device, metrics.LabelFSType: m.FSType}
	var pct float64
	if u.UsedBytes+u.FreeBytes > 0 {
		pct = float64(u.UsedBytes) / float64(u.UsedBytes+u.FreeBytes) * 100
	}
	figures := [...]struct {
		name string
		v    float64
	}{
		{metrics.DiskUsedPercent, module.ClampPercent(pct)},
		{metrics.DiskTotalBytes, float64(u.TotalBytes)},
		{metrics.DiskUsedBytes, float64(u.UsedBytes)},
		{metrics.DiskFreeBytes, float64(u.FreeBytes)},
		{metrics.DiskInodesUsedPercent, 0},
	}
	n := len(figures) - 1
	if u.Inodes > 0 {
		used := u.Inodes - min(u.InodesFree, u.Inodes)
		figures[n].v = module.ClampPercent(float64(used) / float64(u.Inodes) * 100)
		n++
	}
	out := make([]protocol.Metric, n)
	for i, f := range figures[:n] {
		out[i] = module.LabelledValue(f.name, f.v, labels)
	}
	return out
}

// defaultExcluded tells whether m is left out unless the settings name its
// type or mount point.
func defaultExcluded(m Mount) bool {
	if containsFold(DefaultExcludedTypes, m.FSType) {
		return true
	}
	// macOS's sealed system: the helper volumes of the APFS container
	// (VM, Preboot, Update, xarts, Hardware, iSCPreboot...) beside the
	// root and its Data volume.
	if rest, ok := strings.CutPrefix(m.Point, "/System/Volumes/"); ok && rest != "Data" {
		return true
	}
	return false
}

// selected are the mounts s asks for, with the points of s.Mounts that are
// not mounted. A point mounted over (listed twice) counts once, as its
// last mount: the one visible there. With s.Mounts, the mounts are in its
// order; without, in all's, and a file system mounted at several points
// (same ID) counts once, at its shortest point (the first listed among
// equally short ones).
func selected(all []Mount, s Settings) (out []Mount, missing []string) {
	var visible []Mount
	for i, m := range all {
		hidden := false
		for _, later := range all[i+1:] {
			if samePoint(later.Point, m.Point) {
				hidden = true
				break
			}
		}
		if !hidden {
			visible = append(visible, m)
		}
	}
	keep := func(m Mount) bool {
		switch {
		case containsPoint(s.ExcludeMounts, m.Point):
			return false
		case len(s.Types) > 0:
			return containsFold(s.Types, m.FSType)
		}
		return len(s.Mounts) > 0 || !defaultExcluded(m)
	}
	if len(s.Mounts) > 0 {
		for _, p := range s.Mounts {
			found := false
			for _, m := range visible {
				if samePoint(m.Point, p) {
					found = true
					if keep(m) {
						out = append(out, m)
					}
					break
				}
			}
			if !found {
				missing = append(missing, p)
			}
		}
		return out, missing
	}
	for _, m := range visible {
		if !keep(m) {
			continue
		}
		dup := false
		for i, o := range out {
			if m.ID == "" || o.ID != m.ID {
				continue
			}
			if len(m.Point) < len(o.Point) {
				out[i] = m
			}
			dup = true
			break
		}
		if !dup {
			out = append(out, m)
		}
	}
	return out, nil
}

// statFunc measures the file system mounted at m.
type statFunc func(m Mount) (Usage, error)

// Module measures the mounted file systems.
type Module struct {
	// list returns the mounted file systems.
	list func(ctx context.Context) ([]Mount, error)
	// stat measures one; it may block (a hung network mount).
	stat statFunc
	// timeout bounds stat; 0 means StatTimeout.
	timeout time.Duration
}

var _ module.Module = Module{}

// New returns the module reading the host.
func New() Module { return Module{list: hostMounts, stat: hostStat} }

// Name returns "disk".
func (Module) Name() string { return Name }

// Collect measures the file systems the settings select.
func (m Module) Collect(ctx context.Context, cfg module.Config) ([]protocol.Metric, error) {
	s, err := ParseSettings(cfg.Settings)
	if err != nil {
		return nil, err
	}
	all, err := m.list(ctx)
	if err != nil {
		return nil, fmt.Errorf("list mounted file systems: %w", err)
	}
	mounts, missing := selected(all, s)
	var failed []string
	for _, p := range missing {
		failed = append(failed, p+": not mounted")
	}
	timeout := m.timeout
	if timeout <= 0 {
		timeout = StatTimeout
	}
	if dl, ok := ctx.Deadline(); ok {
		timeout = min(timeout, time.Until(dl)/2)
	}
	usages, errs := statAll(ctx, mounts, m.stat, timeout)
	var out []protocol.Metric
	for i, mt := range mounts {
		switch {
		case errors.Is(errs[i], errNoMedium):
			// a drive without a medium is not a failure
		case errs[i] != nil:
			failed = append(failed, mt.Point+": "+errs[i].Error())
		case usages[i].TotalBytes == 0 && len(s.Mounts) == 0:
			// size 0: a pseudo file system of a type not in the list
		default:
			out = append(out, toMetrics(mt, usages[i])...)
		}
	}
	switch {
	case len(failed) == 0:
		return out, nil
	case len(out) == 0:
		return nil, errors.New("no file system could be measured: " + strings.Join(failed, "; "))
	}
	return out, module.PartialError{Err: errors.New("not measured: " + strings.Join(failed, "; "))}
}

// errNoMedium is what a statFunc returns for a drive without a medium
// (Windows: "the device is not ready"), left out without a word.
var errNoMedium = errors.New("no medium")

// errTimeout is the error of a file system not measured in time.
var errTimeout = errors.New("timed out (a hung network mount?)")

// statAll measures mounts concurrently, each within timeout. A stat that
// does not return in time is abandoned: its goroutine ends when the system
// call does, or with the agent.
func statAll(ctx context.Context, mounts []Mount, stat statFunc, timeout time.Duration) ([]Usage, []error) {
	type result struct {
		i   int
		u   Usage
		err error
	}
	usages := make([]Usage, len(mounts))
	errs := make([]error, len(mounts))
	if len(mounts) == 0 {
		return usages, errs
	}
	done := make(chan result, len(mounts)) // buffered: late results do not block
	for i, mt := range mounts {
		errs[i] = errTimeout
		go func() {
			u, err := stat(mt)
			done <- result{i, u, err}
		}()
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for range mounts {
		select {
		case r := <-done:
			usages[r.i], errs[r.i] = r.u, r.err
		case <-timer.C:
			return usages, errs
		case <-ctx.Done():
			return usages, errs
		}
	}
	return usages, errs
}
