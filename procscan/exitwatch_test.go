package procscan

import (
	"os"
	"os/exec"
	"testing"
	"time"
)

// checkExitWatch checks w, a watch on cmd's running process, where the OS
// has one (exit_linux.go, exit_windows.go): it does not fire while the
// process runs and fires once it is killed; a reused PID (here: a wrong
// start time) is refused; Stop ends a watch on a live process.
func checkExitWatch(t *testing.T, cmd *exec.Cmd, w *ExitWatch) {
	t.Helper()
	select {
	case <-w.Exited():
		t.Fatal("Exited fired while the process runs")
	default:
	}
	cmd.Process.Kill() // at once: the watch's goroutine may not be waiting yet
	cmd.Wait()
	select {
	case <-w.Exited():
	case <-time.After(time.Minute):
		t.Fatal("Exited did not fire after the process was killed")
	}
	if _, err := WatchExit(Process{PID: os.Getpid(), Start: "1"}); err == nil {
		t.Error("WatchExit accepted a record whose start time is not the process's")
	}
	me, _ := System().Process(os.Getpid())
	w2, err := WatchExit(me)
	if err != nil {
		t.Fatal(err)
	}
	w2.Stop()
}
