package main

import "syscall"

// childAttr has the kernel kill the command when openlock dies (even by
// SIGKILL): the command must never run without the lock it was started
// under.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
