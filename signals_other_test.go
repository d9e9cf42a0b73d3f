//go:build !unix

package openlock

import (
	"os"
	"testing"
)

// Outside Unix no signal pauses a process: the tests that pause one skip
// (needPause), and the torture tests kill instead (canPause).
var stopSignal, contSignal os.Signal = nil, nil

const canPause = false

// needPause skips t: it pauses a process, which this OS cannot do with a
// signal.
func needPause(t testing.TB) {
	t.Helper()
	t.Skip("meaningless on Windows: no SIGSTOP/SIGCONT to pause a holder with")
}
