package openlock

import (
	"context"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openlock/openlock/fileformat"
)

// heldByChild has a child process take a new lock, and returns its path,
// the child, the child's record, and a FileLock on it that never polls (its
// pauses last an hour), with the signal of its waits.
func heldByChild(t *testing.T) (string, *child, fileformat.Record, *FileLock, <-chan struct{}) {
	path := filepath.Join(t.TempDir(), "a.lock")
	h := startChild(t, "hold", []string{"OPENLOCK_TEST_LOCK=" + path})
	h.Expect("held")
	trace, waiting := signalOn(StepWaiting, nil)
	l := mustNew(t, path, WithRetryPeriod(time.Hour), withFirstPause(time.Hour), trace)
	return path, h, readRecord(t, path), l, waiting
}

// lineOfChildren starts a child process holding a new lock and waiters
// child processes that wait for it in that order, each in line behind the
// one before; extra is added to their environment.
func lineOfChildren(t *testing.T, waiters int, extra ...string) (path string, h *child, w []*child) {
	path = filepath.Join(t.TempDir(), "a.lock")
	env := append([]string{"OPENLOCK_TEST_LOCK=" + path, "OPENLOCK_TEST_REPORT=waiting"}, extra...)
	h = startChild(t, "hold", env)
	h.Expect("held")
	for range waiters {
		c := startChild(t, "hold", env)
		c.Expect("step waiting")
		w = append(w, c)
	}
	return path, h, w
}

// A waiter queued behind waiters that died (their places in the line are
// still there, their processes gone) is not stuck behind them: it watches the lock
// file, and takes the lock when the holder releases it. The waiter never
// polls here (its pauses last an hour), so only a notification can wake it.
func TestLineSkipsDeadWaiters(t *testing.T) {
	path, h, holder, l, waiting := heldByChild(t)
	for range 2 { // makes our token, then its sweep (sweepIfDue), first
		if ok, err := l.TryLock(); ok || err != nil {
			t.Fatalf("TryLock of a held lock = %v, %v", ok, err)
		}
	}
	// Two waiters that died in line, one behind the other, after the holder.
	dead1, dead2 := writeStale(t, afterName(path, holder.Nonce)), hereRecord(deadPID(t), "12345")
	writeRecord(t, afterName(path, dead1.Nonce), dead2)

	done := lockAsync(t, l)
	waitStep(t, waiting, "wait")
	mine := afterName(path, dead2.Nonce) // third in line: behind both
	fi, err := os.Lstat(mine)
	if err != nil || !os.SameFile(fi, l.tok.fi) {
		t.Fatalf("the waiter's place in line %s: %v (want a link of its token)", mine, err)
	}
	h.Send("release")
	lockedSoon(t, done, "behind dead waiters")
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(mine); !os.IsNotExist(err) {
		t.Errorf("the place in line %s is still there after the release (%v)", mine, err)
	}
	// The dead waiters' places are debris: swept by Clean, unless the
	// holder's Close swept them first.
	if _, err := l.Clean(false); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{afterName(path, holder.Nonce), afterName(path, dead1.Nonce)} {
		if _, err := os.Lstat(p); !os.IsNotExist(err) {
			t.Errorf("a dead waiter's place %s is still there after Clean (%v)", p, err)
		}
	}
}

// A waiter takes the lock from the line by renaming its entry onto the lock
// path. If a third party replaced the entry (removed it, and another file
// took its name), the rename moves that file, and the waiter must see that
// the lock file is not its token: then it does not hold the lock, and here
// takes it by a takeover of what it moved, a dead process's record.
func TestTakeFromLineChecksWhatItMoved(t *testing.T) {
	path, h, holder, l, waiting := heldByChild(t)
	done := lockAsync(t, l)
	waitStep(t, waiting, "wait")
	mine := afterName(path, holder.Nonce)
	if fi, err := os.Lstat(mine); err != nil || !os.SameFile(fi, l.tok.fi) {
		t.Fatalf("the waiter's place in line %s: %v (want a link of its token)", mine, err)
	}
	if err := os.Remove(mine); err != nil {
		t.Fatal(err)
	}
	writeStale(t, mine)
	h.Send("release")
	lockedSoon(t, done, "after a takeover of the file its rename moved")
	if fi, err := os.Lstat(path); err != nil || !os.SameFile(fi, l.tok.fi) {
		t.Fatalf("Lock returned, but the lock file is not our token (%v)", err)
	}
}

