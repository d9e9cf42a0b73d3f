package openlock

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"time"
)

// Lock takes the lock, waiting while a live process holds it.
//
// It returns nil once the lock is held, or an error when ctx is cancelled
// (wrapping context.Canceled) or its deadline passes (wrapping both ErrTimeout
// and context.DeadlineExceeded). When ctx has no deadline, the FileLock's
// Timeout, if any, sets one. A ctx already done returns at once. Whatever
// phase a cancellation interrupts (queueing behind goroutines of this
// process, waiting for another process, taking over a stale lock), Lock
// returns promptly and leaves no lock file or claim of its own behind.
// Whatever the file system answers, Lock returns within about a retry
// period of its deadline, and sleeps while it waits: every retry of its
// looks comes after a pause.
//
// A stale lock (its holder is dead) is taken over without waiting. While a
// live process holds the lock, Lock waits: it wakes when the lock file is
// removed (file-change notification, where the file system gives it) or
// when the holder's process exits (Linux), and otherwise looks again after
// a pause that starts at about a millisecond and backs off, with jitter, to
// the retry period. On Linux, processes waiting for the lock queue in a
// line of files beside it, and a release wakes the first of them (see the
// README's "How it works"); a wait that notification covers fully looks
// only every 16 retry periods.
//
// Lock is not reentrant: a FileLock that holds the lock waits in Lock, like a
// sync.Mutex, until someone calls Unlock or ctx ends.
//
// Lock also excludes the readers of the shared lock (RLock) on the same
// path: having taken the lock file, it waits, holding it so that no new
// reader comes in, until every reader has left or is judged dead.
func (l *FileLock) Lock(ctx context.Context) error {
	start := time.Now()
	if err := l.lockGate(ctx, start); err != nil {
		return err
	}
	return l.excludeReaders(ctx, start) // the shared lock's readers (readers.go)
}

// lockGate takes the lock file, as Lock does, but does not wait for the
// shared lock's readers to leave: what RLock needs (rlock.go).
func (l *FileLock) lockGate(ctx context.Context, start time.Time) error {
	l.sweepBeforeCall()
	if err := l.doneAlready(ctx, start); err != nil {
		return err
	}
	if !l.q.sem.TryAcquire(1) {
		if err := l.queue(ctx, start); err != nil {
			return err
		}
	}
	w := waiter{l: l, ctx: ctx, start: start}
	return w.wait()
}

// doneAlready returns the error of a call that takes a lock (Lock, RLock)
// when its ctx is already done, and nil otherwise: such a call takes
// nothing, even a free lock, as a ctx that ends while it waits would have it.
func (l *FileLock) doneAlready(ctx context.Context, start time.Time) error {
	if ctx.Err() != nil {
		return l.gaveUp(ctx, start, nil)
	}
	return nil
}

// LockContext takes the lock like Lock, and returns a context that is
// cancelled when the lock ends: released by Unlock or Close (its cause is
// then context.Canceled), or lost (its cause wraps ErrLockLost): the lock
// file was removed, or replaced by a process that judged this one dead or
// its lease expired. Give it to the work done under the lock, for instance
// errgroup.WithContext, so that the work stops when the lock is gone.
//
// ctx bounds the wait for the lock only; the returned context carries ctx's
// values but not its deadline or cancellation.
//
// The check costs one stat per CheckInterval (WithCheckInterval), and on
// local file systems a removal or replacement is noticed at once through
// file-change notification. It tells you after the fact; it is not a fence:
// between the loss and the notice the work may go on. Use WithFencing for
// downstream systems that must refuse a former holder.
func (l *FileLock) LockContext(ctx context.Context) (context.Context, error) {
	if err := l.Lock(ctx); err != nil {
		return nil, err
	}
	held, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.held { // released in between by another goroutine
		cancel(nil)
		return held, nil
	}
	l.startKeeper().attach(cancel)
	return held, nil
}

// queue waits for the goroutines of this process ahead of us on this lock
// path; it returns holding q.sem.
func (l *FileLock) queue(ctx context.Context, start time.Time) error {
	ctx, cancel := l.withTimeout(ctx, start)
	defer cancel()
	qctx, stop := context.WithCancel(ctx)
	defer stop()
	defer context.AfterFunc(l.closing, stop)() // Close ends the wait at once
	l.step(StepQueued)
	if err := l.q.sem.Acquire(qctx, 1); err != nil {
		if cerr := l.closedError("lock"); cerr != nil {
			return cerr
		}
		return l.gaveUp(ctx, start, nil)
	}
	return nil
}

