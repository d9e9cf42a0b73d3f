package openlock

import (
	"context"
	"errors"
	"time"

	"github.com/openlock/openlock/internal/protocol"
	"github.com/openlock/openlock/procscan"
)

// Taking over a stale lock, by one-shot claims: the decisions, and why
// they are safe, are internal/protocol's (its package doc is the one home
// of the argument); here is the loop around them, which pauses where the
// protocol says to, with l.mu released.

// maxChain bounds how far a claim chain is followed (protocol.MaxChain).
const maxChain = protocol.MaxChain

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
	t := l.newTakeover(h)
	claimed, err := l.claim(ctx, t, p)
	if err != nil || !claimed {
		return false, err
	}
	won, replaced, err := l.replaceClaimed(ctx, h, t)
	if !replaced {
		if rerr := t.Drop(sysFS{l}); rerr != nil && err == nil {
			l.debug("cannot remove our claim", "err", rerr)
		}
	} else {
		t.RemovePassed(sysFS{l})
		l.sweepPending = true // the dead holder's files: not now, Lock returns
	}
	return won, err
}

// newTakeover is the protocol's takeover of the stale lock file h by our
// token. l.mu must be held, and l.tok made.
func (l *FileLock) newTakeover(h *holder) *protocol.Takeover {
	return &protocol.Takeover{
		Lock: l.abs, Token: l.tok.protocol(), Stale: h.file(),
		ClaimName: func(id string) string { return claimName(l.abs, id) },
		CacheTime: l.cacheTime(),
	}
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

// replaceClaimed, holding t's claim on h, replaces the lock file with the
// claim if it and the claims passed are still as they were read, after the
// cache wait. It reports whether we hold the lock, and whether we replaced
// h (the claim is gone then, and the claims passed are debris).
func (l *FileLock) replaceClaimed(ctx context.Context, h *holder, t *protocol.Takeover) (won, replaced bool, err error) {
	l.step(StepClaimed)
	if err := ctx.Err(); err != nil {
		return false, false, err
	}
	if free, err := l.outwaitCacheLinking(ctx, t); err != nil || free {
		return free, false, err
	}
	switch same, changed, err := t.Reread(sysFS{l}); {
	case err != nil:
		return false, false, err
	case !same:
		if changed != "" {
			l.debug("stale lock or a claim passed changed before we could replace it", "file", changed)
		}
		return false, false, nil
	}
	l.step(StepValidated)
	switch r, err := t.Replace(sysFS{l}); {
	case r == protocol.ClaimGone && err != nil:
		return false, false, replaceDenied(h, err)
	case r == protocol.ClaimGone:
		return false, false, nil // our claim was removed: look again
	case r == protocol.NotOurs:
		l.debug("the claim renamed onto the lock path was not our token", "err", err)
		return false, true, nil
	}
	l.stepWindow(StepReplaced, time.Since(h.at))
	won, err = l.acquired("takeover of a stale lock")
	return won, won, err
}

// outwaitCacheLinking waits out the cache before a takeover's re-read
// (t.CachePause), and meanwhile links our token to the lock path once per
// retry period. The stale file we claimed may be a memory of this client's
// cache: another process may have replaced it and released the lock since,
// and a waiter must not sit on a free lock for a cache time. A successful
// link is the server's answer that the lock path was free, so it makes us
// the holder as any acquisition does; the claim, dropped then, only ever
// let us replace the file we judged stale, which is gone. It returns true
// when the link made us the holder.
func (l *FileLock) outwaitCacheLinking(ctx context.Context, t *protocol.Takeover) (bool, error) {
	for {
		pause := t.CachePause(sysFS{l}, l.cfg.RetryPeriod)
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

// claim takes t's one-shot claim (protocol.Takeover.Claim). A claim that
// its owner dropped as we looked is tried again after a pause, as pc
// allows. It returns false when a live claimer (or one we cannot tell)
// holds the way, or the retries are spent: wait and look again.
func (l *FileLock) claim(ctx context.Context, t *protocol.Takeover, pc *pacer) (bool, error) {
	for {
		r, by, err := t.Claim(sysFS{l}, looker{l})
		switch r {
		case protocol.Claimed:
			claim, _ := t.Claimed()
			l.debug("claimed", "claim", claim)
			return true, nil
		case protocol.ClaimLinkFailed:
			return false, l.linkFailed(err)
		case protocol.Blocked:
			if by != nil {
				l.debug("stale lock is being taken over", "claimer", by.Who)
			}
			return false, err
		}
		switch err := pc.again(l, ctx); {
		case errors.Is(err, errRetriesSpent):
			return false, nil // wait and look again
		case err != nil:
			return false, err
		}
	}
}
