package openlock

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openlock/openlock/internal/fsx"
	"github.com/openlock/openlock/procscan"
)

// Wake on release: a waiter whose pauses are an hour long still takes the
// lock as soon as the holder releases it, woken by file-change notification.
func TestWakeOnRelease(t *testing.T) {
	needNotify(t)
	path := filepath.Join(t.TempDir(), "a.lock")
	h := startChild(t, "hold", []string{"OPENLOCK_TEST_LOCK=" + path})
	h.Expect("held")
	var woken atomic.Bool
	trace, waiting := signalOn(StepWaiting, func(e Event) { woken.CompareAndSwap(false, e.Step == StepWoken) })
	l := mustNew(t, path, WithRetryPeriod(time.Hour), withFirstPause(time.Hour), trace)
	done := make(chan error, 1)
	go func() { done <- l.Lock(lockCtx(t)) }()
	<-waiting // in its hour-long pause, watching
	h.Send("release")
	if err := <-done; err != nil {
		t.Fatalf("Lock: %v", err)
	}
	if !woken.Load() {
		t.Error("the waiter was not woken by notification")
	}
}

// signalOn returns a trace option that signals on the returned channel (at
// most one pending) each time step happens, and passes every event to also.
func signalOn(step Step, also func(Event)) (Option, <-chan struct{}) {
	c := make(chan struct{}, 1)
	return WithTrace(func(e Event) {
		if also != nil {
			also(e)
		}
		if e.Step == step {
			select {
			case c <- struct{}{}:
			default:
			}
		}
	}), c
}

// Without notification (as on a network file system), polling still finds
// the released lock.
func TestPollingWithoutNotification(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.lock")
	h := startChild(t, "hold", []string{"OPENLOCK_TEST_LOCK=" + path})
	h.Expect("held")
	trace, waiting := signalOn(StepWaiting, nil)
	l := mustNew(t, path, WithRetryPeriod(5*time.Millisecond), withoutNotify(), trace)
	done := make(chan error, 1)
	go func() { done <- l.Lock(lockCtx(t)) }()
	<-waiting
	h.Send("release")
	if err := <-done; err != nil {
		t.Fatalf("Lock: %v", err)
	}
}

// 10^4 waits woken by notification leave no goroutine and no descriptor
// behind.
func TestNoLeakAfterManyWaits(t *testing.T) {
	needNotify(t)
	path := filepath.Join(t.TempDir(), "a.lock")
	foreign := liveRecord(t)
	trace, waiting := signalOn(StepWaiting, nil)
	l := mustNew(t, path, WithRetryPeriod(time.Hour), withFirstPause(time.Hour), trace)
	cycle := func() {
		writeRecord(t, path, foreign)
		done := make(chan error, 1)
		go func() { done <- l.Lock(lockCtx(t)) }()
		select {
		case <-waiting:
		case err := <-done:
			t.Fatalf("Lock returned %v while a live process held the lock", err)
		}
		os.Remove(path) // the foreign holder releases
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if err := l.Unlock(); err != nil {
			t.Fatal(err)
		}
	}
	cycle() // warm up: the first use may start runtime goroutines
	goroutines, fds := runtime.NumGoroutine(), openFDs(t)
	n := 10_000
	if testing.Short() {
		n = 1000
	}
	for range n {
		cycle()
	}
	if g := settleCount(runtime.NumGoroutine, goroutines); g > goroutines {
		t.Errorf("%d goroutines after %d waits, %d before", g, n, goroutines)
	}
	if f := settleCount(func() int { return openFDs(t) }, fds); f > fds {
		t.Errorf("%d open descriptors after %d waits, %d before", f, n, fds)
	}
	// Once nobody watches, the shared notifier closes (after notifyIdle;
	// here at once) and its descriptor and goroutines go too. (On Linux a
	// waiter waits on descriptors of its own, and the notifier may never
	// have started.)
	notifier.mu.Lock()
	running := notifier.w != nil
	notifier.mu.Unlock()
	if !running || keepWatcher { // kept on Windows (notifyidle_windows.go)
		return
	}
	notifier.flush()
	if f := settleCount(func() int { return openFDs(t) }, fds-1); f >= fds {
		t.Errorf("%d open descriptors after the idle notifier closed, %d while it ran", f, fds)
	}
	if g := settleCount(runtime.NumGoroutine, goroutines-1); g >= goroutines {
		t.Errorf("%d goroutines after the idle notifier closed, %d while it ran", g, goroutines)
	}
}

