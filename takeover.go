package openlock

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"time"

	"github.com/openlock/openlock/procscan"
)

// Taking over a stale lock, by one-shot claims.
//
// The right to replace one incarnation of the lock file (one inode with one
// content) is won by exclusively creating <lock>.break.<id>, a name that
// belongs to that incarnation only: <id> is the nonce of its record, unique
// to the dead holder's token, or a hash of an empty or seed-format file's
// identity and content. The claim is a hard link of our token, so it names us.
//
// If the claim exists and its owner lives, we wait like any waiter. If its
// owner is dead too, authority passes down a chain: the next claim is named
// after the dead claimer's nonce, <lock>.break.<its nonce>, and so on.
//
// Holding the claim, we re-read the lock file. If it is still the incarnation
// we judged stale, we replace it atomically by renaming our claim over it
// (the claim is a link of our token, and its name must go once the
// incarnation it names is gone); if not, someone finished before us and we
// start over. Where a network client may answer from its cache, we first
// wait out the cache (CacheTime, see network.go), and re-read the dead
// claims we passed as well: a stale read may have shown us a stale file
// that another process had already replaced and released its claim on, or
// a dead claim that its live owner had already dropped and another taken
// anew. While we wait we link our token to the lock path now and then: if
// the stale file was only a memory of our cache and the lock is free, the
// link takes it, as any acquisition does.
//
// Why this is safe without any timing assumption: while a dead holder's file
// sits at the lock path, nobody else can change it. A link(2) onto it fails,
// its holder cannot release it, and exactly one live process at a time holds
// the claim at the end of its chain, because each claim name is created once
// and only its live owner removes it. The one assumption is that a Dead
// verdict is never wrong, which is why package procscan answers Unknown
// (treated as alive) whenever it cannot be sure.

// maxChain bounds how far a claim chain is followed before we wait and look
// again. A chain grows by one link per claimer that died mid-takeover.
const maxChain = 64

// takeOver replaces the stale lock file h with our token. It returns true
// when we hold the lock; false, nil when the lock changed under us or a live
// process is already taking it over. l.mu must be held.
//
// p paces the retries of the claim (see pacer), as part of the attempt
// that called it.
func (l *FileLock) takeOver(ctx context.Context, h *holder, p *pacer) (bool, error) {
	if l.cfg.Takeover == Fischer {
		return l.fischer(ctx, h)
	}
	l.step(StepObserved)
	l.dropTurn() // the lock is not free, as we see it: nobody need wait for us
	claim, passed, by, err := l.claim(ctx, h, p)
	if err != nil || claim == "" {
		if by != nil {
			l.debug("stale lock is being taken over", "claimer", by)
		}
		return false, err
	}
	won, replaced, err := l.replaceClaimed(ctx, h, claim, passed)
	if !replaced {
		// Only while it is ours: once it was gone, the name is anyone's.
		if rerr := undo(claim, l.tok); rerr != nil && err == nil {
			l.debug("cannot remove our claim", "claim", claim, "err", rerr)
		}
	} else {
		// The dead claims passed were links in the chain of the file just
		// replaced, which is gone for good: debris now, checked unchanged
		// after the wait (replaceClaimed). Then the rest.
		for _, c := range passed {
			os.Remove(c.path)
		}
		l.sweepPending = true // the dead holder's files: not now, Lock returns
	}
	return won, err
}

// takeOverExited is attempt for a waiter that the exit of the holder h,
// judged alive at its last look, just woke (its pidfd; see sawExit). While
// the lock file is still h's file, unchanged since that look (one statx),
// its record need not be read again, nor the holder judged by /proc: the
// takeover starts at once. That is safe for the reason any takeover is: it
// replaces the file only after re-reading it under its claim and finding
// it the incarnation it claimed (replaceClaimed). In any other case, and
// when the takeover does not win, it is a full attempt.
func (l *FileLock) takeOverExited(ctx context.Context, h *holder) (bool, *holder, error) {
	if won, dead, err := l.takeOverIfExited(ctx, h); won || err != nil {
		return won, dead, err
	}
	return l.attempt(ctx)
}

// takeOverIfExited takes over from h if h's process is the one a wait saw
// exit and the lock file is h's, unchanged; it returns h judged so.
func (l *FileLock) takeOverIfExited(ctx context.Context, h *holder) (bool, *holder, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if h == nil || h.bad != nil || l.closed || l.tok == nil ||
		h.rec.PID != l.exited.PID || h.rec.Start != l.exited.Start || !l.unchanged(h) {
		return false, nil, nil
	}
	dead := *h
	dead.res, dead.at = procscan.JudgeExited(h.rec, l.cfg.table, l.exited), time.Now()
	if !dead.stale() {
		return false, nil, nil
	}
	l.debug("stale lock", "holder", &dead)
	var p pacer
	won, err := l.takeOver(ctx, &dead, &p)
	return won, &dead, err
}

