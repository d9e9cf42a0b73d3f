package openlock

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/openlock/openlock/fileformat"
	"github.com/openlock/openlock/internal/testfs"
	"github.com/openlock/openlock/procscan"
)

// The kinds of bad input that need Linux: mounts, other users,
// device nodes, FUSE.

func TestReadOnlyDirectory(t *testing.T) {
	dir := readOnlyDir(t)
	path := filepath.Join(dir, "a.lock")
	err := mustNew(t, path).Lock(lockCtx(t))
	if !errors.Is(err, syscall.EROFS) && !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), path) {
		t.Fatalf("Lock in a read-only directory = %v; want EROFS or a permission error naming %s", err, path)
	}
	if msg := err.Error(); !strings.Contains(msg, "lock directory "+dir+" is") || strings.Contains(msg, ".tmp") {
		t.Errorf("Lock in a read-only directory = %q; want it to say plainly that %s is read-only or not writable", msg, dir)
	}
	if names := dirNames(t, dir); len(names) != 0 {
		t.Errorf("read-only directory now holds %q", names)
	}
}

// readOnlyDir returns a directory no lock can be created in: a read-only
// tmpfs when running as root (root ignores mode bits), else mode 0555.
func readOnlyDir(t *testing.T) string {
	dir := t.TempDir()
	if os.Geteuid() != 0 {
		os.Chmod(dir, 0o555)
		t.Cleanup(func() { os.Chmod(dir, 0o755) })
		return dir
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_RDONLY, "size=1m"); err != nil {
		t.Skipf("cannot mount a read-only tmpfs as root: %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
	return dir
}

func TestNoPermission(t *testing.T) {
	if os.Geteuid() == 0 {
		// Root ignores mode bits; run the check as an unprivileged child.
		runUnprivileged(t, "TestNoPermission")
		return
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "a.lock")
	os.Chmod(dir, 0o500)
	t.Cleanup(func() { os.Chmod(dir, 0o755) })
	err := mustNew(t, path).Lock(lockCtx(t))
	if !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), path) {
		t.Fatalf("Lock in a directory without write permission = %v; want fs.ErrPermission naming %s", err, path)
	}
	if msg := err.Error(); !strings.Contains(msg, "lock directory "+dir+" is not writable by this user") ||
		!strings.Contains(msg, "change the directory's permissions") || strings.Contains(msg, ".tmp") {
		t.Errorf("Lock in a directory without write permission = %q; want it to say that %s is not writable and what to do", msg, dir)
	}
}

func TestUnreadableLockFileIsHeld(t *testing.T) {
	if os.Geteuid() == 0 {
		runUnprivileged(t, "TestUnreadableLockFileIsHeld")
		return
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "a.lock")
	writeStale(t, path) // stale, but nobody may read it
	os.Chmod(path, 0)
	l := mustNew(t, path)
	if ok, err := l.TryLock(); ok || err != nil {
		t.Fatalf("TryLock on an unreadable lock file = %v, %v; want false, nil (held)", ok, err)
	}
	if locked, err := l.Locked(); !locked || err != nil {
		t.Errorf("Locked() on an unreadable lock file = %v, %v; want true", locked, err)
	}
}

// runUnprivileged runs one test of this binary as user nobody, with env
// (KEY=VALUE) added. The binary is copied where nobody may execute it.
func runUnprivileged(t *testing.T, test string, env ...string) {
	t.Helper()
	rerun(t, test, &syscall.Credential{Uid: 65534, Gid: 65534}, env...)
}

// rerun runs one test of this binary in a process of its own, as the user
// cred names (nil: this user), with env (KEY=VALUE) added, and fails unless
// it passes. Its temporary directories are in a directory that any user
// may enter.
func rerun(t *testing.T, test string, cred *syscall.Credential, env ...string) {
	t.Helper()
	dir, bin := testfs.ForNobody(t, os.Args[0])
	cmd := exec.Command(bin, "-test.run=^"+test+"$", "-test.v")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TMPDIR="+dir, "HOME="+dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	tmp := filepath.Join(dir, "tmp")
	os.Mkdir(tmp, 0o777)
	os.Chmod(tmp, 0o777)
	cmd.Env = append(append(cmd.Env, "TMPDIR="+tmp), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s in a process of its own failed: %v\n%s", test, err, out)
	}
	if !bytes.Contains(out, []byte("--- PASS: "+test)) {
		t.Fatalf("%s in a process of its own did not pass:\n%s", test, out)
	}
	t.Logf("ran in a process of its own:\n%s", out)
}

