package disk

import (
	"bytes"
	"errors"
	"strconv"
)

// mountinfoPath lists the mounts of the agent's mount namespace (Linux).
const mountinfoPath = "/proc/self/mountinfo"

// parseMountinfo parses Linux's /proc/<pid>/mountinfo (proc(5)):
//
//	36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
//
// taking the device number (as Mount.ID), the mount point, and after the
// "-" separator the type and the source (as Mount.Device). Mount points
// and sources have their octal escapes (\040 for a space) decoded. It
// compiles on every system so that it is tested everywhere.
func parseMountinfo(b []byte) ([]Mount, error) {
	var out []Mount
	n := 0
	for line := range bytes.Lines(b) {
		n++
		f := bytes.Fields(line)
		if len(f) == 0 {
			continue
		}
		sep := -1
		for i := 6; i < len(f); i++ {
			if string(f[i]) == "-" {
				sep = i
				break
			}
		}
		if sep < 0 || len(f) < sep+3 {
			return nil, errors.New(mountinfoPath + ": line " + strconv.Itoa(n) + " is not a mountinfo line")
		}
		out = append(out, Mount{
			Point:  unescapeOctal(f[4]),
			Device: unescapeOctal(f[sep+2]),
			FSType: string(f[sep+1]),
			ID:     string(f[2]),
		})
	}
	return out, nil
}

// unescapeOctal decodes the kernel's escapes of space, tab, newline and
// backslash in mount points: a backslash and three octal digits.
func unescapeOctal(b []byte) string {
	if bytes.IndexByte(b, '\\') < 0 {
		return string(b)
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] == '\\' && i+3 < len(b) && isOctal(b[i+1]) && isOctal(b[i+2]) && isOctal(b[i+3]) && b[i+1] <= '3' {
			out = append(out, (b[i+1]-'0')<<6|(b[i+2]-'0')<<3|(b[i+3]-'0'))
			i += 3
			continue
		}
		out = append(out, b[i])
	}
	return string(out)
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }
