package sshdtest

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// stateDir keeps the locks and the current password shared by every test
// process on the machine (go test runs packages in parallel).
const stateDir = "/run/cscs-sshdtest"

// testUser is the set-up login account. While it is held, no other Start
// rotates the password; release lets the next Start do so.
type testUser struct {
	uid, gid int
	password string
	alive    *os.File
}

func (u testUser) release() { u.alive.Close() }

// setUpUser creates the account if it is missing and settles its password.
// The password is rotated to a fresh random value whenever no other fleet,
// in this or another process, is running: a fleet started by a package
// tested in parallel keeps working. A shared flock on fleets.lock marks a
// running fleet; setup.lock serializes the rotation itself.
func setUpUser(tools toolPaths) (testUser, error) {
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return testUser{}, fmt.Errorf("create %s: %w", stateDir, err)
	}
	setup, err := os.OpenFile(filepath.Join(stateDir, "setup.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return testUser{}, fmt.Errorf("open setup lock: %w", err)
	}
	defer setup.Close() // closing drops the lock
	if err := flock(setup, syscall.LOCK_EX); err != nil {
		return testUser{}, fmt.Errorf("lock setup: %w", err)
	}

	uid, gid, err := ensureAccount(tools.useradd)
	if err != nil {
		return testUser{}, err
	}

	alive, err := os.OpenFile(filepath.Join(stateDir, "fleets.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return testUser{}, fmt.Errorf("open fleet lock: %w", err)
	}
	password, err := settlePassword(alive, tools.chpasswd)
	if err != nil {
		alive.Close()
		return testUser{}, err
	}
	if err := flock(alive, syscall.LOCK_SH); err != nil {
		alive.Close()
		return testUser{}, fmt.Errorf("mark fleet running: %w", err)
	}
	return testUser{uid: uid, gid: gid, password: password, alive: alive}, nil
}

// settlePassword sets a fresh password when no fleet is running, or reads
// the one in force. The caller holds setup.lock.
func settlePassword(alive *os.File, chpasswd string) (string, error) {
	passwordFile := filepath.Join(stateDir, "password")
	err := flock(alive, syscall.LOCK_EX|syscall.LOCK_NB)
	switch {
	case errors.Is(err, syscall.EWOULDBLOCK):
		data, err := os.ReadFile(passwordFile)
		if err != nil {
			return "", fmt.Errorf("read the password of the running fleet: %w", err)
		}
		password := strings.TrimSpace(string(data))
		if len(password) != 32 {
			return "", fmt.Errorf("%s is malformed: remove it once no test runs", passwordFile)
		}
		return password, nil
	case err != nil:
		return "", fmt.Errorf("lock fleets: %w", err)
	}
	var raw [16]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("generate password: %w", err)
	}
	password := hex.EncodeToString(raw[:])
	cmd := exec.Command(chpasswd)
	cmd.Stdin = strings.NewReader(UserName + ":" + password + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("chpasswd for %s: %w: %s", UserName, err, strings.TrimSpace(string(out)))
	}
	if err := writeFileAtomic(passwordFile, []byte(password+"\n")); err != nil {
		return "", err
	}
	return password, nil
}

// ensureAccount creates UserName with useradd if it does not exist and
// returns its ids.
func ensureAccount(useradd string) (uid, gid int, err error) {
	u, err := user.Lookup(UserName)
	if errors.As(err, new(user.UnknownUserError)) {
		out, addErr := exec.Command(useradd, "-m", "-s", "/bin/sh", UserName).CombinedOutput()
		if addErr != nil {
			return 0, 0, fmt.Errorf("useradd %s: %w: %s", UserName, addErr, strings.TrimSpace(string(out)))
		}
		u, err = user.Lookup(UserName)
	}
	if err != nil {
		return 0, 0, fmt.Errorf("look up user %s: %w", UserName, err)
	}
	if uid, err = strconv.Atoi(u.Uid); err != nil {
		return 0, 0, fmt.Errorf("uid of %s: %w", UserName, err)
	}
	if gid, err = strconv.Atoi(u.Gid); err != nil {
		return 0, 0, fmt.Errorf("gid of %s: %w", UserName, err)
	}
	return uid, gid, nil
}

func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("replace %s: %w", path, err)
	}
	return nil
}

func flock(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}
