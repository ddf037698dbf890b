package transport

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/pkg/sftp"
)

// Artifact is a file to keep on hosts: the agent or an external module.
type Artifact struct {
	// Name is the base name, such as "cscs-agent" or "users.sh". Letters,
	// digits, '.', '_' and '-' only. Its extension is kept on the host
	// (interpreters may need it); a name without one gets ".exe" on
	// Windows.
	Name string
	Data []byte
	// SHA256 is the lowercase hex SHA-256 of Data; computed when empty.
	SHA256 string
	// Gzip, when set, returns Data compressed with gzip. A POSIX host
	// then receives the compressed bytes as <remote path>.gz (less than
	// half the bytes for the agent), which Run unpacks with the host's
	// `gzip -dc` before it checks the SHA-256. On a host without gzip that
	// check fails as for a missing file: Upload sends Data. Called only
	// when the artifact is uploaded by EnsureAll.
	Gzip func() ([]byte, error)
}

var artifactName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// privateMode is the only mode accepted for the remote directory and files.
const privateMode = 0o700

// digest checks the artifact and returns its SHA-256 in hex. A given
// SHA256 is trusted, not recomputed: hashing a 3.5 MB agent for every host
// of every round was a third of a round's CPU, and the host checks the
// file against this digest before running it anyway.
func (a Artifact) digest() (string, error) {
	if !artifactName.MatchString(a.Name) {
		return "", &Error{Kind: Config, Step: "ensure", Err: fmt.Errorf("artifact name %q: use letters, digits, '.', '_' and '-' only", a.Name)}
	}
	if a.SHA256 != "" {
		if len(a.SHA256) != sha256.Size*2 || !isHex(a.SHA256) {
			return "", &Error{Kind: Config, Step: "ensure", Err: fmt.Errorf("artifact %s: the given SHA-256 is not 64 hex digits", a.Name)}
		}
		return strings.ToLower(a.SHA256), nil
	}
	sum := sha256.Sum256(a.Data)
	return hex.EncodeToString(sum[:]), nil
}

func isHex(s string) bool {
	_, err := hex.DecodeString(s)
	return err == nil
}

// RemoteName is the content-addressed file name of a on p: the name
// without its extension, "-", the first 16 hex digits of the SHA-256, and
// the extension ("users.sh" → "users-0123456789abcdef.sh"; "cscs-agent" →
// "cscs-agent-0123456789abcdef", with ".exe" on Windows).
func (a Artifact) RemoteName(p Platform) (string, error) {
	digest, err := a.digest()
	if err != nil {
		return "", err
	}
	return remoteName(a.Name, digest, p), nil
}

func remoteName(name, digest string, p Platform) string {
	ext := path.Ext(name)
	if ext == "" && p.OS == "windows" {
		ext = ".exe"
	}
	return strings.TrimSuffix(name, path.Ext(name)) + "-" + digest[:16] + ext
}

// Ensure makes sure a is in p.RemoteDir, uploading it only when it is
// missing or its size, owner or mode is wrong. The directory is created
// (mode 0700) when missing and refused when it is a symbolic link, not
// owned by the login user or not private. The content is not hashed here:
// Run checks it before executing.
func (c *Client) Ensure(ctx context.Context, p Platform, a Artifact) (remotePath string, uploaded bool, err error) {
	paths, up, err := c.EnsureAll(ctx, p, []Artifact{a})
	if err != nil {
		return "", false, err
	}
	return paths[0], up[0], nil
}

