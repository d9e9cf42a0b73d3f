package main

import (
	"os"
	"syscall"
)

// childAttr has the kernel kill the command when openlock dies (even by
// SIGKILL): the command must never run without the lock it was started
// under.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// adopt does nothing on Linux: childAttr has done it.
func adopt(*os.Process) error { return nil }