// A waiter behind a waiter that is killed while it waits takes the lock at
// the next release: the kill wakes it (pidfd of the waiter ahead) and it
// watches the lock file in its stead. Without that, nothing would wake it:
// its pauses last an hour, and the killed waiter's token, which it
// watches, never changes again.
func TestLineSkipsKilledWaiter(t *testing.T) {
	path, h, w := lineOfChildren(t, 2)
	w1, w2 := w[0], w[1] // first and second in line

	trace, waiting := signalOn(StepWaiting, nil)
	l := mustNew(t, path, WithRetryPeriod(time.Hour), withFirstPause(time.Hour), trace)
	done := lockAsync(t, l)
	waitStep(t, waiting, "wait") // third in line, behind w2
	w2.Kill()
	waitStep(t, waiting, "wait after the waiter ahead was killed")
	h.Send("release")
	// w1 and we both watch the lock file now: either may win the race.
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
		return
	case <-time.After(time.Millisecond):
	}
	won := make(chan struct{})
	go func() {
		if _, err := w1.Child.Expect("held", long); err == nil {
			close(won)
		}
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-won:
		w1.Send("release")
		lockedSoon(t, done, "behind a killed waiter")
	case <-time.After(long):
		t.Fatalf("neither the first waiter nor we took the released lock within %v", long)
	}
}

// A release wakes the next waiter, not the ones behind it: each waiter
// watches only the token of the one right ahead of it. Behind a holder and
// two waiting processes, we are woken once, by the second one's release:
// never by the holder's release or the first waiter's cycle, nor by the
// second one taking the lock (it renames its entry onto the lock path,
// which leaves its token's link count alone). Nobody polls here (an hour's
// retry period), and the turns come in line order.
func TestReleaseWakesOnlyTheNextWaiter(t *testing.T) {
	path, h, w := lineOfChildren(t, 2, "OPENLOCK_TEST_RETRY=1h")
	w1, w2 := w[0], w[1]

	var woken atomic.Int32
	trace, waiting := signalOn(StepWaiting, func(e Event) {
		if e.Step == StepWoken {
			woken.Add(1)
		}
	})
	l := mustNew(t, path, WithRetryPeriod(time.Hour), withFirstPause(time.Hour), trace)
	done := lockAsync(t, l)
	waitStep(t, waiting, "wait") // third in line, behind w2
	first := readRecord(t, afterName(path, readRecord(t, path).Nonce))
	second := readRecord(t, afterName(path, first.Nonce))
	mine := afterName(path, second.Nonce)
	if fi, err := os.Lstat(mine); err != nil || !os.SameFile(fi, l.tok.fi) {
		t.Fatalf("our place in line %s: %v (want a link of our token, third in line)", mine, err)
	}

	h.Send("release")
	w1.Expect("held")
	w1.Send("release")
	w2.Expect("held")
	w2.Send("release")
	lockedSoon(t, done, "third in line")
	if n := woken.Load(); n > 1 {
		t.Errorf("woken %d times; want once (the release of the waiter ahead)", n)
	}
}

// A waiter whose turn comes while it is stopped (SIGSTOP) holds up nobody
// for long: the waiters behind it look at the lock now and then (their
// share of the line's net, see waiter.pause), and the first to look takes
// the free lock. Here the stopped waiter is first in line and we are right
// behind it; only our looks can find the lock free.
func TestLineLooksPastStoppedWaiter(t *testing.T) {
	path, h, w := lineOfChildren(t, 1)
	w1 := w[0] // first in line

	trace, waiting := signalOn(StepWaiting, nil)
	l := mustNew(t, path, WithRetryPeriod(20*time.Millisecond), trace)
	done := lockAsync(t, l)
	waitStep(t, waiting, "wait") // second in line, behind w1
	first := readRecord(t, afterName(path, readRecord(t, path).Nonce))
	if fi, err := os.Lstat(afterName(path, first.Nonce)); err != nil || !os.SameFile(fi, l.tok.fi) {
		t.Fatalf("our place in line: %v (want a link of our token, behind the first waiter)", err)
	}
	stopWaiter(t, w1)
	h.Send("release")
	lockedSoon(t, done, "behind a stopped waiter")
}

