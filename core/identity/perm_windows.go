package identity

import "io/fs"

// checkPrivate does nothing on Windows: file modes there do not describe
// who may read a file (ACLs do), and the data directory's ACL is the
// operator's to set.
func checkPrivate(string, fs.FileInfo) error { return nil }
