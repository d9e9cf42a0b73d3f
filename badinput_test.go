package openlock

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/openlock/openlock/fileformat"
	"github.com/openlock/openlock/procscan"
)

// The rows of the bad-input table (DESIGN section 7), one test each.

func TestMissingDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no", "such", "dir", "a.lock")
	l := mustNew(t, path)
	err := l.Lock(lockCtx(t))
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), filepath.Dir(path)) {
		t.Fatalf("Lock in a missing directory = %v; want fs.ErrNotExist naming %s", err, filepath.Dir(path))
	}
	if ok, err := l.TryLock(); ok || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("TryLock in a missing directory = %v, %v; want fs.ErrNotExist", ok, err)
	}
}

func TestReadOnlyDirectory(t *testing.T) {
	dir := readOnlyDir(t)
	path := filepath.Join(dir, "a.lock")
	err := mustNew(t, path).Lock(lockCtx(t))
	if !errors.Is(err, syscall.EROFS) && !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), path) {
		t.Fatalf("Lock in a read-only directory = %v; want EROFS or a permission error naming %s", err, path)
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

// runUnprivileged runs one test of this binary as user nobody. The binary is
// copied where nobody may execute it.
func runUnprivileged(t *testing.T, test string) {
	t.Helper()
	dir, err := os.MkdirTemp("", "openlock-nobody-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	bin := filepath.Join(dir, "openlock.test")
	src, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, src, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^"+test+"$", "-test.v")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TMPDIR="+dir, "HOME="+dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	tmp := filepath.Join(dir, "tmp")
	os.Mkdir(tmp, 0o777)
	os.Chmod(tmp, 0o777)
	cmd.Env = append(cmd.Env, "TMPDIR="+tmp)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s as nobody failed: %v\n%s", test, err, out)
	}
	if !bytes.Contains(out, []byte("--- PASS: "+test)) {
		t.Fatalf("%s as nobody did not pass:\n%s", test, out)
	}
	t.Logf("ran as nobody:\n%s", out)
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

// snapshot describes what is at path without following a symlink.
func snapshot(t *testing.T, path string) string {
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	s := fi.Mode().String() + " " + strconv.FormatInt(fi.Size(), 10)
	if fi.Mode()&fs.ModeSymlink != 0 {
		target, _ := os.Readlink(path)
		s += " -> " + target
	}
	if fi.Mode().IsRegular() {
		b, _ := os.ReadFile(path)
		s += " " + strconv.Itoa(len(b)) + ":" + string(b[:min(len(b), 64)])
	}
	return s
}

func TestGarbageIsTakenOver(t *testing.T) {
	for name, content := range map[string]string{
		"empty":         "",
		"newline":       "\n",
		"garbage":       "not a lock file at all",
		"binary":        "\x00\x01\x02\xff",
		"torn record":   "1234\nwork",
		"pid zero":      "0\nworker\n",
		"dup key":       "1\nn\nhost=a\nhost=a\n",
		"near max size": strings.Repeat("z", fileformat.MaxSize),
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "a.lock")
			if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			l := mustNew(t, path)
			if locked, err := l.Locked(); locked || err != nil {
				t.Errorf("Locked() on garbage = %v, %v; want false (stale)", locked, err)
			}
			if ok, err := l.TryLock(); !ok || err != nil {
				t.Fatalf("TryLock on garbage = %v, %v; want true", ok, err)
			}
			if r := readRecord(t, path); r.Nonce != l.tok.nonce {
				t.Errorf("lock file after takeover holds %+v, not ours", r)
			}
			l.Close()
			if names := dirNames(t, dir); len(names) != 0 {
				t.Errorf("directory holds %q after Close", names)
			}
		})
	}
}

func TestHostileNonceIsNotAFileName(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "a.lock")
	os.Mkdir(filepath.Dir(path), 0o755)
	r := hereRecord(deadPID(t), "1")
	r.Nonce = "../../escaped"
	writeRecord(t, path, r)
	if ok, err := mustNew(t, path).TryLock(); !ok || err != nil {
		t.Fatalf("TryLock on a dead holder with a hostile nonce = %v, %v; want true", ok, err)
	}
	if names := dirNames(t, dir); len(names) != 1 || names[0] != "sub" {
		t.Errorf("files appeared outside the lock directory: %q", names)
	}
}

func TestOwnerOfGarbage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.lock")
	os.WriteFile(path, []byte("junk"), 0o644)
	if _, ok, err := mustNew(t, path).Owner(); ok || !errors.Is(err, ErrInvalidLockFile) {
		t.Errorf("Owner() of garbage = %v, %v; want ErrInvalidLockFile", ok, err)
	}
}

func TestDeadHolderIsTakenOver(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.lock")
	dead := writeStale(t, path)
	l := mustNew(t, path)
	o, ok, err := l.Owner()
	if !ok || err != nil || o.PID != dead.PID || o.Verdict != procscan.Dead {
		t.Errorf("Owner() of a dead holder's lock = %+v, %v, %v; want pid %d, dead", o, ok, err, dead.PID)
	}
	if locked, _ := l.Locked(); locked {
		t.Error("Locked() = true for a dead holder's lock")
	}
	if ok, err := l.TryLock(); !ok || err != nil {
		t.Fatalf("TryLock on a dead holder's lock = %v, %v; want true", ok, err)
	}
	if r := readRecord(t, path); r.Nonce != l.tok.nonce {
		t.Errorf("lock file holds %+v after takeover, not ours", r)
	}
}

