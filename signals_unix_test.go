//go:build unix

package openlock

import "syscall"

var stopSignal, contSignal = syscall.SIGSTOP, syscall.SIGCONT
