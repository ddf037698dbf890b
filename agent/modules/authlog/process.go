package authlog

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// The module runs journalctl with os.StartProcess rather than os/exec,
// which would add about 40 KB to the Linux agent (extmod does the same).

// process is a started journalctl.
type process struct {
	proc       *os.Process
	stdout     *os.File
	stderrDone chan struct{}
	stopKiller func() bool
}

// startProcess starts path with args, stdin from the null device and
// stderr copied to stderr; ctx's end kills it.
func startProcess(ctx context.Context, path string, args []string, stderr io.Writer) (*process, error) {
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return nil, err
	}
	defer devnull.Close()
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return nil, err
	}
	argv := append([]string{path}, args...)
	proc, err := os.StartProcess(path, argv, &os.ProcAttr{Files: []*os.File{devnull, outW, errW}})
	outW.Close()
	errW.Close()
	if err != nil {
		outR.Close()
		errR.Close()
		return nil, err
	}
	p := &process{proc: proc, stdout: outR, stderrDone: make(chan struct{})}
	go func() {
		defer close(p.stderrDone)
		defer errR.Close()
		_, _ = io.Copy(stderr, errR)
	}()
	p.stopKiller = context.AfterFunc(ctx, func() { _ = proc.Kill() })
	return p, nil
}

// wait waits for the process and its stderr, then closes its stdout; it
// returns an error ("exit status 1", "signal: killed") unless the process
// exited with status 0.
func (p *process) wait() error {
	state, err := p.proc.Wait()
	p.stopKiller()
	<-p.stderrDone
	p.stdout.Close()
	if err != nil {
		return err
	}
	if !state.Success() {
		return errors.New(state.String())
	}
	return nil
}

// lookPath finds the executable file name in the absolute directories of
// $PATH (relative entries are skipped, as os/exec refuses them).
func lookPath(name string) (string, error) {
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		if !filepath.IsAbs(dir) {
			continue
		}
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
			return p, nil
		}
	}
	return "", &fs.PathError{Op: "look up", Path: name, Err: fs.ErrNotExist}
}
