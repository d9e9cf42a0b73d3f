package openlock

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A reservation of the next turn (turn.go) by a live process binds others
// while it is fresh: a free lock is left to it. Here on a local file system
// told to behave as a network one.
func TestTurnReservationIsRespected(t *testing.T) {
	const retry, cacheTime = 10 * time.Millisecond, 10 * time.Millisecond
	path := filepath.Join(t.TempDir(), "a.lock")
	writeRecord(t, nextName(path), liveRecord(t))
	l := mustNew(t, path, withRemote(cacheTime), WithRetryPeriod(retry))
	if ok, err := l.TryLock(); ok || err != nil {
		t.Fatalf("TryLock on a free lock reserved by a live waiter = %v, %v; want false", ok, err)
	}
	// Unrefreshed for longer than turnTTL, it binds nobody: its owner has
	// stopped looking (stopped, or cut off).
	time.Sleep(l.turnTTL() + 50*time.Millisecond) // a lower bound on age, not a speed assertion
	if ok, err := l.TryLock(); !ok || err != nil {
		t.Fatalf("TryLock past the reservation's TTL = %v, %v; want true", ok, err)
	}
}

// A dead waiter's reservation binds nobody, and is swept.
func TestTurnReservationOfDeadProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.lock")
	writeRecord(t, nextName(path), hereRecord(deadPID(t), "1"))
	l := mustNew(t, path, withRemote(10*time.Millisecond))
	if ok, err := l.TryLock(); !ok || err != nil {
		t.Fatalf("TryLock with a dead waiter's reservation = %v, %v; want true", ok, err)
	}
	if _, err := os.Lstat(nextName(path)); !isNotExist(err) {
		t.Errorf("the dead waiter's reservation was not swept: %v", err)
	}
}

// A waiter that has waited turnAfter reserves the next turn, keeps it while
// it waits, and drops it once it holds the lock.
func TestWaiterReservesTurn(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.lock")
	h := startChild(t, "hold", []string{"OPENLOCK_TEST_LOCK=" + path})
	h.Expect("held")
	l := mustNew(t, path, withRemote(10*time.Millisecond), WithRetryPeriod(10*time.Millisecond))
	done := lockAsync(t, l)
	for deadline := time.Now().Add(long); ; time.Sleep(5 * time.Millisecond) {
		if fi, err := os.Lstat(nextName(path)); err == nil {
			l.mu.Lock()
			ours := l.tok != nil && os.SameFile(fi, l.tok.fi)
			l.mu.Unlock()
			if !ours {
				t.Fatal("the reservation is not the waiter's")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the waiter never reserved the next turn")
		}
	}
	h.Send("release")
	h.Expect("released")
	if err := <-done; err != nil {
		t.Fatalf("Lock after the holder released: %v", err)
	}
	if _, err := os.Lstat(nextName(path)); !isNotExist(err) {
		t.Errorf("the reservation is still there once the waiter holds the lock: %v", err)
	}
}
