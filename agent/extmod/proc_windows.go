package extmod

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// lookPath finds an interpreter named without a directory in %PATH%,
// trying the extensions of %PATHEXT% when the name has none. The current
// directory is never searched.
func lookPath(name string) (string, error) {
	exts := []string{""}
	if filepath.Ext(name) == "" {
		exts = pathExts()
	}
	if strings.ContainsAny(name, `\/:`) {
		for _, ext := range exts {
			if isFile(name + ext) {
				return name + ext, nil
			}
		}
		return "", fmt.Errorf("interpreter %q does not exist", name)
	}
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		if !filepath.IsAbs(dir) {
			continue
		}
		for _, ext := range exts {
			if p := filepath.Join(dir, name+ext); isFile(p) {
				return p, nil
			}
		}
	}
	return "", fmt.Errorf("%q is not a program in %%PATH%%; name the interpreter by its absolute path", name)
}

func pathExts() []string {
	v := os.Getenv("PATHEXT")
	if v == "" {
		v = ".COM;.EXE;.BAT;.CMD"
	}
	var exts []string
	for e := range strings.SplitSeq(v, ";") {
		if e != "" && e[0] == '.' {
			exts = append(exts, strings.ToLower(e))
		}
	}
	return exts
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

// checkPrivate accepts everything: the agent's directory is under the
// user's private %TEMP%, and Windows reports no POSIX owner or mode.
func checkPrivate(fs.FileInfo) error { return nil }

// samePath compares two cleaned paths, ignoring case as NTFS does.
func samePath(a, b string) bool { return strings.EqualFold(a, b) }
