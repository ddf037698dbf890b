//go:build !unix

package authlog

import "os"

// inodeOf returns 0: this operating system has no inode numbers, so a
// rotated file is only noticed when it is shorter than the cursor.
func inodeOf(os.FileInfo) uint64 { return 0 }
