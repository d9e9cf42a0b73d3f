//go:build unix

package openlock

import (
	"syscall"
	"testing"
)

var stopSignal, contSignal = syscall.SIGSTOP, syscall.SIGCONT

// canPause: a process can be paused with stopSignal here.
const canPause = true

// needPause does nothing here: a process can be paused.
func needPause(testing.TB) {}