// A newcomer that queues behind a waiter looks no more once its watch on
// that waiter's token began while the waiter's entry was still there: any
// later change raises an event. (It used to try a bare link, which took a
// lock that had just come free from the waiter ahead, whose turn it was,
// and forked the line: about one handoff in twenty with 33 processes.)
// Right behind the holder (once the waiter ahead took the lock), it looks:
// the holder may have released before the watch began.
func TestQueuedNewcomerDoesNotLookAfterWatch(t *testing.T) {
	path, h, w := lineOfChildren(t, 1)
	l := mustNew(t, path, WithRetryPeriod(time.Hour))
	queue := func() (*waitSet, bool) {
		t.Helper()
		s, seen := waitSetOn(t, l)
		s.join(seen)
		return s, s.settle(seen)
	}
	s, look := queue()
	if !s.queued() {
		t.Fatalf("the newcomer is not queued behind the waiter (ahead %+v)", s.ahead)
	}
	if look {
		t.Error("settle behind a waiter still in line asked for a look")
	}
	s.leave()
	s.close()
	h.Send("release") // the waiter takes the lock, by renaming its entry
	w[0].Expect("held")
	s, look = queue()
	if !s.ahead.behindHolder() {
		t.Errorf("the newcomer queued behind %s, not behind the new holder", s.ahead.entry)
	}
	if !look {
		t.Error("settle right behind the holder asked for no look")
	}
	s.leave()
	s.close()
}

// A waiter whose last wait waited behind a long line maps the line from
// the directory at once (jumpAfter), and queues behind its last waiter as
// the walk would.
func TestJoinAfterLongWaitMapsLineAtOnce(t *testing.T) {
	path, h, w := lineOfChildren(t, 3)
	last := readRecord(t, path) // the holder, then each waiter behind
	for range w {
		last = readRecord(t, afterName(path, last.Nonce))
	}
	defer func() { // let the line run out
		h.Send("release")
		for _, c := range w {
			c.Expect("held")
			c.Send("release")
		}
	}()
	for _, turns := range []int{0, jumpAfter + 2} {
		l := mustNew(t, path, WithRetryPeriod(time.Hour))
		s, seen := waitSetOn(t, l)
		s.turns = turns
		s.join(seen)
		if want := afterName(path, last.Nonce); l.place.entry != want || s.ahead.waiters != len(w) {
			t.Errorf("last wait behind %d: joined at %s behind %d waiters; want %s behind %d", turns, l.place.entry, s.ahead.waiters, want, len(w))
		}
		s.leave()
		s.close()
		l.Close()
	}
}

// waitSetOn has l look at its held lock and returns a wait set for l to
// wait with (not joined yet) and the holder the look saw.
func waitSetOn(t *testing.T, l *FileLock) (*waitSet, *holder) {
	t.Helper()
	held, seen, err := l.attempt(context.Background())
	if held || err != nil || seen == nil {
		t.Fatalf("attempt on a held lock = %v, %v, %v", held, seen, err)
	}
	s := l.newWaitSet(context.Background())
	if s == nil {
		t.Skip("no wait set here (no eventfd or epoll)")
	}
	return s, seen
}

// stopWaiter stops the child c with SIGSTOP (SIGCONT at the test's end) and
// returns once every thread of it has stopped: kill(2) returns before
// that, and a release meanwhile could still wake it and let it take the
// lock.
func stopWaiter(t *testing.T, c *child) {
	t.Helper()
	c.Signal(stopSignal)
	t.Cleanup(func() { c.Signal(contSignal) })
	waitState(t, c.PID(), 'T')
}
