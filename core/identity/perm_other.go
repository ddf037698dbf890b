//go:build !windows

package identity

import (
	"fmt"
	"io/fs"
)

// checkPrivate refuses a key file that group or others may read or write.
func checkPrivate(path string, info fs.FileInfo) error {
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("the core key file %s is accessible by group or others (mode %04o); restrict it with: chmod 600 %s", path, perm, path)
	}
	return nil
}
