package openlock

import (
	"context"
	"time"

	"github.com/openlock/openlock/procscan"
)

// A waiter is one Lock call's wait for other processes: holding q.sem, it
// looks at the lock file again and again until the lock is ours or ctx
// ends. Between looks it pauses, backing off, unless it is woken first: by
// a release of the lock file, by the exit of the holder's process (a
// crash), or by the waiter ahead of it in the line. The timeout context and
// the watches are made only once a first look found the lock held (arm), so
// the uncontended path allocates none of them.
//
// On Linux the waiter waits on descriptors of its own, gathered in an
// epoll instance that the runtime's poller waits on (waitSet,
// waitset_linux.go), and queues in the line (line.go), so that a release
// wakes the first waiter only, directly. Elsewhere it waits
// on a channel of the process's shared watcher (notify.go) and on an
// exitWatch, and a release wakes every waiter.
//
// A release may wake several waiters (all of them, where there is no
// line), and all but one lose the race. So a waiter that a release woke
// makes only a bare link; if it loses, the winner (alive, by all odds: it
// just linked) is judged by a full look a little later, at settle, or at
// the end of the pause if that comes first.
type waiter struct {
	l     *FileLock
	ctx   context.Context // Lock's, with the FileLock's timeout once armed
	start time.Time       // when Lock was called

	h  *holder    // the holder last seen
	b  backoff    // the pauses between looks
	ew *exitWatch // on h's process, when it can be watched

	// Made by arm, at the first pause: the timeout's cancel, and either
	// the wait set (Linux) or the timer of the pauses and the watch on the
	// lock file.
	armed  bool
	cancel context.CancelFunc
	ws     *waitSet
	timer  *time.Timer
	wt     *watch
	next   time.Duration // the coming pause, with ws

	woken   bool // a release woke us: try a bare link
	exited  bool // the exit of a process watched woke us (takeOverExited)
	moved   bool // the holder's release woke us, behind another waiter: no look
	slept   bool // the wait slept at least once
	recheck bool // a watch just began: try a bare link
	// rechecked: the bare link after a watch began was made since the
	// last sleep; the next look comes after a sleep.
	rechecked bool
	quiet     bool      // the last look saw the lock file unchanged: arm need not settle
	judgeBy   time.Time // a full look is due by then (after a lost race)
}

// wait runs the waiter until the lock is held (nil) or the wait fails. On
// failure q.sem is released; on success it stays held with the lock.
func (w *waiter) wait() error {
	w.b = backoff{max: w.l.cfg.RetryPeriod, first: w.l.cfg.test.firstPause}
	defer w.stop()
	for {
		held, seen, err := w.try()
		switch {
		case err != nil:
			return w.giveUp(w.l.failed(w.ctx, w.start, w.h, err))
		case held:
			w.ws.hold(w.waited()) // our place in the line is left at the release
			w.ws = nil
			return nil
		}
		w.l.waitedFor(w.start)
		w.see(seen)
		if w.arm() && !w.rechecked {
			// Look once more, a bare link: a release before the watch
			// began raised no event. (The holder was judged a moment ago.)
			// Once per pause: a watch that begins anew at every look (on
			// a lock file that the file system shows and hides) must not
			// make the wait look without ever sleeping.
			w.recheck, w.rechecked = true, true
			continue
		}
		if err := w.sleep(); err != nil {
			return w.giveUp(err)
		}
	}
}

// try makes one attempt: a bare link after a release woke us or a watch
// began, else (or when the bare link cannot tell) a full attempt. It returns the holder seen by
// a full attempt, nil after a bare one.
func (w *waiter) try() (bool, *holder, error) {
	if w.moved {
		// The holder's release woke us, behind another waiter
		// (watchHolder): that one takes the lock now. Our look, the net
		// for a turn it does not take, comes a pause later.
		w.moved = false
		w.quiet = true
		return false, nil, nil
	}
	if w.woken || w.recheck {
		recheck := w.recheck
		w.recheck = false
		held, err := w.l.tryLink()
		if err != errFullLook {
			if err == nil && !held && !recheck && w.judgeBy.IsZero() && !w.ws.queued() {
				// Lost the race after a release: judge the winner soon.
				// (A waiter behind another was woken by that one taking
				// the lock: it watches that one's process already.)
				w.judgeBy = time.Now().Add(settle)
			}
			return held, nil, err
		}
	}
	w.judgeBy = time.Time{}
	if w.exited {
		w.exited = false
		return w.l.takeOverExited(w.ctx, w.h)
	}
	if w.ws.queued() && w.h != nil && time.Since(w.h.at) < coveredRetries*w.l.cfg.RetryPeriod && w.l.unchanged(w.h) {
		// A waiter behind others looks only for a turn that did not come:
		// while the lock file is the one it judged, a stat tells it so.
		// The holder's end is the first in line's to see (it watches the
		// holder's process); the full look comes every coveredRetries
		// retry periods. Nothing changed, so nothing to settle either;
		// the next sleep lasts until the holder's release.
		w.quiet = true
		w.ws.watchHolder()
		return false, nil, nil
	}
	return w.l.attempt(w.ctx)
}

// see takes note of the holder a full attempt found, and, once the wait
// is armed without a wait set, watches its process when it is another
// than the one watched.
func (w *waiter) see(seen *holder) {
	if seen == nil {
		return
	}
	w.l.noteBusy(w.h, seen)
	if w.armed && w.ws == nil && !sameProcess(w.h, seen) {
		w.ew.stop()
		w.ew = w.l.watchExit(seen)
	}
	w.h = seen
}

