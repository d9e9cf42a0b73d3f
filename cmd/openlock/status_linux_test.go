package main

import (
	"encoding/json"
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
	if !strings.Contains(r.stdout, lock+": unreadable") || !strings.Contains(r.stdout, "counts as held") {
		t.Errorf("status of an unreadable lock file wrote %q, %q; want it called unreadable", r.stdout, r.stderr)
	}
	r = invokeWith(t, as, "status", "--json", lock)
	r.expectCode(t, 0, "status --json of an unreadable lock file")
	var s statusJSON
	if err := json.Unmarshal([]byte(r.stdout), &s); err != nil || s.State != "unreadable" || !s.Held || s.Error == "" {
		t.Errorf("status --json of an unreadable lock file wrote %q (%v); want state unreadable, held", r.stdout, err)
	}
	r = invokeWith(t, as, "run", "-n", lock, "true")
	r.expectCode(t, 1, "run -n on an unreadable lock file")
	if !strings.Contains(r.stderr, "unreadable") || strings.Contains(r.stderr, "busy") {
		t.Errorf("run -n on an unreadable lock file wrote %q; want it called unreadable, not busy", r.stderr)
	}
	h.CloseStdin()
	h.Wait()
}

// unprivileged returns a directory that any user may write to, and a setup
// for invokeWith that runs the binary as user nobody when the tests run as
// root (who may read any file); as the user itself otherwise.
func unprivileged(t *testing.T) (string, func(*exec.Cmd)) {
	t.Helper()
	dir, nobodyBin := testfs.ForNobody(t, bin)
	locks := filepath.Join(dir, "locks") // as /tmp: anyone may create files
	os.Mkdir(locks, 0o755)
	os.Chmod(locks, 0o1777)
	if os.Geteuid() != 0 {
		return locks, nil
	}
	return locks, func(c *exec.Cmd) {
		c.Path, c.Args[0] = nobodyBin, nobodyBin
		c.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	}
}