// settleCount returns count() once it is at most want, or its last value when
// that does not happen within a generous deadline. Goroutines that are
// ending (a stopped watch's, a timer's) take a moment to be gone.
func settleCount(count func() int, want int) int {
	deadline := time.Now().Add(long)
	for {
		n := count()
		if n <= want || time.Now().After(deadline) {
			return n
		}
		time.Sleep(time.Millisecond)
	}
}

func openFDs(t *testing.T) int {
	es, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count descriptors: %v", err)
	}
	return len(es)
}

// LockContext: the context ends when the lock file is removed by hand or
// replaced, with a cause wrapping ErrLockLost; and when the lock is released,
// with context.Canceled. With notification, at once (a check interval of an
// hour cannot explain it); without, within a check interval.
func TestLockContextLost(t *testing.T) {
	for _, tt := range []struct {
		name string
		opts []Option
		lose func(path string)
	}{
		{"removed, notified", []Option{WithCheckInterval(time.Hour)}, func(p string) { os.Remove(p) }},
		{"replaced, notified", []Option{WithCheckInterval(time.Hour)}, func(p string) {
			os.WriteFile(p+".x", []byte("1\nother\n"), 0o644)
			os.Rename(p+".x", p)
		}},
		{"removed, polled", []Option{WithCheckInterval(5 * time.Millisecond), withoutNotify()}, func(p string) { os.Remove(p) }},
		{"rewritten in place, notified", []Option{WithCheckInterval(time.Hour)}, func(p string) { os.WriteFile(p, []byte("1\nother\n"), 0o644) }},
		{"rewritten in place, polled", []Option{WithCheckInterval(5 * time.Millisecond), withoutNotify()}, func(p string) {
			os.WriteFile(p, []byte("1\nother\n"), 0o644)
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if strings.HasSuffix(tt.name, ", notified") {
				needNotify(t)
			}
			path := filepath.Join(t.TempDir(), "a.lock")
			l := mustNew(t, path, tt.opts...)
			held, err := l.LockContext(lockCtx(t))
			if err != nil {
				t.Fatal(err)
			}
			if held.Err() != nil {
				t.Fatalf("context ended while the lock is held: %v", context.Cause(held))
			}
			tt.lose(path)
			select {
			case <-held.Done():
			case <-time.After(long):
				t.Fatal("the context did not end after the lock was lost")
			}
			if cause := context.Cause(held); !errors.Is(cause, ErrLockLost) {
				t.Errorf("cause = %v, want ErrLockLost", cause)
			}
			if err := l.Unlock(); !errors.Is(err, ErrLockLost) {
				t.Errorf("Unlock after the loss = %v, want ErrLockLost", err)
			}
		})
	}
}

