package procscan

import (
	"os"
	"os/exec"
	"testing"
	"time"
)

// TestWatchExitWindows: the watch on a process handle fires when the
// process is killed, not before; a reused PID is refused; Stop ends a
// watch on a live process.
func TestWatchExitWindows(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestExitHelper$")
	cmd.Env = append(os.Environ(), "PROCSCAN_TEST_SLEEP=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer cmd.Process.Kill()
	p, err := System().Process(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	w, err := WatchExit(p)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	checkExitWatch(t, cmd, w)
}

// TestExitHelper is the process TestWatchExitWindows watches: with
// PROCSCAN_TEST_SLEEP set it sleeps until killed (a minute at most).
func TestExitHelper(t *testing.T) {
	if os.Getenv("PROCSCAN_TEST_SLEEP") == "" {
		t.Skip("the process TestWatchExitWindows starts and kills; nothing to do alone")
	}
	time.Sleep(time.Minute)
}
