package source

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"time"
)

// ErrNotBuilt is wrapped by EmbeddedModule's error for a platform the
// module was not built for.
var ErrNotBuilt = errors.New("module not built for this platform")

// maxModuleBytes bounds a module program read back from its compressed
// file.
const maxModuleBytes = 64 << 20

// EmbeddedModule is the Module of a Go agent module built with
// cscs-modbuild (package agentmod/modbuild) for platform p: the program
// named name, read from dir in fsys (usually an embed.FS of the files
// cscs-modbuild wrote) and decompressed, run directly on the host and
// bounded by timeout (0: the agent's default).
func EmbeddedModule(fsys fs.FS, dir, name string, p Platform, timeout time.Duration) (Module, error) {
	file := name + "-" + p.OS + "-" + p.Arch
	if p.OS == "windows" {
		file += ".exe"
	}
	f, err := fsys.Open(path.Join(dir, file+".gz"))
	if errors.Is(err, fs.ErrNotExist) {
		return Module{}, fmt.Errorf("%s on %s/%s: %w; build it with cscs-modbuild for that platform, or leave the platform out of the source's", name, p.OS, p.Arch, ErrNotBuilt)
	}
	if err != nil {
		return Module{}, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return Module{}, fmt.Errorf("%s on %s/%s: %s.gz is not gzip data: %w", name, p.OS, p.Arch, file, err)
	}
	data, err := io.ReadAll(io.LimitReader(zr, maxModuleBytes+1))
	if err != nil {
		return Module{}, fmt.Errorf("%s on %s/%s: decompress %s.gz: %w", name, p.OS, p.Arch, file, err)
	}
	if len(data) > maxModuleBytes {
		return Module{}, fmt.Errorf("%s on %s/%s: the module is larger than %d MiB", name, p.OS, p.Arch, maxModuleBytes>>20)
	}
	return Module{Artifact: &Artifact{FileName: file, Data: data, Timeout: timeout}}, nil
}