// EnsureAll is Ensure for several artifacts over one SFTP session: the
// agent and the external modules it runs, which all live in p.RemoteDir.
// paths[i] and uploaded[i] belong to arts[i]. Every artifact is checked
// before anything is uploaded; on error nothing is returned, though some
// artifacts may already be in place.
func (c *Client) EnsureAll(ctx context.Context, p Platform, arts []Artifact) (paths []string, uploaded []bool, err error) {
	digests := make([]string, len(arts))
	for i, a := range arts {
		if digests[i], err = a.digest(); err != nil {
			return nil, nil, err
		}
	}
	paths = make([]string, len(arts))
	uploaded = make([]bool, len(arts))
	err = c.withSFTP(ctx, "ensure", func(sc *sftp.Client) error {
		if err := preparePrivateDir(sc, p); err != nil {
			return err
		}
		for i, a := range arts {
			if err := ctx.Err(); err != nil {
				return err
			}
			paths[i] = path.Join(p.RemoteDir, remoteName(a.Name, digests[i], p))
			fi, err := sc.Lstat(paths[i])
			if err == nil && isOurFile(fi, p, int64(len(a.Data))) {
				continue
			}
			uploaded[i] = true
			if a.Gzip != nil && p.OS != "windows" {
				// Run unpacks <path>.gz before it checks the SHA-256.
				if gz, err := a.Gzip(); err == nil {
					if err := putFile(sc, paths[i]+".gz", gz); err != nil {
						return err
					}
					continue
				}
			}
			if err := putFile(sc, paths[i], a.Data); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return paths, uploaded, nil
}

// Upload writes a into p.RemoteDir even when a file of that name exists,
// for instance after Run reported ErrAgentChecksum.
func (c *Client) Upload(ctx context.Context, p Platform, a Artifact) (remotePath string, err error) {
	digest, err := a.digest()
	if err != nil {
		return "", err
	}
	err = c.withSFTP(ctx, "ensure", func(sc *sftp.Client) error {
		if err := preparePrivateDir(sc, p); err != nil {
			return err
		}
		remotePath = path.Join(p.RemoteDir, remoteName(a.Name, digest, p))
		return putFile(sc, remotePath, a.Data)
	})
	if err != nil {
		return "", err
	}
	return remotePath, nil
}

// withSFTP runs fn with one SFTP session; ctx ending closes the connection.
func (c *Client) withSFTP(ctx context.Context, step string, fn func(*sftp.Client) error) error {
	stop := c.watch(ctx)
	defer stop()
	sc, err := sftp.NewClient(c.ssh, sftp.UseConcurrentWrites(true))
	if err != nil {
		return c.failure(ctx, step, fmt.Errorf("start sftp on %s (is the sftp subsystem enabled?): %w", c.addr, err))
	}
	defer sc.Close()
	if err := fn(sc); err != nil {
		return c.failure(ctx, step, fmt.Errorf("%s: %w", c.addr, err))
	}
	return nil
}

// preparePrivateDir creates p.RemoteDir if needed and checks that it is a
// directory of the login user that nobody else can use.
func preparePrivateDir(sc *sftp.Client, p Platform) error {
	dir := p.RemoteDir
	if dir == "" {
		return &Error{Kind: Config, Step: "ensure", Err: errors.New("the platform has no remote directory: call Detect first")}
	}
	fi, err := sc.Lstat(dir)
	if errors.Is(err, os.ErrNotExist) {
		// A concurrent creator (hosts sharing a filesystem) may win the
		// race: then Mkdir fails and the checks below decide.
		if sc.Mkdir(dir) == nil {
			if err := sc.Chmod(dir, privateMode); err != nil {
				return fmt.Errorf("make %s private: %w", dir, err)
			}
		}
		fi, err = sc.Lstat(dir)
	}
	if err != nil {
		return fmt.Errorf("inspect remote directory %s: %w", dir, err)
	}
	repairable, err := checkPrivateDir(dir, fi, p)
	if err == nil || !repairable {
		return err
	}
	// Ours but not yet private (a concurrent creator about to chmod it, or
	// a umask) and nobody else could write in it: fix the mode.
	if err := sc.Chmod(dir, privateMode); err != nil {
		return fmt.Errorf("make %s private: %w", dir, err)
	}
	if fi, err = sc.Lstat(dir); err != nil {
		return fmt.Errorf("inspect remote directory %s: %w", dir, err)
	}
	_, err = checkPrivateDir(dir, fi, p)
	return err
}

// checkPrivateDir refuses a symbolic link, a non-directory, and on POSIX
// a directory not owned by p.UID or whose mode is not exactly 0700.
// repairable tells that only the mode is wrong and nobody but the owner
// could have written in the directory.
func checkPrivateDir(dir string, fi os.FileInfo, p Platform) (repairable bool, err error) {
	refuse := func(format string, args ...any) error {
		return &Error{Kind: Unsafe, Step: "ensure", Err: fmt.Errorf("remote directory %s "+format+
			": refusing to use it; remove it if it is not needed, or configure another remote directory", append([]any{dir}, args...)...)}
	}
	switch {
	case fi.Mode()&os.ModeSymlink != 0:
		return false, refuse("is a symbolic link")
	case !fi.IsDir():
		return false, refuse("is not a directory")
	case p.OS == "windows":
		// The Windows SFTP server reports no meaningful owner or mode;
		// %TEMP% is private to the user.
		return false, nil
	}
	st, ok := fi.Sys().(*sftp.FileStat)
	if !ok {
		return false, refuse("has no owner information")
	}
	if strconv.FormatUint(uint64(st.UID), 10) != p.UID {
		return false, refuse("belongs to uid %d, not to the login user (uid %s)", st.UID, p.UID)
	}
	if perm := st.Mode & 0o7777; perm != privateMode {
		return perm&0o7022 == 0, refuse("has mode %04o, want 0700", perm)
	}
	return false, nil
}

// isOurFile reports whether fi is a regular file of the expected size,
// and on POSIX owned by p.UID with mode 0700.
func isOurFile(fi os.FileInfo, p Platform, size int64) bool {
	if !fi.Mode().IsRegular() || fi.Size() != size {
		return false
	}
	if p.OS == "windows" {
		return true
	}
	st, ok := fi.Sys().(*sftp.FileStat)
	return ok && strconv.FormatUint(uint64(st.UID), 10) == p.UID && st.Mode&0o7777 == privateMode
}

// tempName is a fresh temporary name beside final.
func tempName(final string) (string, error) {
	var suffix [8]byte
	if _, err := rand.Read(suffix[:]); err != nil {
		return "", err
	}
	return path.Join(path.Dir(final), "."+path.Base(final)+"."+hex.EncodeToString(suffix[:])+".tmp"), nil
}

// writeFile creates the file name (which must not exist) with data; on
// failure the file is removed.
func writeFile(sc *sftp.Client, name string, data []byte) (err error) {
	f, err := sc.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err != nil {
		return fmt.Errorf("create %s: %w", name, err)
	}
	defer func() {
		if err != nil {
			_ = sc.Remove(name)
		}
	}()
	if _, err := f.ReadFrom(bytes.NewReader(data)); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}

// putFile writes data to a fresh temporary file in the directory of
// final, makes it 0700 and renames it over final, so a concurrent upload
// of the same content (hosts sharing a filesystem) never exposes a partial
// file.
func putFile(sc *sftp.Client, final string, data []byte) (err error) {
	tmp, err := tempName(final)
	if err != nil {
		return err
	}
	if err := writeFile(sc, tmp, data); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = sc.Remove(tmp)
		}
	}()
	if err := sc.Chmod(tmp, privateMode); err != nil {
		return fmt.Errorf("chmod %s: %w", tmp, err)
	}
	if _, ok := sc.HasExtension("posix-rename@openssh.com"); ok {
		if err := sc.PosixRename(tmp, final); err != nil {
			return fmt.Errorf("rename %s to %s: %w", tmp, final, err)
		}
		return nil
	}
	// Without posix-rename (Windows), SFTP rename refuses to replace.
	if err := sc.Remove(final); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("replace %s: %w", final, err)
	}
	if err := sc.Rename(tmp, final); err != nil {
		return fmt.Errorf("rename %s to %s: %w", tmp, final, err)
	}
	return nil
}