func TestLockContextReleased(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.lock")
	l := mustNew(t, path)
	warm, err := l.LockContext(lockCtx(t)) // starts the shared notifier
	if err != nil {
		t.Fatal(err)
	}
	l.Unlock()
	<-warm.Done()
	before := runtime.NumGoroutine()
	held, err := l.LockContext(lockCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}
	if held.Err() == nil || context.Cause(held) != context.Canceled {
		t.Errorf("after Unlock: Err %v, cause %v; want context.Canceled", held.Err(), context.Cause(held))
	}
	if g := settleCount(runtime.NumGoroutine, before); g > before {
		t.Errorf("%d goroutines after Unlock, %d before LockContext: the keeper leaked", g, before)
	}
	// The acquisition ctx bounds only the wait: its end does not end the hold.
	ctx, cancel := context.WithCancel(context.Background())
	held, err = l.LockContext(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	if held.Err() != nil {
		t.Errorf("cancelling the acquisition ctx ended the hold: %v", held.Err())
	}
	l.Close()
	if held.Err() == nil {
		t.Error("Close did not end the hold's context")
	}
}

func changeTime(t *testing.T, path string) time.Time {
	l := mustNew(t, path)
	o, ok, err := l.Owner()
	if err != nil || !ok {
		t.Fatalf("Owner: %v, %v", ok, err)
	}
	return o.Since
}

// A leased record of a holder we cannot check: a fresh one is held, one
// unrefreshed for longer than its lease and our margin is stale, and Owner
// says why.
func TestLeaseJudgement(t *testing.T) {
	dir := t.TempDir()
	fresh := filepath.Join(dir, "fresh.lock")
	r := hereRecord(deadPID(t), "1")
	r.Host, r.Lease = "elsewhere", "1h"
	writeRecord(t, fresh, r)
	if ok, err := mustNew(t, fresh).TryLock(); ok || err != nil {
		t.Errorf("TryLock on a fresh lease = %v, %v; want false", ok, err)
	}
	old := filepath.Join(dir, "old.lock")
	r.Lease = "1s"
	writeRecord(t, old, r)
	l := mustNew(t, old, WithLeaseMargin(0))
	deadline := time.Now().Add(long)
	for {
		o, _, err := l.Owner()
		if err != nil {
			t.Fatal(err)
		}
		if o.Verdict == procscan.Dead {
			if !strings.Contains(o.Reason, "lease expired") {
				t.Errorf("reason %q does not say the lease expired", o.Reason)
			}
			break
		}
		if o.Verdict != procscan.Unknown || time.Now().After(deadline) {
			t.Fatalf("Owner().Verdict = %v (%s); want unknown, then dead once the lease runs out", o.Verdict, o.Reason)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if ok, err := l.TryLock(); !ok || err != nil {
		t.Fatalf("TryLock on an expired lease = %v, %v; want true", ok, err)
	}
}

// A holder that can be checked is judged by its process, not its lease: a
// leased local holder that is stopped (SIGSTOP) far beyond its lease keeps
// its lock.
func TestLeaseDoesNotOverrideLiveLocalHolder(t *testing.T) {
	needPause(t)
	path := filepath.Join(t.TempDir(), "a.lock")
	h := startChild(t, "hold", []string{"OPENLOCK_TEST_LOCK=" + path, "OPENLOCK_TEST_LEASE=1s"})
	h.Expect("held")
	h.Signal(stopSignal)
	defer h.Signal(contSignal)
	l := mustNew(t, path, WithLeaseMargin(0))
	deadline := time.Now().Add(2500 * time.Millisecond) // well past lease + margin
	for time.Now().Before(deadline) {
		if ok, err := l.TryLock(); ok || err != nil {
			t.Fatalf("TryLock on a stopped but live leased holder = %v, %v; want false", ok, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if o, _, _ := l.Owner(); o.Verdict != procscan.Alive {
		t.Errorf("Owner() = %+v; want alive", o)
	}
}

// Fencing: each acquisition, by any FileLock and by takeover, gets a higher
// value.
func TestFencing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.lock")
	a := mustNew(t, path, WithFencing(true))
	b := mustNew(t, path, WithFencing(true))
	if _, err := a.Fence(); !errors.Is(err, ErrNotHeld) {
		t.Errorf("Fence before Lock = %v, want ErrNotHeld", err)
	}
	var last uint64
	for i, l := range []*FileLock{a, b, a, b} {
		if err := l.Lock(lockCtx(t)); err != nil {
			t.Fatal(err)
		}
		f, err := l.Fence()
		if err != nil || f != last+1 {
			t.Fatalf("acquisition %d: Fence() = %d, %v; want %d", i, f, err, last+1)
		}
		last = f
		l.Unlock()
	}
	// A takeover of a dead holder's lock counts too.
	writeStale(t, path)
	if ok, err := a.TryLock(); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if f, _ := a.Fence(); f != last+1 {
		t.Errorf("Fence after a takeover = %d, want %d", f, last+1)
	}
	a.Unlock()
	if _, err := mustNew(t, path).Fence(); !errors.Is(err, ErrInvalidOption) {
		t.Errorf("Fence without WithFencing = %v, want ErrInvalidOption", err)
	}
	// The fence file is neither debris nor a lock of its own.
	paths, err := LockFiles(dir)
	if err != nil || len(paths) != 1 || paths[0] != path {
		t.Errorf("LockFiles = %q, %v; want just %s", paths, err, path)
	}
	a.Close()
	b.Close()
	if names := dirNames(t, dir); len(names) != 1 || names[0] != "a.lock.fence" {
		t.Errorf("directory holds %q; want only the fence file", names)
	}
}

// A leased holder that refreshes between our verdict (expired) and our
// replacement is not replaced: the re-read compares the change time too.
func TestLeaseRefreshDuringTakeover(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.lock")
	r := hereRecord(deadPID(t), "1")
	r.Host, r.Lease = "elsewhere", "1s"
	writeRecord(t, path, r)
	l := mustNew(t, path, WithLeaseMargin(0), withHook(func(step string) {
		if step == string(StepClaimed) {
			fsx.Touch(path) // the holder wakes up and refreshes its lease
		}
	}))
	for deadline := time.Now().Add(long); ; time.Sleep(50 * time.Millisecond) {
		if o, _, _ := l.Owner(); o.Verdict == procscan.Dead {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the lease never expired")
		}
	}
	if ok, err := l.TryLock(); ok || err != nil {
		t.Fatalf("TryLock with a refresh during the takeover = %v, %v; want false", ok, err)
	}
	if got := readRecord(t, path); got.Nonce != r.Nonce {
		t.Errorf("the refreshed holder's lock file was replaced: %+v", got)
	}
}

// Crash: a waiter whose pauses are an hour long takes the lock as soon as
// the holder is killed (no file event: the lock file stays), woken by the
// holder's exit.
func TestWakeOnHolderExit(t *testing.T) {
	needExitWatch(t)
	needNotify(t)
	path := filepath.Join(t.TempDir(), "a.lock")
	h := startChild(t, "hold", []string{"OPENLOCK_TEST_LOCK=" + path})
	h.Expect("held")
	trace, waiting := signalOn(StepWaiting, nil)
	l := mustNew(t, path, WithRetryPeriod(time.Hour), withFirstPause(time.Hour), trace)
	done := make(chan error, 1)
	go func() { done <- l.Lock(lockCtx(t)) }()
	<-waiting
	h.Kill()
	if err := <-done; err != nil {
		t.Fatalf("Lock after the holder was killed: %v", err)
	}
}

// A waiter woken by a release that loses the race (someone linked first)
// judges the winner a few milliseconds later, not at the end of its pause:
// here the winner is already dead, and the waiter, whose pauses are an hour
// long, takes the lock over.
func TestWokenLoserJudgesWinner(t *testing.T) {
	needNotify(t)
	path := filepath.Join(t.TempDir(), "a.lock")
	writeRecord(t, path, liveRecord(t)) // a live holder
	woken := make(chan struct{})
	proceed := make(chan struct{})
	trace, waiting := signalOn(StepWaiting, func(e Event) {
		if e.Step == StepWoken {
			close(woken)
			<-proceed // hold the waiter between its wake-up and its link
		}
	})
	l := mustNew(t, path, WithRetryPeriod(time.Hour), withFirstPause(time.Hour), trace)
	done := make(chan error, 1)
	go func() { done <- l.Lock(lockCtx(t)) }()
	<-waiting
	os.Remove(path) // the holder releases
	<-woken
	writeStale(t, path) // a winner took it first, and died at once
	close(proceed)
	if err := <-done; err != nil {
		t.Fatalf("Lock: %v", err)
	}
	if r := readRecord(t, path); r.PID != os.Getpid() {
		t.Errorf("lock holds pid %d, want ours", r.PID)
	}
}
