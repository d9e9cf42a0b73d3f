package openlock

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openlock/openlock/procscan"
	"golang.org/x/sys/unix"
)

// The runtime's poller sees a wait set's epoll instance edge-triggered: a
// descriptor left ready when a wake-up is judged irrelevant raises no new
// edge. So when the pause's timer went off together with inotify events of
// no concern (here: none left to read), the wait must end all the same.
// It did not, and a waiter on GlusterFS waited minutes on a free lock.
//
// A wake-up by inotify leaves its events to the next wait, which reads them
// first: a change among them (it may be a release after the one that woke
// us) ends that wait at once, events of no concern do not, and the wait
// after that sleeps.
func TestWaitEndsOnTimerBesideIrrelevantEvents(t *testing.T) {
	dir := t.TempDir()
	l := mustNew(t, filepath.Join(dir, "a.lock"))
	s := l.newWaitSet(context.Background())
	if s == nil {
		t.Skip("no wait set here (no eventfd or epoll)")
	}
	defer s.close()
	watched := filepath.Join(dir, "watched")
	if err := os.WriteFile(watched, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if !s.watchFile(watched) || s.timer < 0 {
		t.Skip("no inotify watch or timerfd here")
	}
	ready := []unix.EpollEvent{{Fd: int32(s.ino)}, {Fd: int32(s.timer)}}
	if w, ok, err := s.woken(ready); !ok || w != timedOut || err != nil {
		t.Errorf("woken(inotify with nothing to read, timer) = %v, %v, %v; want the pause's end (timedOut, true)", w, ok, err)
	}
	if w := s.wait(10 * time.Millisecond); w != timedOut {
		t.Errorf("wait after a wake-up with no event to read = %v; want timedOut after the pause", w)
	}
	// A change of the watched file wakes; the next wait reads it first.
	if err := os.Chmod(watched, 0o600); err != nil {
		t.Fatal(err)
	}
	if w, ok, err := s.woken(ready[:1]); !ok || w != released || err != nil {
		t.Errorf("woken(inotify with a change) = %v, %v, %v; want released, true", w, ok, err)
	}
	if w := s.wait(time.Hour); w != released {
		t.Errorf("wait with the change still queued = %v; want released at once", w)
	}
	if w := s.wait(10 * time.Millisecond); w != timedOut {
		t.Errorf("wait once the change was read = %v; want timedOut after the pause", w)
	}
}

// A pause that is due already (a judgement after a lost race whose moment
// has passed) ends the wait at once. It used to disarm the timer instead,
// and the wait lasted until some event came: on GlusterFS, where no event
// comes from the other client, minutes on a free lock.
func TestWaitDueAlreadyEndsAtOnce(t *testing.T) {
	l := mustNew(t, filepath.Join(t.TempDir(), "a.lock"))
	s := l.newWaitSet(context.Background())
	if s == nil {
		t.Skip("no wait set here (no eventfd or epoll)")
	}
	defer s.close()
	for _, d := range []time.Duration{-time.Millisecond, 0} {
		done := make(chan wake, 1)
		go func() { done <- s.wait(d) }()
		select {
		case w := <-done:
			if w != timedOut {
				t.Errorf("wait(%v) = %v; want timedOut", d, w)
			}
		case <-time.After(long):
			t.Fatalf("wait(%v) still waiting after %v", d, long)
		}
	}
}

// A waiter woken by the holder's exit (its pidfd) takes the lock over without
// asking the process table about the holder again: the pidfd said the
// process exited (procscan.JudgeExited), and the lock file, unchanged since
// the waiter's look, is the record it judged then (takeOverExited). With an
// hour's retry period, only the pidfd can have woken it.
func TestHolderExitJudgedByPidfd(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.lock")
	h := startChild(t, "hold", []string{"OPENLOCK_TEST_LOCK=" + path})
	h.Expect("held")
	table := &countingTable{Table: procscan.System(), n: map[int]int{}}
	waiting := make(chan struct{}, 1)
	l := mustNew(t, path, WithRetryPeriod(time.Hour), withTable(table), withHook(func(step string) {
		if step == string(StepWaiting) {
			select {
			case waiting <- struct{}{}:
			default:
			}
		}
	}))
	done := lockAsync(t, l)
	waitStep(t, waiting, "wait for the holder")
	before := table.lookups(h.PID())
	if before == 0 {
		t.Fatal("the holder was never judged by the process table")
	}
	h.Kill()
	lockedSoon(t, done, "after the holder was killed")
	if n := table.lookups(h.PID()) - before; n != 0 {
		t.Errorf("the process table was asked about the killed holder %d more time(s); want none: its pidfd said it exited", n)
	}
}

// countingTable counts the lookups of each PID.
type countingTable struct {
	procscan.Table
	mu sync.Mutex
	n  map[int]int
}

func (c *countingTable) Process(pid int) (procscan.Process, error) {
	c.mu.Lock()
	c.n[pid]++
	c.mu.Unlock()
	return c.Table.Process(pid)
}

func (c *countingTable) lookups(pid int) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[pid]
}

