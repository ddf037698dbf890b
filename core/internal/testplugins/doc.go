// Package testplugins holds, one program per folder, the plugins the
// command tests build and install: a storage kept in memory
// (memstorage), one that crashes (crashstore), a source reading its value
// from a file (gauge), and a binary serving two sources and a storage
// (bundle). None is shipped.
package testplugins
