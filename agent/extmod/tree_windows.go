package extmod

import (
	"fmt"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"
)

// sysProcAttr starts the module suspended, so that newTree can put it in
// a job object before it runs and can start anything.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{CreationFlags: windows.CREATE_SUSPENDED}
}

// tree is a started module and every process it starts: a job object
// that kills them all when it is terminated or its last handle closes.
// job is 0 when the module could not be put in one (a system older than
// Windows 8 that already runs the agent in a job); then only the module
// itself is killed, and killed says so.
type tree struct {
	proc *os.Process
	job  windows.Handle
}

// newTree puts the suspended module in a new job object and lets it run.
// It fails only when the module cannot be resumed; the caller then kills
// it.
func newTree(proc *os.Process) (tree, error) {
	t := tree{proc: proc}
	if job, err := newKillingJob(uint32(proc.Pid)); err == nil {
		t.job = job
	}
	if err := resume(uint32(proc.Pid)); err != nil {
		t.close()
		return tree{}, err
	}
	return t, nil
}

// newKillingJob creates a job object with KILL_ON_JOB_CLOSE and assigns
// process pid to it. Processes that pid starts join the job.
func newKillingJob(pid uint32) (windows.Handle, error) {
	job, err := windows.CreateJobObject(nil, nil)
	if err != nil {
		return 0, fmt.Errorf("create job object: %w", err)
	}
	info := windows.JOBOBJECT_EXTENDED_LIMIT_INFORMATION{}
	info.BasicLimitInformation.LimitFlags = windows.JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
	if _, err := windows.SetInformationJobObject(job, windows.JobObjectExtendedLimitInformation,
		uintptr(unsafe.Pointer(&info)), uint32(unsafe.Sizeof(info))); err != nil {
		_ = windows.CloseHandle(job)
		return 0, fmt.Errorf("set job object limits: %w", err)
	}
	h, err := windows.OpenProcess(windows.PROCESS_SET_QUOTA|windows.PROCESS_TERMINATE, false, pid)
	if err != nil {
		_ = windows.CloseHandle(job)
		return 0, fmt.Errorf("open module process: %w", err)
	}
	defer windows.CloseHandle(h)
	if err := windows.AssignProcessToJobObject(job, h); err != nil {
		_ = windows.CloseHandle(job)
		return 0, fmt.Errorf("assign module to job object: %w", err)
	}
	return job, nil
}

// resume resumes the threads of process pid, which was started suspended
// (os.StartProcess keeps the handle of its first thread to itself).
func resume(pid uint32) error {
	snap, err := windows.CreateToolhelp32Snapshot(windows.TH32CS_SNAPTHREAD, 0)
	if err != nil {
		return fmt.Errorf("resume module: list threads: %w", err)
	}
	defer windows.CloseHandle(snap)
	te := windows.ThreadEntry32{Size: uint32(unsafe.Sizeof(windows.ThreadEntry32{}))}
	resumed := 0
	for err = windows.Thread32First(snap, &te); err == nil; err = windows.Thread32Next(snap, &te) {
		if te.OwnerProcessID != pid {
			continue
		}
		th, err := windows.OpenThread(windows.THREAD_SUSPEND_RESUME, false, te.ThreadID)
		if err != nil {
			return fmt.Errorf("resume module: open thread: %w", err)
		}
		_, err = windows.ResumeThread(th)
		_ = windows.CloseHandle(th)
		if err != nil {
			return fmt.Errorf("resume module: %w", err)
		}
		resumed++
	}
	if resumed == 0 {
		return fmt.Errorf("resume module: process %d has no thread", pid)
	}
	return nil
}

// kill kills the module and everything it started.
func (t tree) kill() error {
	if t.job == 0 {
		return t.proc.Kill()
	}
	return windows.TerminateJobObject(t.job, 1)
}

// killed says what kill kills, for an error message.
func (t tree) killed() string {
	if t.job == 0 {
		return "it (the processes it started may still run: it could not be put in a job object)"
	}
	return "it and every process it started (its job object)"
}

// close kills whatever the module left running after it exited (a module
// must not leave processes behind) and closes the job.
func (t tree) close() {
	if t.job == 0 {
		return
	}
	_ = t.kill()
	_ = windows.CloseHandle(t.job)
}
