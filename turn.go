package openlock

import (
	"errors"
	"io/fs"
	"os"
	"time"

	"github.com/openlock/openlock/internal/fsx"
	"github.com/openlock/openlock/procscan"
)

// Taking turns across machines.
//
// On a network file system a release through one client is seen at once by
// the processes on that client, and by those on other clients only once
// their client's cache has expired (a second, by default, on GlusterFS).
// Without more, a busy lock stays with one machine's processes while
// another machine's wait: each release is seen first, and so taken, by a
// process of the releaser's own client, and by the time the other clients'
// caches let their processes see the lock free, it is held again.
//
// So there a waiter that has waited turnAfter reserves the next turn: it
// links its token to <lock>.next (exclusively: one reservation at a time)
// and refreshes it at every look. Any other process that finds a free lock
// and a reservation that is not its own, whose owner lives and which was
// refreshed within turnTTL, leaves the lock to it: Lock waits, TryLock
// reports false. The reserver takes the lock as anyone does (link) and then
// drops its reservation; so does a waiter that gives up, and one that sets
// out to take over a lock it judged stale: that may take a cache time (see
// takeover.go), during which a free lock must not wait for it.
//
// A reservation is advice. Mutual exclusion never rests on it (the lock file
// alone decides who holds the lock), and a stale read of it costs fairness
// only. A reservation whose owner is dead, or that has not been refreshed for
// turnTTL (its owner stopped, or cut off), binds nobody, so that a reserver
// cannot stall the lock; a dead one is swept as debris. On a local file
// system every waiter sees a release at once, and none of this is done.

// turnAfter is how long a waiter waits before it reserves the next turn.
func (l *FileLock) turnAfter() time.Duration { return 2 * l.cfg.RetryPeriod }

// turnTTL is how long a reservation binds others after its last refresh:
// several refreshes (one per look, at most a retry period apart). The time
// the others' caches may lag is added by ageOf.
func (l *FileLock) turnTTL() time.Duration { return 4 * l.cfg.RetryPeriod }

// yieldTo returns the reservation of another process that a free lock must
// be left to, or nil. l.mu must be held, and l.tok made.
func (l *FileLock) yieldTo() *holder {
	if l.cacheTime() == 0 {
		return nil
	}
	p := nextName(l.abs)
	h, err := l.inspect(p)
	if err != nil || h.bad != nil || os.SameFile(h.fi, l.tok.fi) {
		return nil
	}
	if binds, _ := l.judgeTurn(h); !binds || l.vanished(p) {
		return nil
	}
	return h
}

// vanished reports whether the reservation at p, which this client still
// shows, is gone at the server: its owner took the lock and dropped it. A
// link onto its name succeeds only if the server has no such name; a
// refusal may come from a cache too, but on GlusterFS for less long than
// a lookup's answer (one md-cache time, against the kernel's cache and the
// md-cache's in turn). The probe link is removed at once; another process
// that reads it meanwhile takes it for a reservation of ours, until its own
// probe says otherwise.
func (l *FileLock) vanished(p string) bool {
	if l.link(p) != nil {
		return false
	}
	os.Remove(p)
	return true
}

// judgeTurn tells whether the reservation h binds others (its owner lives,
// or cannot be checked from here, and refreshed it within turnTTL) and
// whether it has surely lapsed (its owner is dead, or it was not refreshed
// for turnTTL). Neither holds when its age cannot be told (no clock).
func (l *FileLock) judgeTurn(h *holder) (binds, lapsed bool) {
	if h.res.Verdict == procscan.Dead {
		return false, true
	}
	age, ok := l.ageOf(h)
	if !ok {
		return false, false
	}
	return age <= l.turnTTL(), age > l.turnTTL()
}

// reserveTurn reserves the next turn for this FileLock, or refreshes its
// reservation, once it has waited turnAfter since start; a reservation
// that binds nobody any more is removed for the next look to take. l.mu
// must be held.
func (l *FileLock) reserveTurn(start time.Time) {
	if l.cacheTime() == 0 || l.tok == nil || time.Since(start) < l.turnAfter() {
		return
	}
	p := nextName(l.abs)
	err := l.link(p)
	if err == nil {
		l.turn = true
		l.debug("reserved the next turn", "reservation", p)
		return
	}
	if !errors.Is(err, fs.ErrExist) {
		return
	}
	h, err := l.inspect(p)
	if err != nil || h.bad != nil {
		return
	}
	if os.SameFile(h.fi, l.tok.fi) {
		l.turn = true
		fsx.Touch(p) // refresh
		return
	}
	if _, lapsed := l.judgeTurn(h); lapsed {
		l.debug("a reservation binds nobody any more; removed", "owner", h)
		os.Remove(p)
	}
}

// dropTurn removes this FileLock's reservation, if it has one. l.mu must be
// held.
func (l *FileLock) dropTurn() {
	if !l.turn {
		return
	}
	l.turn = false
	p := nextName(l.abs)
	if fi, err := os.Lstat(p); err == nil && l.tok != nil && os.SameFile(fi, l.tok.fi) {
		os.Remove(p)
	}
}

// waitedFor is reserveTurn for a waiter that does not hold l.mu.
func (l *FileLock) waitedFor(start time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reserveTurn(start)
}

// dropTurnUnlocked is dropTurn for callers that do not hold l.mu.
func (l *FileLock) dropTurnUnlocked() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.dropTurn()
}