// replaceClaimed, holding the claim on h (reached past the dead claims
// passed), replaces the lock file with the claim if it and the claims
// passed are still as they were read. It reports whether we hold the lock,
// and whether we replaced h (the claim is gone then, and the claims passed
// are debris).
func (l *FileLock) replaceClaimed(ctx context.Context, h *holder, claim string, passed []*holder) (won, replaced bool, err error) {
	l.step(StepClaimed)
	if err := ctx.Err(); err != nil {
		return false, false, err
	}
	if free, err := l.outwaitCacheLinking(ctx); err != nil || free {
		return free, false, err
	}
	for _, f := range append([]*holder{h}, passed...) {
		same, err := f.rereadSame()
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return false, false, nil // released or replaced since: start over
		case err != nil:
			return false, false, err
		case !same:
			l.debug("stale lock or a claim passed changed before we could replace it", "file", f.path)
			return false, false, nil
		}
	}
	l.step(StepValidated)
	if err := renameOver(claim, l.abs); errors.Is(err, fs.ErrNotExist) || isStale(err) {
		return false, false, nil // our claim was removed: look again
	} else if err != nil {
		return false, false, err
	}
	if err := l.ownedLock(); err != nil {
		// Our claim's name held another file (a third party removed the
		// claim and another process claimed anew): that file is the lock
		// file now, and the next look judges it.
		l.debug("the claim renamed onto the lock path was not our token", "err", err)
		return false, true, nil
	}
	l.stepWindow(StepReplaced, time.Since(h.at))
	won, err = l.acquired("takeover of a stale lock")
	return won, won, err
}

// outwaitCacheLinking waits out the cache before a takeover (outwaitCache),
// and meanwhile links our token to the lock path once per retry period. The
// stale file we claimed may be a memory of this client's cache: another
// process may have replaced it and released the lock since, and a waiter
// must not sit on a free lock for a cache time. A successful link is the
// server's answer that the lock path was free, so it makes us the holder
// as any acquisition does; the claim, dropped then, only ever let us
// replace the file we judged stale, which is gone. The dead claims passed
// are left alone: unlike after the wait, we have not seen them afresh. It
// returns true when the link made us the holder.
func (l *FileLock) outwaitCacheLinking(ctx context.Context) (bool, error) {
	end := time.Now().Add(l.cacheTime())
	for {
		pause := min(l.cfg.RetryPeriod, time.Until(end))
		if pause <= 0 {
			return false, nil
		}
		if err := l.sleepUnlocked(ctx, pause); err != nil {
			return false, err
		}
		if l.yieldTo() != nil {
			continue // a waiter with the next turn takes the free lock
		}
		if err := l.link(l.abs); err == nil {
			_, err := l.acquired("link during a takeover's cache wait: the lock was free")
			return err == nil, err
		}
	}
}

// claim takes the one-shot claim on h's incarnation, following the chain
// past claims whose owners are dead. It returns the claim's path and the
// dead claims passed on the way, or "" and the live claimer (nil if
// unknown) that holds the way. A claim that its owner dropped as we
// looked (the link said it exists, the look found none) is tried again
// after a pause, as pc allows.
func (l *FileLock) claim(ctx context.Context, h *holder, pc *pacer) (string, []*holder, *holder, error) {
	id := h.id()
	seen := make(map[string]bool)
	var passed []*holder
	for range 2 * maxChain {
		if seen[id] || len(seen) >= maxChain {
			return "", nil, nil, nil // a cycle or an absurd chain: wait and look again
		}
		seen[id] = true
		p := claimName(l.abs, id)
		linkErr := l.link(p)
		if linkErr == nil {
			l.debug("claimed", "claim", p)
			return p, passed, nil, nil
		}
		c, err := l.look(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if !errors.Is(linkErr, fs.ErrExist) {
				return "", nil, nil, l.linkFailed(linkErr)
			}
			// Its owner just dropped it, or the file system's cache hides
			// it: try the same name again, after a pause.
			switch err := pc.again(l, ctx); {
			case errors.Is(err, errRetriesSpent):
				return "", nil, nil, nil // wait and look again
			case err != nil:
				return "", nil, nil, err
			}
			delete(seen, id)
			continue
		case errors.Is(err, fs.ErrPermission):
			return "", nil, unreadable(p, err), nil
		case err != nil:
			return "", nil, nil, err
		case os.SameFile(c.fi, l.tok.fi):
			return p, passed, nil, nil // ours already (a lost reply, or an earlier try)
		case !errors.Is(linkErr, fs.ErrExist):
			return "", nil, nil, l.linkFailed(linkErr)
		case !c.stale():
			return "", nil, c, nil
		}
		l.debug("claim owner is dead; authority passes on", "claim", p, "owner", c)
		passed = append(passed, c)
		id = c.id()
	}
	return "", nil, nil, nil
}
