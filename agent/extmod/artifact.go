package extmod

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/cscs-dev/cscs/agent/protocol"
)

// checkArtifact refuses to run file unless it is a regular file (not a
// symbolic link) directly in the private directory dir, and its content
// has the SHA-256 want. A missing file or another content yields an error
// starting with protocol.ErrorChecksumPrefix.
//
// The file is hashed before it is started by name; only the owner of the
// private directory could swap it in between, and that user could as well
// replace the agent itself.
func checkArtifact(dir, file, want string) error {
	if dir == "" {
		return errors.New("the agent could not locate its own directory; not run")
	}
	if !isSHA256Hex(want) {
		return fmt.Errorf("requested sha256 %q is not 64 hex digits; not run", clip(want))
	}
	if !filepath.IsAbs(file) || filepath.Clean(file) != file {
		return fmt.Errorf("path %q is not a clean absolute path; not run", clip(file))
	}
	realDir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return fmt.Errorf("inspect the agent's directory: %w; not run", err)
	}
	if !samePath(filepath.Dir(file), dir) && !samePath(resolved(filepath.Dir(file)), realDir) {
		return fmt.Errorf("path %q is not directly in the agent's directory %s; refusing to run it", clip(file), dir)
	}
	dirInfo, err := os.Stat(realDir)
	if err != nil {
		return fmt.Errorf("inspect the agent's directory: %w; not run", err)
	}
	if err := checkPrivate(dirInfo); err != nil {
		return fmt.Errorf("the agent's directory %s %w; refusing to run modules from it", dir, err)
	}
	fi, err := os.Lstat(file)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%s: %s is missing; not run", protocol.ErrorChecksumPrefix, file)
	case err != nil:
		return fmt.Errorf("inspect %s: %w; not run", file, err)
	case fi.Mode()&fs.ModeSymlink != 0:
		return fmt.Errorf("%s is a symbolic link; refusing to run it", file)
	case !fi.Mode().IsRegular():
		return fmt.Errorf("%s is not a regular file; refusing to run it", file)
	}
	if err := checkPrivate(fi); err != nil {
		return fmt.Errorf("%s %w; refusing to run it", file, err)
	}
	got, err := fileSHA256(file)
	if err != nil {
		return fmt.Errorf("hash %s: %w; not run", file, err)
	}
	if !strings.EqualFold(got, want) {
		return fmt.Errorf("%s: %s has SHA-256 %s…, want %s…; not run", protocol.ErrorChecksumPrefix, file, got[:16], strings.ToLower(want[:16]))
	}
	return nil
}

// resolved is p with symbolic links evaluated, or p when that fails.
func resolved(p string) string {
	if r, err := filepath.EvalSymlinks(p); err == nil {
		return r
	}
	return p
}

func fileSHA256(file string) (string, error) {
	f, err := os.Open(file)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func isSHA256Hex(s string) bool {
	if len(s) != sha256.Size*2 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}
