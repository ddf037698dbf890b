package disk

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

func readFixture(t *testing.T, name string) []Mount {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	mounts, err := parseMountinfo(b)
	if err != nil {
		t.Fatal(err)
	}
	return mounts
}

func TestParseMountinfo(t *testing.T) {
	mounts := readFixture(t, "mountinfo-host")
	if len(mounts) != 22 {
		t.Fatalf("%d mounts, want 22", len(mounts))
	}
	byPoint := map[string]Mount{}
	for _, m := range mounts {
		byPoint[m.Point] = m
	}
	for _, want := range []Mount{
		{Point: "/", Device: "/dev/nvme0n1p2", FSType: "ext4", ID: "259:2"},
		{Point: "/srv/My Data", Device: "/dev/mapper/vg0-data", FSType: "btrfs", ID: "253:1"},
		{Point: "/mnt/nfs", Device: `fileserver:/export/a\b`, FSType: "nfs4", ID: "0:45"},
		{Point: "/mnt/tab\tand\nnewline", Device: "/dev/sdb1", FSType: "ext4", ID: "0:52"},
		{Point: "/run/user/1000/gvfs", Device: "gvfsd-fuse", FSType: "fuse.gvfsd-fuse", ID: "0:51"},
		{Point: "/sys/fs/cgroup", Device: "cgroup2", FSType: "cgroup2", ID: "0:27"},
	} {
		if got := byPoint[want.Point]; got != want {
			t.Errorf("mount %q = %+v, want %+v", want.Point, got, want)
		}
	}
	// Optional fields before the separator do not shift the others.
	if got := readFixture(t, "mountinfo-container")[0]; got != (Mount{Point: "/", Device: "overlay", FSType: "overlay", ID: "0:93"}) {
		t.Errorf("container root = %+v", got)
	}
}

func TestParseMountinfoRefusesOtherText(t *testing.T) {
	for name, in := range map[string]string{
		"no separator":       "29 1 259:2 / / rw,relatime shared:1 ext4 /dev/sda1 rw\n",
		"nothing after":      "29 1 259:2 / / rw,relatime -\n",
		"mounts file":        "/dev/sda1 / ext4 rw,relatime 0 0\n",
		"separator too soon": "29 1 - ext4 /dev/sda1 rw\n",
	} {
		t.Run(name, func(t *testing.T) {
			if m, err := parseMountinfo([]byte(in)); err == nil || !strings.Contains(err.Error(), "line 1") {
				t.Fatalf("parseMountinfo = %+v, %v; want an error naming line 1", m, err)
			}
		})
	}
	if m, err := parseMountinfo([]byte("\n\n")); err != nil || len(m) != 0 {
		t.Fatalf("empty file: %+v, %v", m, err)
	}
}

