package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openlock/openlock/procscan"
)

// run passes on the command's exit status and leaves nothing behind.
func TestRunExitStatus(t *testing.T) {
	dir := t.TempDir()
	lock := filepath.Join(dir, "a.lock")
	for _, code := range []int{0, 1, 7, 255} {
		r := invoke(t, runArgs([]string{"run", lock, "--"}, "exit", strconv.Itoa(code))...)
		r.expectCode(t, code, "run of a command that exits "+strconv.Itoa(code))
	}
	// Flags after LOCKFILE, no "--", and flock's seconds.
	invoke(t, runArgs([]string{"run", lock, "-w", "2.5"}, "exit", "0")...).expectCode(t, 0, "run LOCK -w 2.5 COMMAND")
	if names := files(t, dir); len(names) != 0 {
		t.Errorf("after the runs the directory holds %q", names)
	}
}

// A lock lost while the command ran (its lock file removed, exclusive or
// shared) makes run say so and exit with the lost code (-L, default 76),
// whatever the command's own status, so that a script can tell.
func TestRunLockLost(t *testing.T) {
	dir := t.TempDir()
	lock := filepath.Join(dir, "a.lock")
	readers := filepath.Join(lock+".readers", "*")
	for _, c := range []struct {
		flags []string
		cmd   []string
		want  int
	}{
		{nil, []string{"rm", "0", lock}, 76},
		{nil, []string{"rm", "3", lock}, 76},
		{[]string{"-L", "99"}, []string{"rm", "0", lock}, 99},
		{[]string{"--lost-exit-code", "0"}, []string{"rm", "3", lock}, 0},
		{[]string{"-s"}, []string{"rm", "0", readers}, 76},
		{[]string{"-L", "99"}, []string{"exit", "3"}, 3}, // not lost: the command's own
	} {
		args := runArgs(append(append([]string{"run"}, c.flags...), lock, "--"), c.cmd...)
		r := invoke(t, args...)
		r.expectCode(t, c.want, fmt.Sprintf("run %q", args[1:]))
		if lost := c.cmd[0] == "rm"; lost != strings.Contains(r.stderr, "lock lost") {
			t.Errorf("run %q wrote %q; want \"lock lost\" said if and only if it was", args[1:], r.stderr)
		}
	}
	if h := invoke(t, "run", "--help").stdout; !strings.Contains(h, "-L, --lost-exit-code CODE") || !strings.Contains(h, "lost code (-L, default 76") {
		t.Errorf("run --help does not explain -L and its default:\n%s", h)
	}
}

// While the command runs, the lock is held by openlock: status, run from
// inside the command, names the command's parent.
func TestRunHoldsTheLock(t *testing.T) {
	lock := filepath.Join(t.TempDir(), "a.lock")
	r := invoke(t, runArgs([]string{"run", lock, "--"}, "status", bin, lock)...)
	r.expectCode(t, 0, "run of status --json")
	parent, js, _ := strings.Cut(r.stdout, "\n")
	var s statusJSON
	if err := json.Unmarshal([]byte(js), &s); err != nil {
		t.Fatalf("status --json wrote %q: %v", js, err)
	}
	if want := strings.TrimPrefix(parent, "parent "); s.State != "held" || !s.Held || s.Owner == nil ||
		strconv.Itoa(s.Owner.PID) != want || s.Owner.Verdict != "alive" {
		t.Errorf("status inside the command = %+v (owner %+v); want held by pid %s, alive", s, s.Owner, want)
	}
}

