package identity

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/cscs-dev/cscs/core/internal/testkey"
)

func TestLoadOrCreateCreatesThenLoads(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data", "nested")
	id, created, err := LoadOrCreate(dataDir)
	if err != nil {
		t.Fatalf("LoadOrCreate: %v", err)
	}
	if !created {
		t.Fatal("created = false for a fresh data directory")
	}
	if runtime.GOOS != "windows" {
		assertMode(t, dataDir, 0o700)
		assertMode(t, Path(dataDir), 0o600)
	}

	content, err := os.ReadFile(Path(dataDir))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(content)), "\n")
	if len(lines) != 3 {
		t.Fatalf("key file has %d lines, want 3:\n%s", len(lines), content)
	}
	if !strings.HasPrefix(lines[0], "# created: ") {
		t.Errorf("line 1 = %q, want the creation time comment", lines[0])
	} else if _, err := time.Parse(time.RFC3339, strings.TrimPrefix(lines[0], "# created: ")); err != nil {
		t.Errorf("creation time: %v", err)
	}
	if lines[1] != "# public key: "+PublicKey(id) {
		t.Errorf("line 2 = %q, want the public key comment", lines[1])
	}
	if lines[2] != id.String() {
		t.Error("line 3 is not the identity's secret key")
	}
	// The file is a standard age identity file.
	ids, err := age.ParseIdentities(bytes.NewReader(content))
	if err != nil || len(ids) != 1 {
		t.Fatalf("age.ParseIdentities: %v (%d identities)", err, len(ids))
	}

	again, created, err := LoadOrCreate(dataDir)
	if err != nil {
		t.Fatalf("second LoadOrCreate: %v", err)
	}
	if created {
		t.Error("created = true when the key already existed")
	}
	if PublicKey(again) != PublicKey(id) {
		t.Errorf("reloaded key %s differs from created key %s", PublicKey(again), PublicKey(id))
	}
	if !strings.HasPrefix(PublicKey(id), "age1") {
		t.Errorf("PublicKey = %q, want age1...", PublicKey(id))
	}
}

func TestLoadOrCreateKeepsExistingKey(t *testing.T) {
	dataDir := t.TempDir()
	existing := testkey.New(t)
	writeKeyFile(t, dataDir, "# made by age-keygen\n"+existing.String()+"\n", 0o600)
	id, created, err := LoadOrCreate(dataDir)
	if err != nil {
		t.Fatalf("LoadOrCreate: %v", err)
	}
	if created || id.String() != existing.String() {
		t.Fatalf("LoadOrCreate replaced or ignored the existing key (created=%v)", created)
	}
}

func TestLoadOrCreateRejects(t *testing.T) {
	secret, other := testkey.New(t), testkey.New(t)
	// A secret key with its checksum broken: age's parser would quote it.
	broken := secret.String()[:len(secret.String())-1] + "q"
	if broken == secret.String() {
		broken = secret.String()[:len(secret.String())-1] + "p"
	}
	tests := map[string]struct {
		content  string
		mode     fs.FileMode
		skipOn   string
		wantText string
	}{
		"readable by group": {
			content: secret.String() + "\n", mode: 0o640, skipOn: "windows",
			wantText: "chmod 600",
		},
		"readable by others": {
			content: secret.String() + "\n", mode: 0o604, skipOn: "windows",
			wantText: "chmod 600",
		},
		"empty file":       {content: "", mode: 0o600, wantText: "does not hold exactly one"},
		"comments only":    {content: "# public key: age1xyz\n", mode: 0o600, wantText: "does not hold exactly one"},
		"broken checksum":  {content: broken + "\n", mode: 0o600, wantText: "does not hold exactly one"},
		"two keys":         {content: secret.String() + "\n" + other.String() + "\n", mode: 0o600, wantText: "does not hold exactly one"},
		"public key":       {content: secret.Recipient().String() + "\n", mode: 0o600, wantText: "does not hold exactly one"},
		"secret with junk": {content: secret.String() + "x\n", mode: 0o600, wantText: "does not hold exactly one"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if runtime.GOOS == tc.skipOn {
				t.Skip("file modes are not checked on " + tc.skipOn)
			}
			dataDir := t.TempDir()
			writeKeyFile(t, dataDir, tc.content, tc.mode)
			id, _, err := LoadOrCreate(dataDir)
			if err == nil {
				t.Fatalf("LoadOrCreate = %s, want an error", PublicKey(id))
			}
			if !strings.Contains(err.Error(), tc.wantText) {
				t.Errorf("error = %q, want it to mention %q", err, tc.wantText)
			}
			if !strings.Contains(err.Error(), Path(dataDir)) {
				t.Errorf("error = %q, want it to name the key file", err)
			}
			// Neither key, nor a fragment of one, may appear in the error.
			for _, s := range []string{secret.String()[16:30], broken[16:30], other.String()[16:30]} {
				if strings.Contains(strings.ToUpper(err.Error()), s) {
					t.Errorf("error %q contains secret key material", err)
				}
			}
			// The bad file is left for the operator, never replaced.
			got, err := os.ReadFile(Path(dataDir))
			if err != nil || string(got) != tc.content {
				t.Errorf("key file changed: %q, %v", got, err)
			}
		})
	}
}

func TestLoadOrCreateRejectsDirectoryAsKey(t *testing.T) {
	dataDir := t.TempDir()
	if err := os.Mkdir(Path(dataDir), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadOrCreate(dataDir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("err = %v, want a not-a-regular-file error", err)
	}
}

func TestLoadOrCreateNoDataDir(t *testing.T) {
	if _, _, err := LoadOrCreate(""); err == nil {
		t.Fatal("LoadOrCreate(\"\") succeeded")
	}
}

func TestLoadOrCreateRace(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	const racers = 16
	var (
		wg      sync.WaitGroup
		start   = make(chan struct{})
		keys    [racers]string
		created [racers]bool
		errs    [racers]error
	)
	for i := range racers {
		wg.Go(func() {
			<-start
			id, c, err := LoadOrCreate(dataDir)
			if err == nil {
				keys[i] = PublicKey(id)
			}
			created[i], errs[i] = c, err
		})
	}
	close(start)
	wg.Wait()
	creators := 0
	for i := range racers {
		if errs[i] != nil {
			t.Fatalf("racer %d: %v", i, errs[i])
		}
		if keys[i] != keys[0] {
			t.Fatalf("racer %d got key %s, racer 0 got %s", i, keys[i], keys[0])
		}
		if created[i] {
			creators++
		}
	}
	if creators != 1 {
		t.Errorf("%d racers report creating the key, want exactly 1", creators)
	}
	entries, err := os.ReadDir(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != FileName {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("data directory holds %v, want only %s (temporary files must be removed)", names, FileName)
	}
}

func TestPermissionErrorIsNotNotExist(t *testing.T) {
	if runtime.GOOS == "windows" || os.Geteuid() == 0 {
		t.Skip("needs a non-root user on a system with file modes")
	}
	dataDir := t.TempDir()
	writeKeyFile(t, dataDir, "x", 0o000)
	_, _, err := LoadOrCreate(dataDir)
	if err == nil || errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err = %v, want a permission error, not a new key", err)
	}
}

func writeKeyFile(t *testing.T, dataDir, content string, mode fs.FileMode) {
	t.Helper()
	p := Path(dataDir)
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil { // WriteFile's mode is filtered by the umask
		t.Fatal(err)
	}
}

func assertMode(t *testing.T, path string, want fs.FileMode) {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := info.Mode().Perm(); got != want {
		t.Errorf("%s mode = %04o, want %04o", path, got, want)
	}
}
