//go:build unix

package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// detached runs openlock in a session of its own, without a controlling
// terminal, as from a service manager or cron: signals sent to it alone.
func detached(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} }

// SIGTERM and SIGINT sent to openlock reach the command, which may handle
// them; the lock is released once it has exited, and its status is
// passed on.
func TestRunForwardsSignals(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := t.TempDir()
			lock := filepath.Join(dir, "a.lock")
			name := strings.ToUpper(strings.TrimPrefix(unixSignalName(sig), "SIG"))
			// The sleep starts before "ready", so that $! names it whenever
			// the signal comes; it writes nowhere, so that even a stray one
			// could not keep our pipes open.
			script := `sleep 1000 >/dev/null 2>&1 & trap 'kill $!; echo "caught ` + name + `"; exit 3' ` + name + `; echo ready; wait`
			r := start(t, detached, "run", lock, "--", "sh", "-c", script)
			r.Expect("ready")
			r.Signal(sig)
			r.Expect("caught " + name)
			if code := r.Wait(); code != 3 {
				t.Errorf("openlock exited with %d after the command caught %v; want the command's 3", code, sig)
			}
			if names := files(t, dir); len(names) != 0 {
				t.Errorf("after the command exited the directory holds %q", names)
			}
		})
	}
}

// A command killed by a signal: openlock exits with 128+N, as a shell does.
func TestRunCommandKilled(t *testing.T) {
	lock := filepath.Join(t.TempDir(), "a.lock")
	invoke(t, "run", lock, "--", "sh", "-c", "kill -KILL $$").expectCode(t, 128+9, "run of a command killed by SIGKILL")
}

// A signal while waiting gives up the wait: exit 128+N, nothing left of
// the waiter.
func TestRunSignalWhileWaiting(t *testing.T) {
	dir := t.TempDir()
	lock := filepath.Join(dir, "a.lock")
	h := holder(t, lock)
	before := files(t, dir)
	w := start(t, detached, "run", "-v", lock, "--", "echo", "never")
	w.Expect("openlock: run: waiting for")
	w.Signal(syscall.SIGTERM)
	if code := w.Wait(); code != 128+int(syscall.SIGTERM) {
		t.Errorf("a waiting run exited with %d after SIGTERM; want %d; it wrote %q", code, 128+int(syscall.SIGTERM), output(w))
	}
	if strings.Contains(output(w), "never") {
		t.Error("the command ran although the wait was given up")
	}
	if after := files(t, dir); strings.Join(after, " ") != strings.Join(before, " ") {
		t.Errorf("the directory held %q before the waiter, %q after it", before, after)
	}
	h.CloseStdin()
	h.Wait()
}

func unixSignalName(s syscall.Signal) string {
	switch s {
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGINT:
		return "SIGINT"
	}
	return s.String()
}
