//go:build !unix && !windows

package extmod

import "io/fs"

// lookPath returns name: this system has no $PATH convention to follow.
func lookPath(name string) (string, error) { return name, nil }

// checkPrivate accepts everything: this system has no POSIX owner to check.
func checkPrivate(fs.FileInfo) error { return nil }

// samePath compares two cleaned paths.
func samePath(a, b string) bool { return a == b }