func TestNotALockFile(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name  string
		setup func(path string) error
	}{
		{"directory", func(p string) error { return os.Mkdir(p, 0o755) }},
		{"symlink to a stale record", func(p string) error {
			writeStale(t, p+".target")
			return os.Symlink(p+".target", p)
		}},
		{"dangling symlink", func(p string) error { return os.Symlink(p+".nowhere", p) }},
		{"FIFO", func(p string) error { return syscall.Mkfifo(p, 0o644) }},
		{"device", func(p string) error {
			if os.Geteuid() != 0 {
				return os.Symlink("/dev/null", p) // still refused, as a symlink
			}
			return syscall.Mknod(p, syscall.S_IFCHR|0o644, 1<<8|3) // /dev/null's numbers
		}},
		{"1 MiB file", func(p string) error { return os.WriteFile(p, bytes.Repeat([]byte("x"), 1<<20), 0o644) }},
		{"4 KiB + 1 file that starts like a record", func(p string) error {
			return os.WriteFile(p, append([]byte("1\nx\n"), bytes.Repeat([]byte("y"), fileformat.MaxSize-3)...), 0o644)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "_"))
			if err := tt.setup(path); err != nil {
				t.Skipf("cannot set up: %v", err)
			}
			before := snapshot(t, path)
			l := mustNew(t, path)
			if err := l.Lock(lockCtx(t)); !errors.Is(err, ErrNotLockFile) {
				t.Errorf("Lock = %v, want ErrNotLockFile", err)
			}
			if ok, err := l.TryLock(); ok || !errors.Is(err, ErrNotLockFile) {
				t.Errorf("TryLock = %v, %v, want ErrNotLockFile", ok, err)
			}
			if _, err := l.Locked(); !errors.Is(err, ErrNotLockFile) {
				t.Errorf("Locked() error = %v, want ErrNotLockFile", err)
			}
			if _, _, err := l.Owner(); !errors.Is(err, ErrNotLockFile) {
				t.Errorf("Owner() error = %v, want ErrNotLockFile", err)
			}
			if after := snapshot(t, path); after != before {
				t.Errorf("lock path changed: before %q, after %q", before, after)
			}
			if h := helperFiles(t, path); len(h[claimFile])+len(h[tmpFile]) != 0 {
				t.Errorf("claims or temporary files left: %v", h)
			}
		})
	}
}

func TestNoHardLinks(t *testing.T) {
	dir, err := testfs.FuseZip(t)
	if err != nil {
		t.Skipf("no file system without hard links: %v", err)
	}
	path := filepath.Join(dir, "a.lock")
	err = mustNew(t, path).Lock(lockCtx(t))
	if !errors.Is(err, ErrNoHardLinks) || !strings.Contains(err.Error(), path) {
		t.Fatalf("Lock on a file system without hard links = %v; want ErrNoHardLinks naming %s", err, path)
	}
	if names := dirNames(t, dir); len(names) != 0 {
		t.Errorf("directory holds %q after the failed Lock", names)
	}
}

// A holder that ran on this machine in an earlier boot (same host name and
// machine id, another boot id) is dead when the lock directory is local;
// with another machine id, or on a FUSE file system (possibly shared with a
// VM of the same name), it stays unknown.
func TestRebootedHolder(t *testing.T) {
	id := procscan.System().Identity()
	if id.Machine == "" {
		t.Skip("no /etc/machine-id on this machine")
	}
	rebooted := func() fileformat.Record {
		r := hereRecord(os.Getpid(), "1") // the PID is alive now: only the boot can decide
		r.Machine, r.Boot = id.Machine, "00000000-0000-0000-0000-000000000000"
		return r
	}
	path := filepath.Join(t.TempDir(), "a.lock")
	writeRecord(t, path, rebooted())
	l := mustNew(t, path)
	if o, _, _ := l.Owner(); o.Verdict != procscan.Dead || !strings.Contains(o.Reason, "rebooted") {
		t.Errorf("Owner() = %v, %q; want dead, rebooted", o.Verdict, o.Reason)
	}
	if ok, err := l.TryLock(); !ok || err != nil {
		t.Fatalf("TryLock on a lock from an earlier boot = %v, %v; want true", ok, err)
	}
	other := rebooted()
	other.Machine = "another-installation"
	path = filepath.Join(t.TempDir(), "b.lock")
	writeRecord(t, path, other)
	if ok, err := mustNew(t, path).TryLock(); ok || err != nil {
		t.Errorf("TryLock on another machine's earlier boot = %v, %v; want false", ok, err)
	}
	if dir, err := testfs.Bindfs(t); err != nil {
		t.Logf("skipping the FUSE case: %v", err)
	} else {
		path = filepath.Join(dir, "c.lock")
		writeRecord(t, path, rebooted())
		if ok, err := mustNew(t, path).TryLock(); ok || err != nil {
			t.Errorf("TryLock on a FUSE file system = %v, %v; want false (not provably local)", ok, err)
		}
	}
}

