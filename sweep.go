package openlock

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/openlock/openlock/procscan"
)

// Sweeping: removing the debris that crashed processes leave beside a lock
// file (tokens, temporary links, claims, places in the line,
// readers' registrations and their directory), so that a directory never
// fills up. A dead reader's registration goes at once, as a token does (see
// rlock.go, step 4).
//
// Only files whose record parses whole and names a dead owner are removed:
// a file being written has no complete record yet, so a sweep never races a
// process that is still creating its token.
//
// A dead claimer's claim is not always debris: while the stale incarnation it
// was made for is still at the lock path, it is a link in that incarnation's
// claim chain, and removing it would let a second process claim authority
// that a live process already holds further down the chain. So claims in the
// chain of the current lock file are kept; every other dead claim concerns an
// incarnation that is gone for good (its holder is dead and cannot link it
// again) and may go.
//
// On a file system whose clients cache (see network.go), a read of the
// chain may show the lock path as it was up to CacheTime ago, perhaps
// before the incarnation a claim was made against came there: a claim that
// such a read leaves out of the chain may still be a link of the live
// chain of a stale lock file in place, and removing it would let a second
// claimer win its name, and both replace the lock. So a sweep there removes
// a dead claim only once it is settled: made more than CacheTime before the
// sweep, by the file system's clock (settled). The argument rests on three
// properties of the file system:
//
//  1. After CacheTime, a client answers from no cache filled before that
//     time (the cache model, network.go).
//  2. The change time a client gives for a name is no older than the
//     name: link(2), which makes a claim, sets its file's change time, and
//     a client learns a name with its file's attributes (a lookup's reply
//     carries them).
//  3. The file system stamps change times by its own clock, the clock
//     fsNow reads.
//
// A claim whose change time, as read, is more than CacheTime before the file
// system's now was made before that moment (2, 3), and so was what it was
// made against: a lock file at the lock path, or a dead claim in that file's
// chain. The chain, read after that now, shows the lock path and its claims
// as the server held them after that moment (1): if it does not lead to the
// claim, the lock file at the claim's root had left the lock path by then,
// for good (its holder is dead and cannot link it again, and a nonce names
// one token). So no takeover can ever succeed through the claim's name,
// whichever file holds it now, and removing it cannot let two holders in.
// Clean reaches the same point by waiting CacheTime between judging and
// reading the chain (clean.go); a takeover removes the dead claims it
// passed, which it re-read after its own wait (takeover.go). A token's or
// temporary link's name only ever holds its owner's files, so a dead one
// goes at once, even on a stale read.
//
// And there a sweep runs only while its FileLock holds the lock: a
// GlusterFS 10.3 server whose listing of a directory raced a rename or an
// unlink of a name in it was seen to answer with the old file for that name
// for minutes, in listings and, through the client's cache, in lookups.
// While a live holder holds the lock, the lock path does not change, so
// our listings never race a change of it.

// sweep removes the debris of dead processes beside the lock file: all of
// it on a local file system; elsewhere, of the claims only those settled
// (see above). It is best effort: errors are logged, not returned. l.mu
// must be held.
func (l *FileLock) sweep() {
	dead, err := judgeDebris(l)
	var n []string
	if err == nil {
		n, err = sweepDebris(l, l.unsettledClaimsOut(dead), false)
	}
	if err != nil {
		l.debug("sweep failed", "err", err)
	} else if len(n) > 0 {
		l.debug("swept debris of dead processes", "files", n)
	}
}

// sweepIfDue sweeps if a sweep is due (sweepPending: a new token, a
// takeover). When: on a network file system, only while l holds the lock,
// at its release (or at the next acquisition, for a new token: sweepDue);
// on a local one, at the start of the FileLock's next Lock, TryLock, RLock
// or TryRLock (sweepBeforeCall), or at Close. Never within the call that
// made it due, so that the first Lock of a fresh process waits without
// reading the whole directory, and never in a release: Unlock stays a few
// system calls, and the caller that queues again right after it (as the
// benchmarks' handoff does) is not held up. l.mu must be held.
func (l *FileLock) sweepIfDue() {
	if l.sweepPending {
		l.sweepPending = false
		l.sweep()
	}
}

// sweepLocalIfDue is sweepIfDue on a local file system. l.mu must be held.
func (l *FileLock) sweepLocalIfDue() {
	if l.sweepPending && !l.remote() {
		l.sweepIfDue()
	}
}

// sweepBeforeCall is sweepLocalIfDue at the start of a call that takes a
// lock.
func (l *FileLock) sweepBeforeCall() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.closed {
		l.sweepLocalIfDue()
	}
}

