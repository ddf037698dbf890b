package extmod

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/windows"

	"github.com/cscs-dev/cscs/agent/internal/testdir"
	"github.com/cscs-dev/cscs/agent/protocol"
)

// roleEnv makes the test binary act as a module (role "module": it
// starts a child, then answers or hangs) or as that child (role "child":
// it records its pid in childPidFile and sleeps for 30 s).
const (
	roleEnv      = "CSCS_EXTMOD_TEST_ROLE"
	hangEnv      = "CSCS_EXTMOD_TEST_HANG"
	childPidFile = "child.pid"
)

func TestMain(m *testing.M) {
	switch os.Getenv(roleEnv) {
	case "child":
		_ = os.WriteFile(childPidFile, []byte(strconv.Itoa(os.Getpid())), 0o600)
		time.Sleep(30 * time.Second)
		os.Exit(0)
	case "module":
		exe, _ := os.Executable()
		env := append(os.Environ(), roleEnv+"=child")
		// The child inherits nothing of the module's stdio: only the job
		// object can reach it.
		null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		nulls := []*os.File{null, null, null}
		if _, err := os.StartProcess(exe, []string{exe}, &os.ProcAttr{Env: env, Files: nulls}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		for range 200 {
			if _, err := os.Stat(childPidFile); err == nil {
				break
			}
			time.Sleep(25 * time.Millisecond)
		}
		if os.Getenv(hangEnv) == "1" {
			time.Sleep(30 * time.Second)
		}
		fmt.Println(`{"metrics":[{"name":"users.logged_in","value":1,"unit":"count"}]}`)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// installExe copies the test binary into dir as a module of source
// "users" named name.
func installExe(t *testing.T, dir, name string) protocol.ExternalModule {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	return installBytes(t, dir, name, data)
}

func installBytes(t *testing.T, dir, name string, data []byte) protocol.ExternalModule {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o700); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return protocol.ExternalModule{Source: "users", Path: p, SHA256: hex.EncodeToString(sum[:])}
}

// TestRunKillsTreeWindows runs modules that start a child which does not
// share their stdio, then hang past the deadline or answer at once: the
// child must die with them either way (its job object).
func TestRunKillsTreeWindows(t *testing.T) {
	tests := map[string]struct {
		hang    bool
		viaCmd  bool
		wantErr string
	}{
		"deadline":            {hang: true, wantErr: "did not finish within 1s; killed it and every process it started (its job object)"},
		"leftover":            {},
		"cmd script deadline": {hang: true, viaCmd: true, wantErr: "did not finish within 1s; killed it and every process it started"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := testdir.New(t)
			m := installExe(t, dir, "users.exe")
			if tc.viaCmd {
				// A .cmd module run by cmd.exe that starts the program.
				m = installBytes(t, dir, "users.cmd", []byte("@echo off\r\n\""+m.Path+"\"\r\n"))
				m.Interpreter = []string{"cmd.exe", "/c"}
			}
			m.TimeoutMillis = 1000
			t.Setenv(roleEnv, "module")
			t.Setenv(hangEnv, map[bool]string{true: "1", false: "0"}[tc.hang])
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			start := time.Now()
			got := Runner{Dir: dir}.Run(ctx, []protocol.ExternalModule{m}, nil)
			if elapsed := time.Since(start); elapsed > 20*time.Second {
				t.Errorf("took %v; the module's child (30 s) held the run up", elapsed)
			}
			switch {
			case tc.wantErr == "" && (got[0].Error != "" || len(got[0].Metrics) != 1):
				t.Fatalf("result %+v, want the metric", got[0])
			case tc.wantErr != "" && !strings.Contains(got[0].Error, tc.wantErr):
				t.Fatalf("error %q, want %q", got[0].Error, tc.wantErr)
			}
			assertExited(t, filepath.Join(dir, childPidFile))
		})
	}
}

// assertExited checks that the process whose pid is in pidFile has ended.
func assertExited(t *testing.T, pidFile string) {
	t.Helper()
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatalf("the module did not start its child: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	h, err := windows.OpenProcess(windows.SYNCHRONIZE, false, uint32(pid))
	if err != nil {
		return // no such process any more
	}
	defer windows.CloseHandle(h)
	if ev, err := windows.WaitForSingleObject(h, 10_000); err != nil || ev != windows.WAIT_OBJECT_0 {
		t.Fatalf("child %d of the module still runs (wait: %#x, %v)", pid, ev, err)
	}
}
