package openlock

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A leased hold begins with a refresh: the lock file (or a reader's
// registration) is a link of a token that may have been made or last
// refreshed long ago, and a link moves its change time but not its
// modification time. Where no change time is reported (fsx.ChangeTime
// falls back to the modification time: Windows, and readers of a share on
// such systems), a lease's age is the modification time's: a hold whose
// lock file kept the token's old time (set back 6 s at its creation on
// Linux, or its last refresh, holds ago) would be judged expired at once,
// and taken over while its holder lives. Each hold here must show a
// modification time no older than the hold.
func TestLeasedHoldBeginsRefreshed(t *testing.T) {
	for _, tt := range []struct {
		name string
		hold func(l *FileLock) (path string, err error)
	}{
		{"Lock", func(l *FileLock) (string, error) { return l.path, l.Lock(lockCtx(t)) }},
		{"RLock", func(l *FileLock) (string, error) {
			err := l.RLock(lockCtx(t))
			if err != nil {
				return "", err
			}
			return readerName(l.abs, l.tok.nonce), nil
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l := mustNew(t, filepath.Join(t.TempDir(), "a.lock"), WithLease(time.Hour))
			for i := range 2 {
				// The coarse clock that stamps files may lag this one by a tick.
				start := time.Now().Add(-time.Second)
				path, err := tt.hold(l)
				if err != nil {
					t.Fatal(err)
				}
				fi, err := os.Lstat(path)
				if err != nil {
					t.Fatal(err)
				}
				if m := fi.ModTime(); m.Before(start) {
					t.Errorf("hold %d: %s's modification time is %v, %v before the hold began; "+
						"a reader dating leases by it (fsx.ChangeTime without a change time) judges it expired",
						i+1, path, m, start.Sub(m))
				}
				release := l.Unlock
				if l.rd.n > 0 {
					release = l.RUnlock
				}
				if err := release(); err != nil {
					t.Fatal(err)
				}
				// The token's last refresh, an hour ago, for the next hold.
				old := time.Now().Add(-time.Hour)
				if err := os.Chtimes(l.tok.path, old, old); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// TryRLock never waits, even where the file system's answers about the
// readers' directory never agree (a link into it reports it missing, a
// mkdir finds it there): it registers again only a bounded number of
// times, each after a pause, as TryLock's attempt does (pacer), and then
// says why it could not, where it went on for seconds.
func TestTryRLockRegistrationIsBounded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.lock")
	links := 0
	link := func(oldname, newname string) error {
		if strings.HasPrefix(newname, readersDir(path)+string(filepath.Separator)) {
			links++
			return &os.LinkError{Op: "link", Old: oldname, New: newname, Err: fs.ErrNotExist}
		}
		return os.Link(oldname, newname)
	}
	l := mustNew(t, path, withLink(link))
	held, err := l.TryRLock()
	if held || err == nil || !strings.Contains(err.Error(), "cannot register as a reader") {
		t.Errorf("TryRLock, every registration's link answering ENOENT: %v, %v; want false and why", held, err)
	}
	// The first link, the one right after our mkdir, and one after each pause.
	if max := pacedRetries + 2; links > max {
		t.Errorf("TryRLock linked its registration %d times; want at most %d, each retry after a pause", links, max)
	}
}

// A reader's registration rewritten in place while it reads (the same
// inode, our token's, with another program's content) is no longer ours, as
// a lock file rewritten so is not (TestUnlockAfterRewriteInPlace): RUnlock
// reports ErrLockLost, names it, leaves it as it is, and does not use the
// token again.
func TestRUnlockAfterRewriteInPlace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.lock")
	l := mustNew(t, path)
	if err := l.RLock(lockCtx(t)); err != nil {
		t.Fatal(err)
	}
	tok := l.tok
	reg := readerName(l.abs, tok.nonce)
	rogue := bytes.Repeat([]byte("x"), len(tok.data))
	if err := os.WriteFile(reg, rogue, 0o644); err != nil { // O_TRUNC: the same inode
		t.Fatal(err)
	}
	err := l.RUnlock()
	if !errors.Is(err, ErrLockLost) || !strings.Contains(err.Error(), reg) {
		t.Errorf("RUnlock after its registration was rewritten in place = %v; want ErrLockLost naming %s", err, reg)
	}
	if got, err := os.ReadFile(reg); err != nil || !bytes.Equal(got, rogue) {
		t.Errorf("the rewritten registration after RUnlock: %q, %v; want the other program's %q, left", got, err, rogue)
	}
	if l.tok == tok {
		t.Error("the FileLock keeps the rewritten token for its next hold")
	}
}
