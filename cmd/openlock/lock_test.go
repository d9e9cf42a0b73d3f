package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// script runs "sh -c text sh bin args..." in the background: $1 is the
// openlock binary.
func script(t *testing.T, text string, args ...string) *running {
	t.Helper()
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skipf("meaningless without a POSIX sh (Windows): the test is a sh script that uses openlock lock and unlock; %v", err)
	}
	return start(t, func(c *exec.Cmd) {
		c.Path, c.Args = sh, append([]string{"sh", "-c", text, "sh", bin}, args...)
	})
}

// pidIn returns the number after prefix in line.
func pidIn(t *testing.T, line, prefix string) int {
	t.Helper()
	_, after, _ := strings.Cut(line, prefix)
	pid, err := strconv.Atoi(strings.Fields(after)[0])
	if err != nil {
		t.Fatalf("no pid after %q in %q", prefix, line)
	}
	return pid
}

// A shell script holds the lock across commands with lock --pid $$ and
// releases it with unlock --pid $$: meanwhile the lock names the shell, is
// busy for others, and is not taken twice by the same shell.
func TestLockUnlock(t *testing.T) {
	dir := t.TempDir()
	lock := filepath.Join(dir, "a.lock")
	sh := script(t, `"$1" lock --pid $$ "$2" && echo "locked $$"; read x; "$1" unlock --pid $$ "$2"; echo "unlocked $?"; read y`, lock)
	pid := pidIn(t, sh.Expect("locked "), "locked ")

	s := statusOf(t, lock, 0)
	if s.State != "held" || s.Owner == nil || s.Owner.PID != pid || s.Owner.Verdict != "alive" {
		t.Errorf("status --json of the script's lock = %+v, owner %+v; want held by the shell, pid %d, alive", s, s.Owner, pid)
	}
	if names := files(t, dir); len(names) != 1 {
		t.Errorf("while the script holds the lock the directory holds %q; want the lock file alone", names)
	}
	r := invoke(t, "run", "-n", lock, "true")
	r.expectCode(t, 1, "run -n while the script holds the lock")
	if !strings.Contains(r.stderr, "held by pid "+strconv.Itoa(pid)) {
		t.Errorf("run -n wrote %q; want the shell named", r.stderr)
	}
	r = invoke(t, "lock", "--pid", strconv.Itoa(pid), "-n", lock)
	r.expectCode(t, 2, "lock for the pid that holds it")
	if !strings.Contains(r.stderr, "not reentrant") {
		t.Errorf("lock for the pid that holds it wrote %q", r.stderr)
	}
	// Another live process does not hold it: unlock for it removes nothing.
	r = invoke(t, "unlock", "--pid", strconv.Itoa(os.Getpid()), lock)
	r.expectCode(t, 1, "unlock for a pid that does not hold the lock")
	if !strings.Contains(r.stderr, "not held by pid "+strconv.Itoa(os.Getpid())) {
		t.Errorf("unlock for another pid wrote %q", r.stderr)
	}
	statusOf(t, lock, 0)

	sh.Send("")
	sh.Expect("unlocked 0")
	statusOf(t, lock, 1)
	if names := files(t, dir); len(names) != 0 {
		t.Errorf("after unlock the directory holds %q", names)
	}
	r = invoke(t, "unlock", "--pid", strconv.Itoa(pid), lock)
	r.expectCode(t, 1, "unlock of a free lock")
	sh.CloseStdin()
	sh.Wait()
}

// A script that dies holding the lock leaves it stale: the next lock takes
// it over at once.
func TestLockFreedWhenScriptDies(t *testing.T) {
	lock := filepath.Join(t.TempDir(), "a.lock")
	sh := script(t, `"$1" lock --pid $$ "$2" && echo "locked $$"; read x`, lock)
	pid := pidIn(t, sh.Expect("locked "), "locked ")
	sh.Kill()
	sh.Wait()
	if s := statusOf(t, lock, 1); s.State != "stale" || s.Owner == nil || s.Owner.PID != pid {
		t.Errorf("status --json after the script died = %+v, owner %+v; want stale, pid %d", s, s.Owner, pid)
	}
	invoke(t, "run", "-n", lock, "true").expectCode(t, 0, "run -n on the dead script's lock")
}

func TestLockBadUsage(t *testing.T) {
	dir := t.TempDir()
	lock := filepath.Join(dir, "a.lock")
	self := strconv.Itoa(os.Getpid())
	const noSuchPID = "4194305" // above the largest pid_max Linux allows
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"lock", lock}, exitUsage, "--pid is required"},
		{[]string{"unlock", lock}, exitUsage, "--pid is required"},
		{[]string{"lock", "--pid", "0", lock}, exitUsage, "--pid 0: want the pid of a running process"},
		{[]string{"lock", "--pid", "x", lock}, exitUsage, "--pid x: not a number"},
		{[]string{"lock", "--pid", noSuchPID, lock}, 2, "--pid " + noSuchPID + ": no such process"},
		{[]string{"unlock", "--pid", noSuchPID, lock}, 2, "no such process"},
		{[]string{"lock", "--pid", self}, exitUsage, "missing LOCKFILE"},
		{[]string{"lock", "--pid", self, filepath.Join(dir, "missing", "a.lock")}, 2, "does not exist"},
		{[]string{"unlock", "--pid", self, lock}, 1, "not held by pid " + self + ": there is no lock file"},
	} {
		r := invoke(t, tt.args...)
		r.expectCode(t, tt.code, strings.Join(tt.args, " "))
		if !strings.Contains(r.stderr, tt.want) {
			t.Errorf("openlock %q wrote %q; want %q", tt.args, r.stderr, tt.want)
		}
	}
	// Busy: the conflict code, as with run.
	h := holder(t, lock)
	invoke(t, "lock", "--pid", self, "-n", lock).expectCode(t, 1, "lock -n on a busy lock")
	invoke(t, "lock", "--pid", self, "--timeout", "0.1", "-E", "7", lock).expectCode(t, 7, "lock --timeout 0.1 -E 7 on a busy lock")
	h.CloseStdin()
	h.Wait()
	if names := files(t, dir); len(names) != 0 {
		t.Errorf("after the failed locks the directory holds %q", names)
	}
}

// A second unlock says once what failed: "openlock: unlock: PATH: lock not
// held ...", without the library's operation again ("unlock: unlock PATH").
func TestUnlockTwiceText(t *testing.T) {
	lock := filepath.Join(t.TempDir(), "a.lock")
	self := strconv.Itoa(os.Getpid())
	invoke(t, "lock", "--pid", self, lock).expectCode(t, 0, "lock --pid")
	invoke(t, "unlock", "--pid", self, lock).expectCode(t, 0, "unlock --pid")
	r := invoke(t, "unlock", "--pid", self, lock)
	r.expectCode(t, 1, "a second unlock --pid")
	if want := "openlock: unlock: " + lock + ": lock not held by pid " + self + ": there is no lock file\n"; r.stderr != want {
		t.Errorf("a second unlock wrote %q; want %q", r.stderr, want)
	}
}
