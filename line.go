package openlock

import (
	"errors"
	"io/fs"
	"os"
)

// The line: processes waiting for one lock queue in order, so that a
// release wakes one of them, not all (Linux; elsewhere every waiter
// watches the lock file through the shared watcher, notify.go).
//
// A waiter that finds the lock held by a live holder H joins the line: it
// exclusively links its token to <lock>.<H's nonce>.after ("I wait right
// after H"). If that name exists, it reads the record there (the waiter W1
// already after H) and tries <lock>.<W1's nonce>.after, and so on to the
// end of the line, as an MCS lock's waiter swaps itself in at the tail.
// Before it joins it opens its doorbell, <lock>.<its nonce>.bell, a FIFO it
// keeps open for reading while it waits.
//
// Only the first in line (the one right after a holder that is not in the
// line, or one that was rung) watches the lock file (inotify); a release
// wakes it alone. Every other waiter sleeps on its bell and on the exit of
// the waiter ahead (pidfd), and does not race for the lock. A waiter keeps
// its entry while it holds the lock; it leaves the line at its release
// (after the lock file's removal), or when it gives up, by removing its
// entry first and then ringing the bell of the waiter after it, which
// takes the free lock with a bare link, or watches the lock file in its
// turn. So Lock, once the link succeeded, does nothing for the line before
// it returns, and the release wakes one waiter: the one the ring reaches
// (and the first in line, if it watches, by the same release). A waiter
// that joins behind W checks, after its entry is made, that W's entry is
// still there: if it is not, W may have rung before the entry existed, and
// the joiner is first; if it is, W (waiting, or holding the lock) rings it
// when it leaves. A bell that cannot be opened for writing (ENXIO: nobody
// reads it; ENOENT) belongs to a waiter that died or left: it is skipped,
// and the one after it rung. A waiter whose waiter ahead dies (holding the
// lock or not) is woken by the pidfd and watches the lock file itself. So
// a dead waiter is skipped, never waited for.
//
// A waiter behind others looks at the lock file only every retry period,
// a net for a ring that does not come (a waiter ahead stopped by SIGSTOP
// holds up the line that long at most); the first in line, while
// notification covers its wait, every 16 retry periods (waiter.pause).
//
// The line is advice for wake-ups and order, never what mutual exclusion
// rests on. A waiter, however it was woken, takes the lock only by link(2)
// of its token to the lock path, or by a takeover of a stale lock file
// through a claim (takeover.go); nothing in the line grants or blocks that.
// A process that never joined the line (a TryLock, a newcomer, a waiter on
// another machine) competes as before, and may take a free lock before the
// first in line: a flock(2) newcomer may too. The worst the line can do is
// fail to wake someone (a bell rung while its owner is between two looks, a
// dead waiter's entry swept while another process reused its name): then
// the backoff's polls, which every waiter keeps, find the free lock within
// a retry period. Several waiters may watch the lock file at once (a line
// that formed behind a holder that lost the race to a newcomer, a waiter
// rung by one that gave up): then a release wakes those few.
//
// A holder that did not wait (the uncontended Lock) has no place in the
// line and looks for no waiter at its release: the first in line watches
// the lock file. So the uncontended Lock and Unlock make no extra system
// call.
//
// Not on a network file system: another client's waiters see neither the
// bell nor the lock file's removal (turn.go). Files: the entries are links
// of live tokens, judged like any token by sweep; a bell is debris once
// the token of its nonce is gone or names a dead process.

// dropBell removes this FileLock's bell, if it made one. l.mu must be held.
func (l *FileLock) dropBell() {
	if l.tok == nil || !l.tok.bell {
		return
	}
	l.tok.bell = false
	if err := os.Remove(bellName(l.abs, l.tok.nonce)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		l.debug("cannot remove our bell", "err", err)
	}
}
