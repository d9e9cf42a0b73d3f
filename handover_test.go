package openlock

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/openlock/openlock/procscan"
)

// A lock handed to another live process is that process's: others see it
// held by it, releaseFor releases it only for that process, and once the
// process has exited the lock is stale and taken over.
func TestHandOver(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.lock")
	// A live process of our own, with a lock of its own elsewhere (it is
	// killed below: its token must not land in the package directory).
	c := startChild(t, "racer", []string{"OPENLOCK_TEST_LOCK=" + filepath.Join(t.TempDir(), "its.lock")})
	c.Expect("ready")

	l := mustNew(t, path)
	if err := l.handTo(c.PID()); !errors.Is(err, ErrNotHeld) {
		t.Fatalf("handTo without the lock = %v, want ErrNotHeld", err)
	}
	if err := l.Lock(lockCtx(t)); err != nil {
		t.Fatal(err)
	}
	if err := l.handTo(c.PID()); err != nil {
		t.Fatal(err)
	}
	if l.Held() {
		t.Error("Held() after handTo: the lock is the other process's now")
	}
	l.Close() // removes its token only
	o, held, err := mustNew(t, path).Owner()
	if err != nil || !held || o.PID != c.PID() || o.Verdict != procscan.Alive {
		t.Fatalf("Owner after handTo = %v, %v, %v; want pid %d, alive", o, held, err, c.PID())
	}
	if names := dirNames(t, filepath.Dir(path)); len(names) != 1 {
		t.Errorf("after handTo the directory holds %q; want the lock file alone", names)
	}
	other := mustNew(t, path)
	if ok, err := other.TryLock(); ok || err != nil {
		t.Fatalf("TryLock of the handed lock = %v, %v; want false, nil", ok, err)
	}
	if err := other.releaseFor(os.Getpid()); !errors.Is(err, ErrNotHeld) {
		t.Errorf("releaseFor(another pid) = %v, want ErrNotHeld", err)
	}
	if err := other.releaseFor(c.PID()); err != nil {
		t.Fatalf("releaseFor(the holder) = %v", err)
	}
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("lock file after releaseFor: %v; want it gone", err)
	}

	// Handed again, then the holder dies: stale, taken over.
	if err := lockedAt(t, path).handTo(c.PID()); err != nil {
		t.Fatal(err)
	}
	c.Kill()
	c.Wait()
	if ok, err := other.TryLock(); !ok || err != nil {
		t.Fatalf("TryLock after the holder died = %v, %v; want true", ok, err)
	}
}

// lockedAt returns a new FileLock on path that holds the lock.
func lockedAt(t *testing.T, path string) *FileLock {
	t.Helper()
	l := mustNew(t, path)
	if err := l.Lock(lockCtx(t)); err != nil {
		t.Fatal(err)
	}
	return l
}

// releaseFor removes nothing but the record of the very process: not one
// that names its PID with another start time (an earlier process with that
// PID), nor an empty file.
func TestReleaseForChecksTheRecord(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.lock")
	l := mustNew(t, path)
	writeRecord(t, path, hereRecord(os.Getpid(), "1"))
	if err := l.releaseFor(os.Getpid()); !errors.Is(err, ErrNotHeld) {
		t.Errorf("releaseFor of a reused pid's record = %v, want ErrNotHeld", err)
	}
	os.WriteFile(path, nil, 0o644)
	if err := l.releaseFor(os.Getpid()); !errors.Is(err, ErrNotHeld) {
		t.Errorf("releaseFor of an empty lock file = %v, want ErrNotHeld", err)
	}
	if _, err := os.Lstat(path); err != nil {
		t.Errorf("the lock file was removed: %v", err)
	}
}

// A leased lock is not handed over: nobody would refresh the lease.
func TestHandOverRefusesLease(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.lock")
	l := mustNew(t, path, WithLease(time.Minute))
	if err := l.Lock(lockCtx(t)); err != nil {
		t.Fatal(err)
	}
	if err := l.handTo(os.Getpid()); !errors.Is(err, ErrInvalidOption) || !l.Held() {
		t.Errorf("handTo of a leased lock = %v (held %v); want ErrInvalidOption, still held", err, l.Held())
	}
}