// Another user's stale lock file in a sticky directory (as /tmp), which
// this user may not replace: Lock and TryLock fail at once with
// ErrForeignStale (and fs.ErrPermission), naming the file's owner and what
// to do, Owner says so too, and nothing is changed or left behind. Another
// user's dead lock file that this user may not read counts as held: TryLock
// is false, Lock times out, and its error names the owner. Root makes the
// files; user nobody meets them.
func TestForeignStaleLock(t *testing.T) {
	if dir := os.Getenv("OPENLOCK_TEST_FOREIGN_DIR"); dir != "" {
		meetForeignLocks(t, dir)
		return
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root, to make lock files of root's that user nobody then meets")
	}
	dir, _ := testfs.ForNobody(t, os.Args[0])
	dir = filepath.Join(dir, "sticky")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o777|fs.ModeSticky)
	writeStale(t, filepath.Join(dir, "stale.lock"))
	unreadable := filepath.Join(dir, "unreadable.lock")
	writeStale(t, unreadable)
	os.Chmod(unreadable, 0o600)
	runUnprivileged(t, "TestForeignStaleLock", "OPENLOCK_TEST_FOREIGN_DIR="+dir)
	if names := dirNames(t, dir); !slices.Equal(names, []string{"stale.lock", "unreadable.lock"}) {
		t.Errorf("after nobody's attempts the directory holds %q; want root's two lock files alone", names)
	}
}

// meetForeignLocks is TestForeignStaleLock as user nobody, in dir.
func meetForeignLocks(t *testing.T, dir string) {
	stale := filepath.Join(dir, "stale.lock")
	before, err := os.ReadFile(stale)
	if err != nil {
		t.Fatal(err)
	}
	l := mustNew(t, stale)
	wantForeign := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, ErrForeignStale) || !errors.Is(err, fs.ErrPermission) || errors.Is(err, ErrTimeout) {
			t.Fatalf("%s = %v; want ErrForeignStale and fs.ErrPermission, at once", what, err)
		}
		if msg := err.Error(); !strings.Contains(msg, "belongs to user root (uid 0)") ||
			!strings.Contains(msg, "root must remove it, or lock a path elsewhere") {
			t.Errorf("%s = %q; want it to name the file's owner and what to do", what, msg)
		}
	}
	ok, err := l.TryLock()
	if ok {
		t.Fatal("TryLock took root's stale lock in a sticky directory")
	}
	wantForeign("TryLock", err)
	if !strings.Contains(err.Error(), stale+" names a dead holder") {
		t.Errorf("TryLock = %q; want it to name the file and its dead holder", err)
	}
	err = l.Lock(lockCtx(t))
	wantForeign("Lock", err)
	o, held, err := l.Owner()
	if err != nil || !held || o.Verdict != procscan.Dead {
		t.Fatalf("Owner() = %+v, %v, %v; want a dead holder", o, held, err)
	}
	wantForeign("Owner().Denied", o.Denied)
	if after, err := os.ReadFile(stale); err != nil || !bytes.Equal(after, before) {
		t.Errorf("root's stale lock file is now %q, %v; want it untouched", after, err)
	}

	unreadable := filepath.Join(dir, "unreadable.lock")
	u := mustNew(t, unreadable, WithRetryPeriod(10*time.Millisecond))
	if ok, err := u.TryLock(); ok || err != nil {
		t.Fatalf("TryLock of an unreadable lock file = %v, %v; want false, nil: held", ok, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	err = u.Lock(ctx)
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("Lock of an unreadable lock file = %v; want ErrTimeout: it counts as held", err)
	}
	if msg := err.Error(); !strings.Contains(msg, unreadable+" belongs to user root (uid 0), mode 0600, and this user may not read it") ||
		!strings.Contains(msg, "root must remove it, or lock a path elsewhere") {
		t.Errorf("Lock of an unreadable lock file = %q; want it to name its owner and what to do", msg)
	}
	if _, _, err := u.Owner(); !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), "belongs to user root") {
		t.Errorf("Owner() of an unreadable lock file = %v; want fs.ErrPermission naming its owner", err)
	}
	for _, f := range []*FileLock{l, u} {
		if err := f.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}
}
