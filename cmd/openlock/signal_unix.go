//go:build unix

package main

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// forwarded are the signals "run" catches: while waiting they end the wait;
// while the command runs they are passed on to it.
var forwarded = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT}

// forward passes a signal on to the command. SIGINT and SIGQUIT typed on the
// terminal (Ctrl-C, Ctrl-\) already reached the command, which shares our
// foreground process group: they are not sent twice.
func forward(p *os.Process, s os.Signal) {
	if (s == syscall.SIGINT || s == syscall.SIGQUIT) && inForeground() {
		return
	}
	p.Signal(s)
}

// inForeground reports whether this process's group is the foreground
// process group of its controlling terminal.
func inForeground() bool {
	tty, err := os.Open("/dev/tty")
	if err != nil {
		return false // no controlling terminal
	}
	defer tty.Close()
	pgrp, err := unix.IoctlGetInt(int(tty.Fd()), unix.TIOCGPGRP)
	return err == nil && pgrp == unix.Getpgrp()
}

// signalStatus is the exit status of a process ended by s, as a shell
// reports it.
func signalStatus(s os.Signal) int {
	if n, ok := s.(syscall.Signal); ok {
		return 128 + int(n)
	}
	return 128
}

// exitStatus is the exit status of a finished command, as a shell reports
// it: 128+N when signal N ended it.
func exitStatus(ps *os.ProcessState) int {
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return signalStatus(ws.Signal())
	}
	return ps.ExitCode()
}

// signalable returns an error unless this user may signal the process pid:
// a lock handed to a process it could not end would stay held, by a
// process of another user, for as long as that one lives.
func signalable(pid int) error {
	switch err := syscall.Kill(pid, 0); {
	case errors.Is(err, syscall.EPERM):
		return fmt.Errorf("--pid %d: a process of another user, which this user may not signal: "+
			"it would hold the lock for as long as it runs, and this user could not end it; "+
			"give the pid of this script (--pid $$), or --force if it must be that process", pid)
	case errors.Is(err, syscall.ESRCH):
		return fmt.Errorf("--pid %d: no such process", pid)
	case err != nil:
		return fmt.Errorf("--pid %d: %v", pid, err)
	}
	return nil
}
