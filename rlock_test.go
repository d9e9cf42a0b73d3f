package openlock

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// sharedModes runs a test on a local file system as it is, and as if it
// were a network one (the writer's judgement then rests on mkdir and rmdir,
// not on an lstat).
func sharedModes(t *testing.T, f func(t *testing.T, opts ...Option)) {
	t.Run("local", func(t *testing.T) { f(t) })
	t.Run("remote", func(t *testing.T) { f(t, withRemote(0)) })
}

// Readers share; a writer is kept out while any reads, and keeps readers out
// while it holds; nothing is left once all have left.
func TestSharedExcludesWriter(t *testing.T) {
	sharedModes(t, func(t *testing.T, opts ...Option) {
		path := filepath.Join(t.TempDir(), "a.lock")
		r1, r2, w := mustNew(t, path, opts...), mustNew(t, path, opts...), mustNew(t, path, opts...)
		if err := r1.RLock(lockCtx(t)); err != nil {
			t.Fatal(err)
		}
		if ok, err := r2.TryRLock(); !ok || err != nil {
			t.Fatalf("TryRLock beside a reader = %v, %v; want true", ok, err)
		}
		if ok, err := w.TryLock(); ok || err != nil {
			t.Fatalf("TryLock while two read = %v, %v; want false", ok, err)
		}
		if _, err := os.Lstat(path); !isNotExist(err) {
			t.Fatalf("a TryLock that lost to readers left the lock file (%v)", err)
		}
		if got, err := w.Readers(); err != nil || len(got) != 2 {
			t.Fatalf("Readers() = %v, %v; want two", got, err)
		}
		if err := r1.RUnlock(); err != nil {
			t.Fatal(err)
		}
		if ok, err := w.TryLock(); ok || err != nil {
			t.Fatalf("TryLock while one reads = %v, %v; want false", ok, err)
		}
		if err := r2.RUnlock(); err != nil {
			t.Fatal(err)
		}
		if ok, err := w.TryLock(); !ok || err != nil {
			t.Fatalf("TryLock once the readers left = %v, %v; want true", ok, err)
		}
		if ok, err := r1.TryRLock(); ok || err != nil {
			t.Fatalf("TryRLock while a writer holds = %v, %v; want false", ok, err)
		}
		if err := w.Unlock(); err != nil {
			t.Fatal(err)
		}
		for _, l := range []*FileLock{r1, r2, w} {
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
		}
		if names := dirNames(t, filepath.Dir(path)); len(names) != 0 {
			t.Errorf("left behind: %q", names)
		}
	})
}

// A writer waits for a reader, holding the lock file meanwhile, so that a
// new reader waits behind it (no starvation), and gets in once the reader
// leaves.
func TestWriterWaitsForReaderAndHoldsOffNewReaders(t *testing.T) {
	sharedModes(t, func(t *testing.T, opts ...Option) {
		path := filepath.Join(t.TempDir(), "a.lock")
		trace, waiting := signalOn(StepWaiting, nil)
		r := mustNew(t, path, opts...)
		w := mustNew(t, path, append(opts, trace)...)
		late := mustNew(t, path, opts...)
		if err := r.RLock(lockCtx(t)); err != nil {
			t.Fatal(err)
		}
		var in atomic.Bool
		got := make(chan error, 1)
		go func() {
			err := w.Lock(lockCtx(t))
			in.Store(err == nil)
			got <- err
		}()
		select {
		case <-waiting:
		case <-time.After(long):
			t.Fatal("the writer never waited")
		}
		if in.Load() {
			t.Fatal("the writer got in while a reader held the shared lock")
		}
		if ok, err := late.TryRLock(); ok || err != nil {
			t.Fatalf("TryRLock while a writer waits = %v, %v; want false", ok, err)
		}
		if err := r.RUnlock(); err != nil {
			t.Fatal(err)
		}
		if err := <-got; err != nil {
			t.Fatalf("writer's Lock: %v", err)
		}
		if _, err := os.Lstat(readersDir(path)); !isNotExist(err) {
			t.Errorf("readers' directory still there while a writer holds (%v)", err)
		}
		if err := w.Unlock(); err != nil {
			t.Fatal(err)
		}
	})
}

// A writer waiting for a live reader gives up when its context ends, says
// for whom it waited, and releases the lock file.
func TestWriterTimesOutNamingReaders(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.lock")
	r, w := mustNew(t, path), mustNew(t, path)
	if err := r.RLock(lockCtx(t)); err != nil {
		t.Fatal(err)
	}
	err := w.Lock(shortCtx(t, 50*time.Millisecond))
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Lock behind a reader = %v; want ErrTimeout", err)
	}
	t.Log(err)
	if _, serr := os.Lstat(path); !isNotExist(serr) {
		t.Fatalf("a writer that gave up left the lock file (%v)", serr)
	}
	if ok, err := mustNew(t, path).TryRLock(); !ok || err != nil {
		t.Fatalf("TryRLock after the writer gave up = %v, %v; want true", ok, err)
	}
}

