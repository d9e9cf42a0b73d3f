package openlock

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/openlock/openlock/internal/fsx"
	"golang.org/x/sys/unix"
)

// Findings of the review of issue 20's fixes (task R): each test shows one
// way to break a promise the fixes made.

// A symlink planted at the readers' directory's name after the reader
// judged the name and before it links its registration is not followed:
// no file of the reader's appears in the symlink's target, even for a
// moment. (Another user who may write a lock directory with the sticky
// bit, as /tmp, can plant one there while the name is free, as it is once
// the last reader's Close removed the empty directory; the kernel follows
// it for root unless fs.protected_symlinks is set, and root would link its
// token into any directory of that user's choice.) The hook, just before
// the registration's link, removes the empty directory, as such a Close
// does, and plants the symlink, as such a user would.
func TestReadersDirSymlinkRace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.lock")
	elsewhere := filepath.Join(t.TempDir(), "elsewhere")
	if err := os.Mkdir(elsewhere, 0o777); err != nil {
		t.Fatal(err)
	}
	planted := false
	plant := func(dir string) {
		if !planted {
			os.Remove(dir) // empty: as another reader's Close removes it
			planted = os.Symlink(elsewhere, dir) == nil
		}
	}
	// Every name made in the target, even for a moment, is an event.
	in, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		t.Skipf("no inotify to see a link made for a moment: %v", err)
	}
	defer unix.Close(in)
	if _, err := unix.InotifyAddWatch(in, elsewhere, unix.IN_CREATE); err != nil {
		t.Fatal(err)
	}
	r := mustNew(t, path, withRegistering(plant))
	err = r.RLock(lockCtx(t))
	if err == nil {
		r.RUnlock()
	}
	if !planted {
		t.Fatal("the hook could not plant the symlink")
	}
	if n, _ := unix.Read(in, make([]byte, 4096)); n > 0 {
		t.Errorf("the reader made a name in the symlink's target %s (%d bytes of inotify events)", elsewhere, n)
	}
	if !errors.Is(err, ErrNotLockFile) {
		t.Errorf("RLock with a symlink planted at the readers' directory = %v; want ErrNotLockFile", err)
	}
	if names := dirNames(t, elsewhere); len(names) != 0 {
		t.Errorf("the symlink's target holds %q after RLock; want nothing", names)
	}
}

// The uncontended release still tells from one statx that the lock file
// holds our record (judgeByStat), without a read: the token's modification
// time was set back at its creation (backdate), and its change time is the
// one our link just gave it, at every Lock of the token.
func TestUncontendedReleaseNeedsNoRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.lock")
	l := mustNew(t, path)
	for i := range 3 {
		if err := l.Lock(lockCtx(t)); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Lstat(path)
		if err != nil {
			t.Fatal(err)
		}
		known, err := l.tok.judgeByStat(fi.Size(), fi.ModTime(), fsx.ChangeTime(fi))
		if !known || err != nil {
			t.Errorf("Lock %d: the release's check from the lock file's size and times = %v, %v; want known, nil (no read)", i+1, known, err)
		}
		if err := l.Unlock(); err != nil {
			t.Fatal(err)
		}
	}
}

// A readers' directory of another user that holds only a dead reader's
// registration (that user's reader was killed) does not keep root's
// readers out for ever: root may remove both, so it does, and registers in
// a directory of its own. (It refused, naming the owner, until someone
// removed them by hand; a live reader of that user still makes it refuse.)
func TestReadersDirOfOtherUserWithDeadReader(t *testing.T) {
	o := asNobody(t)
	path := filepath.Join(o.dir, "a.lock")
	c := o.start("rhold", path) // nobody reads: its readers' directory
	c.Expect("held")
	c.Kill()
	c.Wait()
	if uid, _ := dirOwner(t, path); uid != 65534 {
		t.Fatalf("the readers' directory belongs to uid %d; want nobody's (65534)", uid)
	}
	o.rootReadsSafely(path)
}
