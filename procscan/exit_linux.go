package procscan

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// An ExitWatch reports the exit of one process, without polling: on Linux a
// pidfd (pidfd_open(2), Linux 5.3) becomes readable when the process exits.
type ExitWatch struct {
	f    *os.File
	done chan struct{}
}

// WatchExit starts watching p, as System() found it. It fails if the OS
// cannot watch processes this way, or if p's PID now belongs to another
// process (it checks the start time after opening the pidfd, so the watch
// never follows a reused PID).
func WatchExit(p Process) (*ExitWatch, error) {
	fd, err := OpenPidfd(p)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), "pidfd")
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, err
	}
	w := &ExitWatch{f: f, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		// Read calls exited, and while it says no, waits for the pidfd to
		// become readable through the runtime's poller (Close ends the wait
		// too). exited must ask the kernel: Read resets the poller's record
		// of readiness before its first call, so an exit before that would
		// otherwise never be seen.
		rc.Read(exited)
	}()
	return w, nil
}

// OpenPidfd returns a pidfd of p (pidfd_open(2), non-blocking, close on
// exec), as System() found it: it becomes readable when p exits. It fails
// if the OS cannot watch processes this way, or if p's PID now belongs to
// another process (it checks the start time after opening the pidfd, so
// the descriptor never follows a reused PID). The caller closes it.
func OpenPidfd(p Process) (int, error) {
	fd, err := OpenJudgedPidfd(p)
	if err != nil {
		return -1, err
	}
	if now, err := (procTable{}).Process(p.PID); err != nil || now.Start != p.Start {
		unix.Close(fd)
		return -1, fmt.Errorf("pid %d is no longer the process watched", p.PID)
	}
	return fd, nil
}

// OpenJudgedPidfd is OpenPidfd for a process that Judge found alive a
// moment ago, without reading its start time again: reading /proc/PID/stat
// is most of what a waiter's look costs the kernel. The PID cannot have
// passed to another process meanwhile unless p exited and the kernel's PID
// counter went round all of pid_max since the judgement; the caller bounds
// that moment (to milliseconds), and what it risks is a descriptor that
// does not tell of p's exit, never a verdict.
func OpenJudgedPidfd(p Process) (int, error) {
	if !ownProc() {
		return -1, errors.New("/proc shows another PID namespace")
	}
	fd, err := unix.PidfdOpen(p.PID, unix.PIDFD_NONBLOCK)
	if err != nil {
		return -1, fmt.Errorf("pidfd_open(%d): %w", p.PID, err)
	}
	return fd, nil
}

// exited reports whether the process behind the pidfd has exited (or the
// pidfd is unusable, which ends the watch too).
func exited(fd uintptr) bool {
	for {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, 0)
		if err != unix.EINTR {
			return err != nil || n > 0
		}
	}
}

// Exited is closed when the process has exited, or the watch was stopped.
func (w *ExitWatch) Exited() <-chan struct{} { return w.done }

// Stop ends the watch and waits for its goroutine.
func (w *ExitWatch) Stop() {
	w.f.Close()
	<-w.done
}