// A busy lock: -w 0 gives up at once with the conflict code, -w gives up
// after the time, naming the holder; once released, the lock is free.
func TestRunConflict(t *testing.T) {
	dir := t.TempDir()
	lock := filepath.Join(dir, "a.lock")
	h := holder(t, lock)
	r := invoke(t, runArgs([]string{"run", "-w", "0", lock, "--"}, "echo", "never")...)
	r.expectCode(t, 1, "run -w 0 on a busy lock")
	if pid := strconv.Itoa(h.PID()); !strings.Contains(r.stderr, "held by pid "+pid) || r.stdout != "" {
		t.Errorf("run -w 0 on a busy lock wrote %q, %q; want a message naming pid %s, and no command", r.stdout, r.stderr, pid)
	}
	invoke(t, runArgs([]string{"run", "-w", "0", "-E", "75", lock}, "exit", "0")...).expectCode(t, 75, "run -w 0 -E 75 on a busy lock")
	invoke(t, runArgs([]string{"run", "--wait", "200ms", "--conflict-exit-code", "9", lock}, "exit", "0")...).expectCode(t, 9, "run --wait 200ms on a busy lock")
	r = invoke(t, runArgs([]string{"run", "-q", "-w", "0", lock}, "exit", "0")...)
	r.expectCode(t, 1, "run -q -w 0 on a busy lock")
	if r.stderr != "" {
		t.Errorf("run -q wrote %q", r.stderr)
	}
	h.CloseStdin()
	h.Expect("released")
	if code := h.Wait(); code != 0 {
		t.Fatalf("the holder exited with %d; it wrote %q", code, output(h))
	}
	invoke(t, runArgs([]string{"run", "-w", "0", lock}, "exit", "0")...).expectCode(t, 0, "run -w 0 on a released lock")
	if names := files(t, dir); len(names) != 0 {
		t.Errorf("after the runs the directory holds %q", names)
	}
}

// A waiting run takes the lock when the holder releases it; -v says so.
func TestRunWaits(t *testing.T) {
	lock := filepath.Join(t.TempDir(), "a.lock")
	h := holder(t, lock)
	w := start(t, nil, runArgs([]string{"run", "-v", lock, "--"}, "echo", "second")...)
	w.Expect("openlock: run: waiting for " + lock + ": held by pid " + strconv.Itoa(h.PID()))
	h.CloseStdin()
	w.Expect("second")
	if code := w.Wait(); code != 0 {
		t.Fatalf("the waiting run exited with %d; it wrote %q", code, output(w))
	}
}

// A command that is not there, or cannot be executed, fails as in a shell,
// and no lock is taken.
func TestRunCommandNotFound(t *testing.T) {
	dir := t.TempDir()
	lock := filepath.Join(dir, "a.lock")
	r := invoke(t, "run", lock, "--", "no-such-command-openlock")
	r.expectCode(t, 127, "run of a missing command")
	if !strings.Contains(r.stderr, "no-such-command-openlock: command not found") {
		t.Errorf("run of a missing command wrote %q", r.stderr)
	}
	invoke(t, "run", lock, "--", filepath.Join(dir, "missing")).expectCode(t, 127, "run of a missing path")
	notExecutable := 126
	if runtime.GOOS == "windows" {
		notExecutable = 127 // no program there: Windows tells programs by their extension
	}
	invoke(t, "run", lock, "--", dir).expectCode(t, notExecutable, "run of a directory")
	if names := files(t, dir); len(names) != 0 {
		t.Errorf("after the failed runs the directory holds %q", names)
	}
}