// A dead reader's registration does not keep a writer out: it is removed,
// and so is the directory.
func TestDeadReaderIsSwept(t *testing.T) {
	sharedModes(t, func(t *testing.T, opts ...Option) {
		path := filepath.Join(t.TempDir(), "a.lock")
		if err := os.Mkdir(readersDir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		writeStale(t, readerName(path, newNonce()))
		w := mustNew(t, path, opts...)
		if ok, err := w.TryLock(); !ok || err != nil {
			t.Fatalf("TryLock past a dead reader = %v, %v; want true", ok, err)
		}
		if _, err := os.Lstat(readersDir(path)); !isNotExist(err) {
			t.Errorf("the dead reader's directory is still there (%v)", err)
		}
	})
}

// Clean removes a dead reader's registration and the directory.
func TestCleanRemovesDeadReader(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.lock")
	if err := os.Mkdir(readersDir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	dead := readerName(path, newNonce())
	writeStale(t, dead)
	files, err := LockFiles(filepath.Dir(path))
	if err != nil || len(files) != 1 || files[0] != path {
		t.Fatalf("LockFiles = %q, %v; want the lock path", files, err)
	}
	removed, err := mustNew(t, path).Clean(false)
	if err != nil || len(removed) != 1 || removed[0] != dead {
		t.Fatalf("Clean = %q, %v; want %s", removed, err, dead)
	}
	if names := dirNames(t, filepath.Dir(path)); len(names) != 0 {
		t.Errorf("left behind: %q", names)
	}
}

// What is not ours at the readers' directory's name is never removed, and
// says so.
func TestForeignFileAtReadersName(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.lock")
	if err := os.WriteFile(readersDir(path), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	w := mustNew(t, path)
	if err := w.Lock(lockCtx(t)); !errors.Is(err, ErrNotLockFile) {
		t.Fatalf("Lock with a file at %s = %v; want ErrNotLockFile", readersDir(path), err)
	}
	if b, err := os.ReadFile(readersDir(path)); err != nil || string(b) != "mine" {
		t.Fatalf("the file was changed: %q, %v", b, err)
	}
	os.Remove(readersDir(path))
	if err := os.Mkdir(readersDir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(readersDir(path), "notes.txt")
	if err := os.WriteFile(other, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	if ok, err := w.TryLock(); ok || !errors.Is(err, ErrNotLockFile) {
		t.Fatalf("TryLock with %s there = %v, %v; want ErrNotLockFile", other, ok, err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Fatal(err)
	}
}

// RLock is counted; RUnlock without RLock is ErrNotHeld; Close leaves.
func TestRLockCountsAndClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.lock")
	l := mustNew(t, path)
	if err := l.RUnlock(); !errors.Is(err, ErrNotHeld) {
		t.Fatalf("RUnlock without RLock = %v; want ErrNotHeld", err)
	}
	rl := l.RLocker()
	rl.Lock()
	if err := l.RLock(lockCtx(t)); err != nil {
		t.Fatal(err)
	}
	if err := l.RUnlock(); err != nil {
		t.Fatal(err)
	}
	w := mustNew(t, path)
	if ok, _ := w.TryLock(); ok {
		t.Fatal("TryLock got in while one RLock was still held")
	}
	rl.Unlock()
	if ok, err := w.TryLock(); !ok || err != nil {
		t.Fatalf("TryLock after both RUnlocks = %v, %v", ok, err)
	}
	w.Unlock()
	if err := l.RLock(lockCtx(t)); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.RUnlock(); !errors.Is(err, fs.ErrClosed) {
		t.Fatalf("RUnlock after Close = %v; want fs.ErrClosed", err)
	}
	if ok, err := w.TryLock(); !ok || err != nil {
		t.Fatalf("TryLock after the reader closed = %v, %v", ok, err)
	}
}

// A reader whose registration another process removed (judging it dead)
// learns it at RUnlock.
func TestRUnlockReportsLostRegistration(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.lock")
	l := mustNew(t, path)
	if err := l.RLock(lockCtx(t)); err != nil {
		t.Fatal(err)
	}
	os.Remove(readerName(path, l.tok.nonce))
	if err := l.RUnlock(); !errors.Is(err, ErrLockLost) {
		t.Fatalf("RUnlock after the registration was removed = %v; want ErrLockLost", err)
	}
}

// The exclusive Lock with no reader about creates nothing beyond what it
// did before the shared lock existed.
func TestExclusiveLeavesNoReadersDir(t *testing.T) {
	sharedModes(t, func(t *testing.T, opts ...Option) {
		path := filepath.Join(t.TempDir(), "a.lock")
		l := mustNew(t, path, opts...)
		if err := l.Lock(lockCtx(t)); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Lstat(readersDir(path)); !isNotExist(err) {
			t.Errorf("readers' directory after an exclusive Lock: %v", err)
		}
		l.Unlock()
	})
}
