package openlock

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/openlock/openlock/internal/fsx"
)

// A keeper looks after a held lock in the background: it refreshes the
// lease (WithLease) and notices when the lock file stops being ours, for
// LockContext. It runs only while the lock is held and one of those asks for
// it. It never takes l.mu, so release can stop it while holding l.mu.
type keeper struct {
	stop chan struct{} // closed to stop it
	done chan struct{} // closed when it has stopped

	mu     sync.Mutex
	lost   error                   // why the lock was lost, once it was
	notify context.CancelCauseFunc // LockContext's, if any
}

// startKeeper starts the keeper for the lock just acquired, if none runs.
// l.mu must be held.
func (l *FileLock) startKeeper() *keeper {
	if l.keeper == nil {
		l.keeper = &keeper{stop: make(chan struct{}), done: make(chan struct{})}
		// Watch before returning: a loss right after must not go unseen.
		go l.keeper.run(l, l.tok, l.watch(lossOps))
	}
	return l.keeper
}

// beginLease refreshes the lease as a leased hold begins. The lock file,
// or a reader's registration, is a link of our token, which may have been
// made long ago (and its modification time set back: backdate) or last
// refreshed holds ago; a link moves the change time, by which a lease's
// age is judged, but not the modification time, which stands for it where
// no change time is reported (fsx.ChangeTime): there the hold would look
// expired at once, and be taken over while we hold it. l.mu must be held.
func (l *FileLock) beginLease() {
	if err := fsx.Touch(l.tok.path); err != nil {
		l.debug("cannot refresh the lease", "err", err)
	}
}

// stopKeeper stops the keeper, if any, waits for it, and ends the context
// LockContext returned (its cause: context.Canceled, the lock was released).
// l.mu must be held.
func (l *FileLock) stopKeeper() {
	k := l.keeper
	if k == nil {
		return
	}
	l.keeper = nil
	close(k.stop)
	<-k.done
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.notify != nil {
		k.notify(nil)
	}
}

// run refreshes and checks until stopped or until the lock is lost. It checks
// every CheckInterval (or Lease/3, when shorter), and at once when the lock
// file's directory reports a change to it; it refreshes the lease every
// Lease/3.
func (k *keeper) run(l *FileLock, tok *token, wt *watch) {
	defer close(k.done)
	period, refresh := l.cfg.CheckInterval, l.cfg.Lease/3
	if refresh > 0 {
		period = min(period, refresh)
	}
	refreshed := time.Now() // the lock file's change time is its acquisition
	defer wt.stop()
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-k.stop:
			return
		case <-t.C:
		case <-wt.wakeups():
		}
		// An I/O error is not a loss: the next check may succeed.
		if err := owned(l.abs, tok); errors.Is(err, ErrLockLost) {
			k.lose(wrap("lockcontext", l.path, err))
			l.debug("lock lost", "err", err)
			return
		}
		// Refresh a little early rather than a tick late.
		if refresh > 0 && time.Since(refreshed) >= refresh-period/2 {
			if err := fsx.Touch(tok.path); err != nil {
				l.debug("cannot refresh the lease", "err", err)
			}
			refreshed = time.Now()
		}
	}
}

// lose records the loss and tells LockContext's context.
func (k *keeper) lose(err error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.lost = err
	if k.notify != nil {
		k.notify(err)
	}
}

// attach makes cancel be called when the lock is lost or released; at once
// if it was already lost.
func (k *keeper) attach(cancel context.CancelCauseFunc) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.notify = cancel
	if k.lost != nil {
		cancel(k.lost)
	}
}
