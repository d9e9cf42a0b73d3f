package main

import (
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/openlock/openlock/internal/testfs"
)

// A lock file this user may not read is reported as unreadable, counting as
// held (status exits 0), and run names it so instead of calling it busy.
func TestStatusUnreadable(t *testing.T) {
	dir, as := unprivileged(t)
	lock := filepath.Join(dir, "a.lock")
	h := holder(t, lock)
	os.Chmod(lock, 0) // the holder's inode: the lock file and its token

	r := invokeWith(t, as, "status", lock)
	r.expectCode(t, 0, "status of an unreadable lock file")
	if !strings.Contains(r.stdout, lock+": unreadable") || !strings.Contains(r.stdout, "counts as held") ||
		!strings.Contains(r.stdout, "belongs to user ") || !strings.Contains(r.stdout, "must remove it, or lock a path elsewhere") {
		t.Errorf("status of an unreadable lock file wrote %q, %q; want it called unreadable, with its owner and what to do", r.stdout, r.stderr)
	}
	r = invokeWith(t, as, "status", "--json", lock)
	r.expectCode(t, 0, "status --json of an unreadable lock file")
	var s statusJSON
	if err := json.Unmarshal([]byte(r.stdout), &s); err != nil || s.State != "unreadable" || !s.Held || s.Error == "" {
		t.Errorf("status --json of an unreadable lock file wrote %q (%v); want state unreadable, held", r.stdout, err)
	}
	r = invokeWith(t, as, "run", "-n", lock, "true")
	r.expectCode(t, 1, "run -n on an unreadable lock file")
	if !strings.Contains(r.stderr, "unreadable") || strings.Contains(r.stderr, "busy") || !strings.Contains(r.stderr, "belongs to user ") {
		t.Errorf("run -n on an unreadable lock file wrote %q; want it called unreadable, with its owner, not busy", r.stderr)
	}
	h.CloseStdin()
	h.Wait()
}

// Another user's stale lock file in a sticky directory, which this user may
// not take over: status calls it stale but says who must remove it, and run
// fails at once (exit 2), saying the same and leaving the file.
func TestStatusForeignStale(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root, to leave a stale lock file of root's that user nobody then meets")
	}
	dir, as := unprivileged(t)
	lock := filepath.Join(dir, "a.lock")
	h := holder(t, lock) // root's
	h.Kill()
	h.Wait()
	const what = "root must remove it, or lock a path elsewhere"
	r := invokeWith(t, as, "status", lock)
	r.expectCode(t, 1, "status of another user's stale lock")
	if !strings.Contains(r.stdout, lock+": stale: its holder is dead, but this user may not take it over") ||
		!strings.Contains(r.stdout, "denied   stale lock file of another user: it belongs to user root (uid 0)") || !strings.Contains(r.stdout, what) {
		t.Errorf("status of another user's stale lock wrote %q; want it stale, with its owner and what to do", r.stdout)
	}
	r = invokeWith(t, as, "status", "--json", lock)
	var s statusJSON
	if err := json.Unmarshal([]byte(r.stdout), &s); err != nil || s.State != "stale" || !strings.Contains(s.Denied, what) {
		t.Errorf("status --json of another user's stale lock wrote %q (%v); want state stale, and why not this user", r.stdout, err)
	}
	r = invokeWith(t, as, "run", lock, "echo", "ran")
	r.expectCode(t, 2, "run on another user's stale lock")
	if r.stdout != "" || !strings.Contains(r.stderr, "stale lock file of another user") || !strings.Contains(r.stderr, what) {
		t.Errorf("run on another user's stale lock wrote %q, %q; want no command, and the owner and what to do", r.stdout, r.stderr)
	}
	if names := files(t, dir); len(names) != 2 { // the lock file and the dead holder's token
		t.Errorf("after nobody's run the directory holds %q; want root's two files alone", names)
	}
}

// lock --pid of a process this user may not signal (pid 1, as nobody) is
// refused, leaving no lock file, unless --force.
func TestLockPIDOfAnotherUser(t *testing.T) {
	dir, as := unprivileged(t)
	if as == nil && syscall.Kill(1, 0) == nil {
		t.Skip("this user may signal pid 1 (its own, in a container?): no process of another user to hand the lock to")
	}
	lock := filepath.Join(dir, "a.lock")
	r := invokeWith(t, as, "lock", "--pid", "1", "-n", lock)
	r.expectCode(t, 2, "lock --pid 1 as a user who may not signal it")
	if !strings.Contains(r.stderr, "--pid 1: a process of another user, which this user may not signal") || !strings.Contains(r.stderr, "--force") {
		t.Errorf("lock --pid 1 wrote %q; want it refused, saying why and what to do", r.stderr)
	}
	if names := files(t, dir); len(names) != 0 {
		t.Errorf("the refused lock --pid 1 left %q", names)
	}
	invokeWith(t, as, "lock", "--pid", "1", "--force", "-n", lock).expectCode(t, 0, "lock --pid 1 --force")
	if s := statusOf(t, lock, 0); s.Owner == nil || s.Owner.PID != 1 {
		t.Errorf("status after lock --pid 1 --force = %+v; want held by pid 1", s)
	}
}

// unprivileged returns a directory that any user may write to, and a setup
// for invokeWith that runs the binary as user nobody when the tests run as
// root (who may read any file); as the user itself otherwise.
func unprivileged(t *testing.T) (string, func(*exec.Cmd)) {
	t.Helper()
	dir, nobodyBin := testfs.ForNobody(t, bin)
	locks := filepath.Join(dir, "locks") // as /tmp: anyone may create files
	os.Mkdir(locks, 0o755)
	os.Chmod(locks, 0o777|fs.ModeSticky)
	if os.Geteuid() != 0 {
		return locks, nil
	}
	return locks, func(c *exec.Cmd) {
		c.Path, c.Args[0] = nobodyBin, nobodyBin
		c.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	}
}