// pause is how long to sleep before the next look.
//
// A waiter further back in the line (see waitSet.queued) is woken when its
// turn comes, so its looks are only a net for a turn held up by a waiter
// ahead that is stopped (SIGSTOP), whose free lock any waiter that looks
// takes. The line shares that net: a waiter looks every queuedRetries
// retry periods for each waiter that was ahead of it when it joined, at
// most every coveredRetries, at a moment set by when it joined. So the
// line as a whole looks about every queuedRetries retry periods however
// long it is, and a free lock waits coveredRetries of them at most. (Each
// look wakes the Go runtime's threads of a process that could sleep, so
// the looks are what a line's waiting costs: with the net shared, that
// cost stays that of one waiter's net, not one per waiter.)
//
// Such a look that found the holder still there watches the holder's
// token while it sleeps (waitSet.watchHolder): as the turn of the waiter
// ahead cannot come before the holder's release, the next look comes a
// pause after the release, or after coveredRetries retry periods.
//
// A wait that notification covers (see waitSet.covered) looks only every
// coveredRetries retry periods: its looks are a safety net there.
func (w *waiter) pause() time.Duration {
	p := w.b.next()
	switch {
	case w.ws.covered(), w.ws.watchingHolder():
		p = coveredRetries * w.l.cfg.RetryPeriod
	case w.ws.queued():
		n := time.Duration(min(queuedRetries*max(w.ws.waitersAhead(), 1), coveredRetries))
		p = jitter(n * w.l.cfg.RetryPeriod)
	}
	if !w.judgeBy.IsZero() {
		p = min(p, time.Until(w.judgeBy))
	}
	return p
}

// arm makes, at the first pause, what waiting needs: the timeout, the timer
// and the watch on the lock file. It reports whether a watch began, after
// which the caller must look once more before it sleeps. Later it only
// resets the timer.
func (w *waiter) arm() bool {
	if !w.armed {
		w.armed = true
		w.ctx, w.cancel = w.l.withTimeout(w.ctx, w.start)
		w.l.mu.Lock()
		w.l.writeBackToken()
		w.l.mu.Unlock()
		if w.ws = w.l.newWaitSet(w.ctx); w.ws != nil {
			w.ws.join(w.h)
		} else if w.h != nil {
			w.ew = w.l.watchExit(w.h) // the wait set would watch it
		}
	}
	if w.ws != nil {
		watching := false
		if !w.quiet {
			watching = w.ws.settle(w.h)
		}
		w.quiet = false
		w.next = w.pause()
		return watching
	}
	if w.timer != nil {
		w.timer.Reset(w.pause())
		return false
	}
	w.timer = time.NewTimer(w.pause())
	w.wt = w.l.watch(releaseOps)
	return w.wt != nil
}

// sleep waits for the end of the pause, a wake-up, or the end of ctx (an
// error) or of the FileLock (the next attempt reports fs.ErrClosed). Every
// round of the wait passes it, so it is where the wait keeps its deadline:
// a ctx that ended is an error at once, whatever a wake-up or a pause of 0
// would do.
func (w *waiter) sleep() error {
	if w.ctx.Err() != nil {
		return w.l.gaveUp(w.ctx, w.start, w.h)
	}
	w.l.step(StepWaiting)
	w.woken, w.slept, w.rechecked = false, true, false
	if w.ws != nil {
		return w.sleepOn(w.ws)
	}
	select {
	case <-w.timer.C:
	case <-w.wt.wakeups():
		w.woken = true
		w.l.step(StepWoken)
	case <-w.ew.exited():
		w.l.step(StepWoken)
	case <-w.ctx.Done():
		return w.l.gaveUp(w.ctx, w.start, w.h)
	case <-w.l.closing.Done():
	}
	return nil
}

// waited is how long the Lock waited for the lock it takes now, or 0 if it
// took it without sleeping (a free lock at the look after the watch began,
// ahead of the line): such a wait says nothing of how long a turn lasts.
func (w *waiter) waited() time.Duration {
	if !w.slept {
		return 0
	}
	return time.Since(w.start)
}

// sleepOn is sleep on a wait set.
func (w *waiter) sleepOn(s *waitSet) error {
	switch s.wait(w.next) {
	case released:
		w.woken = true
		w.l.step(StepWoken)
	case exited:
		w.exited = true
		w.l.sawExit(s.exitedProcess())
		w.l.step(StepWoken)
	case holderMoved:
		w.moved = true
	case interrupted:
		if w.ctx.Err() != nil {
			return w.l.gaveUp(w.ctx, w.start, w.h)
		}
	}
	return nil
}

// sawExit notes that a wait saw the process p exit (its pidfd): the next
// look judges a record naming it dead without reading /proc
// (procscan.JudgeExited). The pidfd was opened for that PID and start
// time, so its word is sure, and the recovery from a crash is spared the
// system calls that judge a process by /proc, on its way from the wake-up
// to the takeover.
func (l *FileLock) sawExit(p procscan.Process) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.exited = p
}

// giveUp leaves the wait without the lock: the turn reserved (a waiter that
// gives up leaves its turn) and q.sem go. It returns err.
func (w *waiter) giveUp(err error) error {
	w.ws.leave()
	w.l.dropTurnUnlocked()
	w.l.q.sem.Release(1)
	return err
}

// stop releases what arm and see made.
func (w *waiter) stop() {
	if w.ws != nil {
		w.ws.close()
	}
	w.wt.stop()
	w.ew.stop()
	if w.timer != nil {
		w.timer.Stop()
	}
	if w.cancel != nil {
		w.cancel()
	}
}