// judgeDebris returns the helper files of l's lock path whose owners are
// dead, the registrations of dead readers included. Only files whose record
// parses whole count.
func judgeDebris(l *FileLock) ([]*holder, error) {
	dir, base := filepath.Split(l.abs)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var dead, judged []*holder
	var places []string
	for _, e := range entries {
		switch classify(base, e.Name()) {
		case notOurs:
			continue
		case afterFile:
			places = append(places, filepath.Join(dir, e.Name())) // judged with their tokens, below
			continue
		}
		h := l.judgeRecord(filepath.Join(dir, e.Name()))
		if h == nil {
			continue
		}
		if h.res.Verdict == procscan.Dead {
			dead = append(dead, h)
		}
		judged = append(judged, h)
	}
	for _, p := range places {
		if h := l.judgePlace(p, judged); h != nil && h.res.Verdict == procscan.Dead {
			dead = append(dead, h)
		}
	}
	return append(dead, l.deadReaders()...), nil // readers.go
}

// judgeRecord reads and judges the helper file at p, or returns nil unless
// it holds a whole record: only those are ever judged debris.
func (l *FileLock) judgeRecord(p string) *holder {
	h, err := l.inspect(p)
	if err != nil || h.bad != nil || !h.rec.Complete() {
		return nil
	}
	return h
}

// judgePlace judges a waiter's place in the line at path p. A place is a
// hard link of its owner's token, which the sweep has judged among files
// (an lstat tells it); with a line of N waiters, that spares N reads of a
// record and N judgements of a process. A place that is no link of those
// is read and judged on its own. It returns nil where there is nothing to
// judge.
func (l *FileLock) judgePlace(p string, judged []*holder) *holder {
	fi, err := os.Lstat(p)
	if err != nil {
		return nil
	}
	for _, h := range judged {
		if h.fi != nil && os.SameFile(fi, h.fi) {
			c := *h
			c.path = p
			return &c
		}
	}
	return l.judgeRecord(p)
}

// unsettledClaimsOut returns dead without the claims that are not settled
// yet: made less than CacheTime ago, by the file system's clock, where the
// file system's clients cache (see above). Their ages are judged here,
// before sweepDebris reads the chain, as the argument needs. l.mu must be
// held.
func (l *FileLock) unsettledClaimsOut(dead []*holder) []*holder {
	if l.cacheTime() == 0 {
		return dead
	}
	base := filepath.Base(l.abs)
	return slices.DeleteFunc(dead, func(h *holder) bool {
		return classify(base, filepath.Base(h.path)) == claimFile && !l.settled(h)
	})
}

// settled reports whether the claim h was made more than CacheTime ago by
// the file system's clock: ageOf has taken the cache time off its age
// already, so any age left is past it. Without a clock, it is not.
func (l *FileLock) settled(h *holder) bool {
	age, ok := l.ageOf(h)
	return ok && age > 0
}

// sweepDebris removes (or, with dryRun, only lists) the files judged dead,
// keeping the claims in the chain of the current lock file. It returns the
// paths removed or to be removed.
func sweepDebris(l *FileLock, dead []*holder, dryRun bool) ([]string, error) {
	if len(dead) == 0 {
		return nil, nil
	}
	base := filepath.Base(l.abs)
	// Judge first, then read the chain: a claim judged dead before the chain
	// is read can only join a chain that already held it (see above).
	chain, whole := l.chain()
	var swept []string
	var errs []error
	for _, h := range dead {
		p := h.path
		if chain[p] || !whole && classify(base, filepath.Base(p)) == claimFile {
			continue
		}
		if !dryRun {
			if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
				continue
			}
		}
		swept = append(swept, p)
	}
	if !dryRun && len(swept) > 0 {
		rmdir(readersDir(l.abs)) // empty now, if the last readers were dead
	}
	return swept, errors.Join(errs...)
}

// chain returns the claim files that form the chain of the current lock file:
// its claim and, while their owners are dead, the claims that authority
// passed to. whole is false when some file could not be read, so that the
// chain may go on beyond what was seen: then no claim may be removed.
func (l *FileLock) chain() (in map[string]bool, whole bool) {
	in = make(map[string]bool)
	h, err := l.look(l.abs)
	if errors.Is(err, fs.ErrNotExist) {
		return in, true
	}
	if err != nil {
		return in, false
	}
	for id := h.id(); len(in) < maxChain; {
		p := claimName(l.abs, id)
		c, err := l.look(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return in, true
		case err != nil:
			return in, false
		case in[p]:
			return in, true
		}
		in[p] = true
		if !c.stale() {
			return in, true
		}
		id = c.id()
	}
	return in, false
}
