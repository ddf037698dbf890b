package disk

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/agent/module"
	"github.com/cscs-dev/cscs/agent/protocol"
	"github.com/cscs-dev/cscs/sdk/metrics"
)

func TestParseSettings(t *testing.T) {
	long := `["` + strings.Repeat(`/a", "`, MaxListed) + `/b"]`
	tests := map[string]struct {
		raw     string
		want    Settings
		wantErr string
	}{
		"no settings":    {raw: ""},
		"null":           {raw: " null "},
		"empty object":   {raw: "{}"},
		"mounts":         {raw: `{"mounts": ["/", " /var/ ", "C:\\"]}`, want: Settings{Mounts: []string{"/", "/var", "C:"}}},
		"types, exclude": {raw: `{"types": ["ext4", "NTFS"], "exclude_mounts": ["/mnt/backup/"]}`, want: Settings{Types: []string{"ext4", "NTFS"}, ExcludeMounts: []string{"/mnt/backup"}}},
		"not json":       {raw: `{"mounts": `, wantErr: "disk settings are not valid"},
		"wrong type":     {raw: `{"mounts": "/"}`, wantErr: "disk settings are not valid"},
		"unknown key":    {raw: `{"mount": ["/"]}`, wantErr: `unknown field "mount"`},
		"two values":     {raw: `{} {}`, wantErr: "more than one JSON value"},
		"all together":   {raw: `{"mounts": ["/"], "types": ["ext4"], "exclude_mounts": ["/var"]}`, want: Settings{Mounts: []string{"/"}, Types: []string{"ext4"}, ExcludeMounts: []string{"/var"}}},
		"empty entry":    {raw: `{"types": ["ext4", " "]}`, wantErr: `types entry "" is empty`},
		"control char":   {raw: `{"exclude_mounts": ["/a\u0007"]}`, wantErr: "control characters"},
		"too many":       {raw: `{"mounts": ` + long + `}`, wantErr: "mounts lists 65 entries: at most 64"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ParseSettings(json.RawMessage(tc.raw))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseSettings error = %v, want one containing %q", err, tc.wantErr)
				}
				if !strings.HasPrefix(err.Error(), "disk ") {
					t.Errorf("error %q does not name the module", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseSettings: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParseSettings = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestFromStatfs(t *testing.T) {
	tests := map[string]struct {
		blocks, bfree, bavail, frsize, files, ffree uint64
		want                                        Usage
	}{
		"ext4 with reserved blocks": {blocks: 1000, bfree: 300, bavail: 250, frsize: 4096, files: 100, ffree: 40,
			want: Usage{TotalBytes: 4096000, UsedBytes: 700 * 4096, FreeBytes: 250 * 4096, Inodes: 100, InodesFree: 40}},
		"no inodes (btrfs, vfat)": {blocks: 10, bfree: 10, bavail: 10, frsize: 512,
			want: Usage{TotalBytes: 5120, FreeBytes: 5120}},
		"inconsistent counts are bounded": {blocks: 10, bfree: 12, bavail: 11, frsize: 1, files: 5, ffree: 6,
			want: Usage{TotalBytes: 10, FreeBytes: 10, Inodes: 5, InodesFree: 5}},
		"size 0": {},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := fromStatfs(tc.blocks, tc.bfree, tc.bavail, tc.frsize, tc.files, tc.ffree); got != tc.want {
				t.Fatalf("fromStatfs = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestFromFreeSpace(t *testing.T) {
	for _, tc := range []struct {
		avail, total, free uint64
		want               Usage
	}{
		{avail: 30, total: 100, free: 40, want: Usage{TotalBytes: 100, UsedBytes: 60, FreeBytes: 30}}, // a quota
		{avail: 50, total: 100, free: 40, want: Usage{TotalBytes: 100, UsedBytes: 60, FreeBytes: 40}},
		{avail: 200, total: 100, free: 200, want: Usage{TotalBytes: 100, FreeBytes: 100}},
	} {
		if got := fromFreeSpace(tc.avail, tc.total, tc.free); got != tc.want {
			t.Errorf("fromFreeSpace(%d, %d, %d) = %+v, want %+v", tc.avail, tc.total, tc.free, got, tc.want)
		}
	}
}

// samples are the metrics of one file system, in the order toMetrics
// yields them; inodes < 0 leaves out disk.inodes_used_percent.
func samples(point, device, fstype string, pct, total, used, free, inodes float64) []protocol.Metric {
	l := map[string]string{metrics.LabelMount: point, metrics.LabelDevice: device, metrics.LabelFSType: fstype}
	out := []protocol.Metric{
		{Name: metrics.DiskUsedPercent, Value: pct, Unit: "percent", Labels: l},
		{Name: metrics.DiskTotalBytes, Value: total, Unit: "bytes", Labels: l},
		{Name: metrics.DiskUsedBytes, Value: used, Unit: "bytes", Labels: l},
		{Name: metrics.DiskFreeBytes, Value: free, Unit: "bytes", Labels: l},
	}
	if inodes >= 0 {
		out = append(out, protocol.Metric{Name: metrics.DiskInodesUsedPercent, Value: inodes, Unit: "percent", Labels: l})
	}
	return out
}

func TestToMetrics(t *testing.T) {
	m := Mount{Point: "/srv", Device: "/dev/sda1", FSType: "ext4", ID: "8:1"}
	tests := map[string]struct {
		u    Usage
		want []protocol.Metric
	}{
		"as df: used of used and free, reserved blocks aside": {
			u:    Usage{TotalBytes: 1000, UsedBytes: 600, FreeBytes: 200, Inodes: 50, InodesFree: 40},
			want: samples("/srv", "/dev/sda1", "ext4", 75, 1000, 600, 200, 20),
		},
		"no inode count": {
			u:    Usage{TotalBytes: 1000, UsedBytes: 500, FreeBytes: 500},
			want: samples("/srv", "/dev/sda1", "ext4", 50, 1000, 500, 500, -1),
		},
		"full": {
			u:    Usage{TotalBytes: 1000, UsedBytes: 1000, Inodes: 10},
			want: samples("/srv", "/dev/sda1", "ext4", 100, 1000, 1000, 0, 100),
		},
		"empty": {
			u:    Usage{},
			want: samples("/srv", "/dev/sda1", "ext4", 0, 0, 0, 0, -1),
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := toMetrics(m, tc.u); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("toMetrics =\n%+v\nwant\n%+v", got, tc.want)
			}
		})
	}
}

// fakeHost lists mounts and measures them from figures, an error, or by
// blocking until the test ends (a hung NFS server).
type fakeHost struct {
	mounts  []Mount
	usage   map[string]Usage
	fail    map[string]error
	hang    map[string]bool
	release chan struct{}
}

func (h fakeHost) module() Module {
	return Module{
		list: func(context.Context) ([]Mount, error) { return h.mounts, nil },
		stat: func(m Mount) (Usage, error) {
			if h.hang[m.Point] {
				<-h.release
			}
			if err := h.fail[m.Point]; err != nil {
				return Usage{}, err
			}
			return h.usage[m.Point], nil
		},
		timeout: 100 * time.Millisecond,
	}
}

func TestCollect(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	host := fakeHost{
		mounts: []Mount{
			{Point: "/", Device: "/dev/sda1", FSType: "ext4", ID: "8:1"},
			{Point: "/proc", Device: "proc", FSType: "proc", ID: "0:21"},
			{Point: "/mnt/nfs", Device: "srv:/x", FSType: "nfs4", ID: "0:40"},
			{Point: "/mnt/fuse", Device: "sshfs", FSType: "fuse.sshfs", ID: "0:41"},
			{Point: "/mnt/empty", Device: "none", FSType: "weirdfs", ID: "0:42"},
			{Point: "/home", Device: "/dev/sda2", FSType: "xfs", ID: "8:2"},
			{Point: "/mnt/cd", Device: "E:", FSType: "FAT32"},
		},
		usage: map[string]Usage{
			"/":          {TotalBytes: 100, UsedBytes: 50, FreeBytes: 50, Inodes: 10, InodesFree: 5},
			"/home":      {TotalBytes: 200, UsedBytes: 50, FreeBytes: 150},
			"/proc":      {},
			"/mnt/empty": {},
		},
		fail:    map[string]error{"/mnt/fuse": errors.New("permission denied"), "/mnt/cd": errNoMedium},
		hang:    map[string]bool{"/mnt/nfs": true},
		release: release,
	}
	root := samples("/", "/dev/sda1", "ext4", 50, 100, 50, 50, 50)
	home := samples("/home", "/dev/sda2", "xfs", 25, 200, 50, 150, -1)
	tests := map[string]struct {
		settings string
		want     []protocol.Metric
		wantErr  string
		// wantPartial is the error a partly measured round comes with,
		// beside its metrics.
		wantPartial string
	}{
		"a hung and a refusing mount are left out and named, the rest reported; size 0 left out": {
			want:        append(append([]protocol.Metric{}, root...), home...),
			wantPartial: "not measured: /mnt/nfs: timed out (a hung network mount?); /mnt/fuse: permission denied",
		},
		"mounts: size 0 kept, a missing point left out and named": {
			settings:    `{"mounts": ["/mnt/empty", "/nowhere", "/"]}`,
			want:        append(samples("/mnt/empty", "none", "weirdfs", 0, 0, 0, 0, -1), root...),
			wantPartial: "not measured: /nowhere: not mounted",
		},
		"nothing could be measured: an error naming each": {
			settings: `{"mounts": ["/mnt/nfs", "/mnt/fuse", "/nowhere", "/mnt/cd"]}`,
			wantErr:  "no file system could be measured: /nowhere: not mounted; /mnt/nfs: timed out (a hung network mount?); /mnt/fuse: permission denied",
		},
		"nothing selected is no error": {settings: `{"types": ["zfs"]}`},
		"bad settings":                 {settings: `{"mount": ["/"]}`, wantErr: `disk settings are not valid`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			got, err := host.module().Collect(context.Background(), module.Config{Settings: json.RawMessage(tc.settings)})
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("Collect took %v despite the per-mount timeout", d)
			}
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr && !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Collect error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			var partial module.PartialError
			switch {
			case tc.wantPartial != "" && (!errors.As(err, &partial) || err.Error() != tc.wantPartial):
				t.Fatalf("Collect error = %v, want the partial error %q", err, tc.wantPartial)
			case tc.wantPartial == "" && err != nil:
				t.Fatalf("Collect: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Collect =\n%+v\nwant\n%+v", got, tc.want)
			}
		})
	}
}

func TestCollectStopsWithItsContext(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	h := fakeHost{mounts: []Mount{{Point: "/mnt/nfs", FSType: "nfs"}}, hang: map[string]bool{"/mnt/nfs": true}, release: release}
	m := h.module()
	m.timeout = time.Hour
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := m.Collect(ctx, module.Config{})
	if err == nil || !strings.Contains(err.Error(), "/mnt/nfs: timed out") {
		t.Fatalf("Collect error = %v, want the mount timed out", err)
	}
	// half of the module's deadline, so that the others' figures still
	// reach the report
	if d := time.Since(start); d > 150*time.Millisecond {
		t.Fatalf("Collect took %v, want about half its 200ms deadline", d)
	}
}

func TestListError(t *testing.T) {
	m := Module{list: func(context.Context) ([]Mount, error) { return nil, errors.New("no /proc") }}
	if _, err := m.Collect(context.Background(), module.Config{}); err == nil || !strings.Contains(err.Error(), "list mounted file systems: no /proc") {
		t.Fatalf("Collect error = %v", err)
	}
}
