//go:build !windows

package sshfleet

// defaultShell is the shell that runs exec requests unless Options.Shell
// names another.
func defaultShell() string { return "/bin/sh" }

// tempDirVars names the variables that point programs at a temp directory.
func tempDirVars() []string { return []string{"TMPDIR"} }