// Bad usage: a clear message, status 64 (EX_USAGE, as flock's), nothing
// created; a lock path that cannot be used: status 2.
func TestRunBadUsage(t *testing.T) {
	dir := t.TempDir()
	lock := filepath.Join(dir, "a.lock")
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"run"}, exitUsage, "missing LOCKFILE"},
		{[]string{"run", "-w", "5"}, exitUsage, "missing LOCKFILE"},
		{[]string{"run", lock}, exitUsage, "missing COMMAND"},
		{[]string{"run", lock, "--"}, exitUsage, "missing COMMAND"},
		{[]string{"run", "-w", "soon", lock, self}, exitUsage, "-w soon: want a duration"},
		{[]string{"run", "-w", "-1", lock, self}, exitUsage, "-w -1: want a duration of 0 or more"},
		{[]string{"run", "-E", "300", lock, self}, exitUsage, "-E 300: want an exit status, 0 to 255"},
		{[]string{"run", "-E", "abc", lock, self}, exitUsage, "-E abc: want an exit status, 0 to 255"},
		{[]string{"run", "--conflict-exit-code=abc", lock, self}, exitUsage, "--conflict-exit-code abc: want an exit status"},
		{[]string{"run", lock, "-w"}, exitUsage, "-w needs a value"},
		{[]string{"run", "--frob", lock, self}, exitUsage, "unknown flag --frob"},
		{[]string{"run", filepath.Join(dir, "missing", "a.lock"), self}, exitError, "does not exist"},
		{[]string{"run", dir, self}, exitError, "not a lock file"},
		{[]string{"run", lock, "-c", "true", "false"}, exitUsage, "give one or the other"},
		{[]string{"run", lock, "-c", ""}, exitUsage, "-c needs a shell command"},
	} {
		r := invoke(t, tt.args...)
		r.expectCode(t, tt.code, strings.Join(tt.args, " "))
		if !strings.Contains(r.stderr, tt.want) || strings.Contains(r.stderr, "panic") {
			t.Errorf("openlock %q wrote %q; want a message with %q", tt.args, r.stderr, tt.want)
		}
	}
	if names := files(t, dir); len(names) != 0 {
		t.Errorf("after bad usage the directory holds %q", names)
	}
}

// A user's data file at the lock path is refused (exit 2, the path named),
// the command does not run, and the file is left as it was: the seed, and
// openlock before 1.0, took it over and deleted it at release.
func TestRunRefusesDataFile(t *testing.T) {
	for _, content := range []string{
		"remember the milk\n",
		"2024\nQuarterly report\nrevenue 10\ncosts 5\n", // a number, then text: no seed record
		"1\nsystemd\nextra\n",
	} {
		data := filepath.Join(t.TempDir(), "notes.txt")
		if err := os.WriteFile(data, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		r := invoke(t, runArgs([]string{"run", data, "--"}, "echo", "ran")...)
		r.expectCode(t, 2, "run on a data file")
		if r.stdout != "" || !strings.Contains(r.stderr, data) || !strings.Contains(r.stderr, "not a lock file") {
			t.Errorf("run on a data file wrote %q, %q; want no command and an error naming %s", r.stdout, r.stderr, data)
		}
		if b, err := os.ReadFile(data); err != nil || string(b) != content {
			t.Errorf("data file after run: %q, %v; want %q", b, err, content)
		}
		if names := files(t, filepath.Dir(data)); len(names) != 1 {
			t.Errorf("directory holds %q; want only the data file", names)
		}
	}
}

// If openlock is killed (SIGKILL; TerminateProcess on Windows), the command
// is killed too (Linux: a parent-death signal; Windows: a kill-on-close job
// object): it must not run on without the lock.
func TestRunKilledTakesCommandAlong(t *testing.T) {
	if !pdeathsig {
		t.Skip("only Linux and Windows tie the command's life to openlock's")
	}
	dir := t.TempDir()
	lock := filepath.Join(dir, "a.lock")
	h := start(t, nil, runArgs([]string{"run", lock, "--"}, "pid")...)
	pid, err := strconv.Atoi(strings.TrimPrefix(h.Expect("pid "), "pid "))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := procscan.System().Process(pid); err != nil {
		t.Fatalf("the command (pid %d) is not seen running: %v", pid, err)
	}
	h.Kill()
	h.Wait()
	for deadline := time.Now().Add(long); ; time.Sleep(10 * time.Millisecond) {
		if _, err := procscan.System().Process(pid); err != nil {
			break // gone
		}
		if time.Now().After(deadline) {
			if p, err := os.FindProcess(pid); err == nil {
				p.Kill() // not left behind
			}
			t.Fatalf("the command (pid %d) still runs %v after openlock was killed", pid, long)
		}
	}
	r := invoke(t, "status", "--json", lock)
	r.expectCode(t, 1, "status of a lock whose holder was killed")
	if !strings.Contains(r.stdout, `"state": "stale"`) {
		t.Errorf("status after the holder was killed: %s", r.stdout)
	}
}