func TestReusedPIDIsTakenOver(t *testing.T) {
	// A child that lives, and a record of its PID with another start time:
	// an earlier process that had the PID.
	c := startChild(t, "racer", nil)
	c.expect("ready")
	p, err := procscan.System().Process(c.pid())
	if err != nil {
		t.Fatal(err)
	}
	start, _ := strconv.ParseUint(p.Start, 10, 64)
	path := filepath.Join(t.TempDir(), "a.lock")
	writeRecord(t, path, hereRecord(c.pid(), strconv.FormatUint(start-1, 10)))
	if ok, err := mustNew(t, path).TryLock(); !ok || err != nil {
		t.Fatalf("TryLock on a lock whose PID was reused = %v, %v; want true", ok, err)
	}
}

func TestSeedRecordOfLiveProcessIsRespected(t *testing.T) {
	c := startChild(t, "racer", nil)
	c.expect("ready")
	path := filepath.Join(t.TempDir(), "a.lock")
	// The seed writes the stem of argv[0]; ours is the test binary.
	name := strings.TrimSuffix(filepath.Base(os.Args[0]), ".test")
	os.WriteFile(path, []byte(strconv.Itoa(c.pid())+"\n"+name+"\n"), 0o644)
	l := mustNew(t, path)
	if ok, err := l.TryLock(); ok || err != nil {
		t.Fatalf("TryLock on a live seed-format holder = %v, %v; want false", ok, err)
	}
	if o, ok, _ := l.Owner(); !ok || o.PID != c.pid() || o.Verdict != procscan.Alive {
		t.Errorf("Owner() = %+v, %v; want pid %d, alive", o, ok, c.pid())
	}
	// The same PID under another name is an earlier process: stale.
	os.WriteFile(path, []byte(strconv.Itoa(c.pid())+"\nsomething-else\n"), 0o644)
	if ok, err := l.TryLock(); !ok || err != nil {
		t.Fatalf("TryLock on a seed record naming another program = %v, %v; want true", ok, err)
	}
}

func TestOtherHostIsRespected(t *testing.T) {
	for name, change := range map[string]func(*fileformat.Record){
		"host":          func(r *fileformat.Record) { r.Host = "elsewhere" },
		"boot":          func(r *fileformat.Record) { r.Boot = "00000000-0000-0000-0000-000000000000" },
		"pid namespace": func(r *fileformat.Record) { r.PIDNS = "pid:[1]" },
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "a.lock")
			r := hereRecord(deadPID(t), "1") // dead, were it here
			change(&r)
			writeRecord(t, path, r)
			l := mustNew(t, path)
			if ok, err := l.TryLock(); ok || err != nil {
				t.Fatalf("TryLock on a holder we cannot check = %v, %v; want false", ok, err)
			}
			if locked, err := l.Locked(); !locked || err != nil {
				t.Errorf("Locked() = %v, %v; want true", locked, err)
			}
			if o, _, _ := l.Owner(); o.Verdict != procscan.Unknown {
				t.Errorf("Owner().Verdict = %v, want unknown", o.Verdict)
			}
		})
	}
}

func TestNoHardLinks(t *testing.T) {
	dir := noHardLinkDir(t)
	path := filepath.Join(dir, "a.lock")
	err := mustNew(t, path).Lock(lockCtx(t))
	if !errors.Is(err, ErrNoHardLinks) || !strings.Contains(err.Error(), path) {
		t.Fatalf("Lock on a file system without hard links = %v; want ErrNoHardLinks naming %s", err, path)
	}
	if names := dirNames(t, dir); len(names) != 0 {
		t.Errorf("directory holds %q after the failed Lock", names)
	}
}

// noHardLinkDir mounts fuse-zip, a FUSE file system that refuses link(2)
// with EPERM, on a new directory.
func noHardLinkDir(t *testing.T) string {
	bin, err := exec.LookPath("fuse-zip")
	if err != nil {
		t.Skip("fuse-zip is not installed (apt-get install fuse-zip); cannot make a file system without hard links")
	}
	dir := t.TempDir()
	mnt := filepath.Join(dir, "mnt")
	os.Mkdir(mnt, 0o755)
	if out, err := exec.Command(bin, filepath.Join(dir, "fs.zip"), mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot mount fuse-zip (needs /dev/fuse and permission): %v: %s", err, out)
	}
	t.Cleanup(func() {
		if exec.Command("fusermount", "-u", mnt).Run() != nil {
			syscall.Unmount(mnt, syscall.MNT_DETACH)
		}
	})
	return mnt
}

// uncertainTable is the real process table, except that it cannot tell
// anything about other processes.
type uncertainTable struct{ procscan.Table }

func (u uncertainTable) Process(pid int) (procscan.Process, error) {
	if pid == os.Getpid() {
		return u.Table.Process(pid)
	}
	return procscan.Process{}, errors.New("process table unavailable")
}

// When in doubt, held: a holder whose liveness cannot be checked is never
// taken over, however dead it may be.
func TestUnknownVerdictIsHeld(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.lock")
	writeStale(t, path)
	l := mustNew(t, path, withTable(uncertainTable{procscan.System()}))
	if ok, err := l.TryLock(); ok || err != nil {
		t.Fatalf("TryLock when liveness cannot be checked = %v, %v; want false", ok, err)
	}
	if o, _, _ := l.Owner(); o.Verdict != procscan.Unknown || !strings.Contains(o.Reason, "unavailable") {
		t.Errorf("Owner() = %+v; want unknown, with the table's error as reason", o)
	}
}