// A release yields its processor to the waiter it woke only when the wait
// that took the lock was expected to be short (yieldToNext): never after a
// first wait (no turn seen yet) or a wait for turns that take long.
func TestReleaseYieldsOnlyAfterShortWait(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.lock")
	var yields atomic.Int32
	waitOpt, waiting := signalOn(StepWaiting, nil)
	l := mustNew(t, path, waitOpt, withYielded(func() { yields.Add(1) }))
	// round has l wait for a child's release and release in turn, its wait
	// expecting turns as long as turn (0: as its last wait saw them). It
	// returns how many times l's release yielded.
	round := func(turn time.Duration) int32 {
		t.Helper()
		h := startChild(t, "hold", []string{"OPENLOCK_TEST_LOCK=" + path})
		h.Expect("held")
		if turn > 0 {
			l.mu.Lock()
			l.spare.turn = turn
			l.mu.Unlock()
		}
		done := lockAsync(t, l)
		waitStep(t, waiting, "wait behind the holder")
		h.Send("release")
		lockedSoon(t, done, "after the release")
		before := yields.Load()
		if err := l.Unlock(); err != nil {
			t.Fatal(err)
		}
		return yields.Load() - before
	}
	if n := round(0); n != 0 {
		t.Errorf("release after a first wait yielded %d time(s); want none (no turn seen yet)", n)
	}
	if l.spare == nil {
		t.Skip("no wait set here (no eventfd or epoll)")
	}
	if n := round(time.Microsecond); n != 1 {
		t.Errorf("release after a wait for turns of 1µs yielded %d time(s); want 1", n)
	}
	if n := round(time.Hour); n != 0 {
		t.Errorf("release after a wait for turns of an hour yielded %d time(s); want none", n)
	}
}

// The holder's watch (watchHolder) ends the wait it was set for when the
// lock file goes, and only that wait: it is removed, with what it queued,
// whatever ended the wait.
func TestHolderWatchLastsOneWait(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.lock")
	l := mustNew(t, path)
	s := l.newWaitSet(context.Background())
	if s == nil {
		t.Skip("no wait set here (no eventfd or epoll)")
	}
	defer s.close()
	if s.watchHolder() {
		t.Fatal("watchHolder with no lock file reported a watch")
	}
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if !s.watchHolder() || s.timer < 0 {
		t.Skip("no inotify watch or timerfd here")
	}
	if w := s.wait(10 * time.Millisecond); w != timedOut || s.watchingHolder() {
		t.Errorf("wait watching an unchanged holder = %v, still watching %v; want timedOut, false", w, s.watchingHolder())
	}
	if err := os.Chmod(path, 0o600); err != nil { // an event for a watch no longer there
		t.Fatal(err)
	}
	if !s.watchHolder() {
		t.Fatal("no second watch")
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if w := s.wait(long); w != holderMoved || s.watchingHolder() {
		t.Errorf("wait watching a holder that released = %v, still watching %v; want holderMoved, false", w, s.watchingHolder())
	}
	if w := s.wait(10 * time.Millisecond); w != timedOut {
		t.Errorf("wait after the holder's watch = %v; want timedOut after the pause", w)
	}
}

// A waiter behind another sleeps through the holder's turn: after a look
// that found the holder still there, it looks again only after the
// holder's release or coveredRetries retry periods, not every few retry
// periods. And the net still holds: if the waiter ahead is stopped when
// the holder releases, it passes it.
func TestQueuedWaiterSleepsThroughHolderTurn(t *testing.T) {
	path, h, w := lineOfChildren(t, 1)
	var sleeps atomic.Int32
	trace, waiting := signalOn(StepWaiting, func(e Event) {
		if e.Step == StepWaiting {
			sleeps.Add(1)
		}
	})
	const retry = 20 * time.Millisecond
	l := mustNew(t, path, WithRetryPeriod(retry), trace)
	done := lockAsync(t, l)
	waitStep(t, waiting, "wait") // joined, second in line
	waitStep(t, waiting, "wait after a look")
	// Looking every queuedRetries retry periods, it would sleep about
	// 30 times in a second; watching the holder, about 5 (a full look
	// every coveredRetries, the look a pause after it). A load on the
	// machine makes fewer.
	before := sleeps.Load()
	time.Sleep(50 * retry)
	if n := sleeps.Load() - before; n > 12 {
		t.Errorf("%d sleeps in %v behind a waiter, the holder holding; want at most 12", n, 50*retry)
	}
	stopWaiter(t, w[0])
	h.Send("release")
	lockedSoon(t, done, "behind a stopped waiter, after the holder's turn")
}