func TestUnescapeOctal(t *testing.T) {
	for in, want := range map[string]string{
		`/plain`:             "/plain",
		`/a\040b`:            "/a b",
		`/a\134b`:            `/a\b`,
		`/a\011\012`:         "/a\t\n",
		`/trailing\04`:       `/trailing\04`,
		`/not\08octal`:       `/not\08octal`,
		`/too\777big`:        `/too\777big`,
		`\040\040`:           "  ",
		`/ends\`:             `/ends\`,
		`/\303\251t\303\251`: "/été",
	} {
		if got := unescapeOctal([]byte(in)); got != want {
			t.Errorf("unescapeOctal(%q) = %q, want %q", in, got, want)
		}
	}
}

func points(ms []Mount) []string {
	out := []string{}
	for _, m := range ms {
		out = append(out, m.Point)
	}
	return out
}

func TestSelected(t *testing.T) {
	host := readFixture(t, "mountinfo-host")
	container := readFixture(t, "mountinfo-container")
	darwin := []Mount{
		{Point: "/", Device: "/dev/disk3s1s1", FSType: "apfs", ID: "/dev/disk3s1s1"},
		{Point: "/dev", Device: "devfs", FSType: "devfs"},
		{Point: "/System/Volumes/VM", Device: "/dev/disk3s6", FSType: "apfs", ID: "/dev/disk3s6"},
		{Point: "/System/Volumes/Preboot", Device: "/dev/disk3s2", FSType: "apfs", ID: "/dev/disk3s2"},
		{Point: "/System/Volumes/Update", Device: "/dev/disk3s4", FSType: "apfs", ID: "/dev/disk3s4"},
		{Point: "/System/Volumes/xarts", Device: "/dev/disk1s2", FSType: "apfs", ID: "/dev/disk1s2"},
		{Point: "/System/Volumes/Data", Device: "/dev/disk3s5", FSType: "apfs", ID: "/dev/disk3s5"},
		{Point: "/System/Volumes/Data/home", Device: "map auto_home", FSType: "autofs"},
		{Point: "/Volumes/USB STICK", Device: "/dev/disk4s1", FSType: "msdos", ID: "/dev/disk4s1"},
		{Point: "/Volumes/Installer", Device: "/dev/disk5s1", FSType: "hfs", ID: "/dev/disk5s1"},
	}
	windows := []Mount{
		{Point: "C:", Device: "C:", FSType: "NTFS"},
		{Point: "D:", Device: "D:", FSType: "ReFS"},
		{Point: `C:\mnt\vol`, Device: `C:\mnt\vol`, FSType: "NTFS"},
		{Point: "E:", Device: "E:", FSType: "FAT32"},
	}
	tests := map[string]struct {
		mounts      []Mount
		s           Settings
		want        []string
		wantMissing []string
	}{
		"host, default: pseudo, image and container layers out, one point per device, last of an overmounted point": {
			mounts: host,
			want:   []string{"/", "/boot/efi", "/home", "/srv/d", "/mnt/nfs", "/mnt/tab\tand\nnewline", "/mnt/over"},
		},
		"types replace the default exclusion, without regard to case": {
			mounts: host, s: Settings{Types: []string{"XFS", "tmpfs"}},
			want: []string{"/run", "/home", "/mnt/over"},
		},
		"exclude_mounts": {
			mounts: host, s: Settings{ExcludeMounts: []string{"/mnt/nfs", "/srv/d", "/"}},
			// without /srv/d, the device's next shortest point
			want: []string{"/boot/efi", "/home", "/srv/My Data", "/var/lib/docker", "/mnt/tab\tand\nnewline", "/mnt/over"},
		},
		"mounts: exactly these, whatever the type, in the order listed": {
			mounts: host, s: Settings{Mounts: []string{"/run", "/var/lib/docker", "/nope", "/sys", "/srv/d", "/srv/My Data", "/mnt/over"}},
			want:        []string{"/run", "/var/lib/docker", "/sys", "/srv/d", "/srv/My Data", "/mnt/over"},
			wantMissing: []string{"/nope"},
		},
		"mounts narrowed by types and exclude_mounts": {
			mounts: host, s: Settings{Mounts: []string{"/run", "/home", "/mnt/over", "/nope"}, Types: []string{"xfs", "tmpfs"}, ExcludeMounts: []string{"/run"}},
			want:        []string{"/home", "/mnt/over"},
			wantMissing: []string{"/nope"},
		},
		"container: the overlay root out, the host's disk once under the shortest bind mount": {
			mounts: container,
			want:   []string{"/data"},
		},
		"container with types overlay": {
			mounts: container, s: Settings{Types: []string{"overlay"}},
			want: []string{"/"},
		},
		"darwin: the sealed system's helper volumes, devfs and autofs out": {
			mounts: darwin,
			want:   []string{"/", "/System/Volumes/Data", "/Volumes/USB STICK", "/Volumes/Installer"},
		},
		"windows drive letters without regard to case": {
			mounts: windows, s: Settings{Mounts: []string{"c:", `d:`, `c:\MNT\vol`, "F:"}},
			want:        []string{"C:", "D:", `C:\mnt\vol`},
			wantMissing: []string{"F:"},
		},
		"windows default": {
			mounts: windows, s: Settings{ExcludeMounts: []string{"e:"}},
			want: []string{"C:", "D:", `C:\mnt\vol`},
		},
		"nothing mounted": {want: []string{}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, missing := selected(tc.mounts, tc.s)
			if !reflect.DeepEqual(points(got), tc.want) {
				t.Errorf("selected = %q, want %q", points(got), tc.want)
			}
			if !reflect.DeepEqual(missing, tc.wantMissing) {
				t.Errorf("missing = %q, want %q", missing, tc.wantMissing)
			}
		})
	}
}