// coveredRetries is how many retry periods apart a waiter looks at the
// lock file while notification covers every way the lock can come free to
// it (see waitSet.covered).
const coveredRetries = 16

// queuedRetries is how many retry periods apart, at most, a waiter behind
// another waiter looks at the lock file, for each waiter that was ahead of
// it when it joined (see waiter.pause).
const queuedRetries = 2

// settle is how long after losing a race a waiter judges the winner: soon
// enough that a winner that crashes at once is recovered within
// milliseconds, late enough that a busy lock changes hands first.
const settle = 5 * time.Millisecond

// errFullLook is tryLink's answer when only a full attempt can tell.
var errFullLook = errors.New("a full look is needed")

// tryLink is the cheapest attempt, for a waiter that a release just woke: a
// bare link(2). It returns false, nil when the lock file exists (someone
// took it first), and errFullLook for any other failure, which attempt then
// sorts out.
func (l *FileLock) tryLink() (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed || l.tok == nil {
		return false, errFullLook
	}
	if l.yieldTo() != nil {
		return false, nil // a waiter on another machine has the next turn
	}
	switch err := l.linkLock(); {
	case err == nil:
		return l.acquired("link, woken by a release")
	case errors.Is(err, fs.ErrExist):
		return false, nil
	}
	return false, errFullLook
}

// withTimeout applies the FileLock's timeout to a ctx without a deadline,
// counting from start.
func (l *FileLock) withTimeout(ctx context.Context, start time.Time) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok || l.cfg.Timeout <= 0 {
		return ctx, func() {}
	}
	return context.WithDeadline(ctx, start.Add(l.cfg.Timeout))
}

// noteBusy logs the holder we wait for when it differs from the one before.
func (l *FileLock) noteBusy(before, now *holder) {
	if now != nil && now.fi != nil && (before == nil || before.fi == nil || !now.sameAs(before)) {
		l.debug("waiting", "holder", now)
	}
}

// failed wraps an error from an attempt; a context error becomes the same
// error gaveUp reports.
func (l *FileLock) failed(ctx context.Context, start time.Time, h *holder, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return l.gaveUp(ctx, start, h)
	}
	return wrap("lock", l.path, err)
}

// gaveUp is the error of a Lock whose ctx ended: a timeout (ErrTimeout and
// context.DeadlineExceeded) or a cancellation, saying how long we waited and
// for whom.
func (l *FileLock) gaveUp(ctx context.Context, start time.Time, h *holder) error {
	waited := time.Since(start).Round(time.Millisecond)
	if h != nil { // name the holder as it is now, not as last judged
		if cur, err := l.lookUnlocked(l.abs); err == nil {
			h = cur
		}
	}
	by := ""
	if h != nil && (h.fi != nil || h.res.Reason != "") {
		by = "; " + h.heldBy()
	}
	cerr := ctx.Err()
	var err error
	if errors.Is(cerr, context.DeadlineExceeded) {
		err = fmt.Errorf("%w after %v%s: %w", ErrTimeout, waited, by, cerr)
	} else {
		err = fmt.Errorf("gave up after %v%s: %w", waited, by, cerr)
	}
	if cause := context.Cause(ctx); cause != nil && cause != cerr {
		err = fmt.Errorf("%w (cause: %w)", err, cause)
	}
	return wrap("lock", l.path, err)
}

// backoff yields pauses that double from about a millisecond up to max, each
// drawn at random from its upper half, so that waiters woken together spread
// out again.
type backoff struct {
	max   time.Duration
	first time.Duration // 0: firstPause
	cur   time.Duration
}

const firstPause = time.Millisecond

func (b *backoff) next() time.Duration {
	switch {
	case b.cur == 0:
		b.cur = min(cmp.Or(b.first, firstPause), b.max)
	case b.cur < b.max:
		b.cur = min(2*b.cur, b.max)
	}
	return jitter(b.cur)
}

// jitter is a pause in [d/2, d], so that waiters that began together do
// not look together.
func jitter(d time.Duration) time.Duration {
	half := d / 2
	return half + rand.N(d-half+1)
}
