package openlock

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// fischer is the Python openlock's takeover, kept as WithTakeover(Fischer):
// overwrite the stale lock file, sleep the race delay, re-read; still ours
// means acquired. It is Fischer's timed mutual exclusion, and safe only if
// every process completes its write within the race delay of observing the
// stale file: a pause longer than that (a stopped process, a swapped-out
// page, a slow disk) lets two processes in. The race window, from the
// observation to the completed write, is reported: a warning (or
// ErrSlowSystem) when it exceeds 2/3 of the race delay.
//
// It writes at most Tries times, and fails with ErrInvalidLockFile when the
// lock file is still empty after that. (The seed also overwrote a file that
// held anything else; this package refuses such a file as ErrNotLockFile.) l.mu must be held; it is
// released during the sleep.
func (l *FileLock) fischer(ctx context.Context, h *holder) (bool, error) {
	tok := l.tok // Close may drop l.tok while we sleep; undo needs it
	for range l.cfg.Tries {
		l.step(StepObserved)
		if err := l.replace(); err != nil {
			return false, replaceDenied(h, err)
		}
		window := time.Since(h.at)
		l.stepWindow(StepReplaced, window)
		if err := l.checkWindow(window); err != nil {
			return false, errors.Join(err, undo(l.abs, tok))
		}
		if err := l.sleepUnlocked(ctx, l.cfg.RaceDelay); err != nil {
			return false, errors.Join(err, undo(l.abs, tok))
		}
		cur, err := l.inspect(l.abs)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return false, nil // gone: the caller starts over with a link
		case err != nil:
			return false, err
		case os.SameFile(cur.fi, tok.fi):
			return l.acquired(fmt.Sprintf("fischer takeover (race window %v)", window))
		case cur.bad == nil:
			return false, nil // another process's record: it won the race
		}
		h = cur // emptied again: write again
	}
	return false, fmt.Errorf("%w: it was still empty after %d tries to write a record into it (WithTries)", ErrInvalidLockFile, l.cfg.Tries)
}

// checkWindow reports a race window longer than 2/3 of the race delay.
func (l *FileLock) checkWindow(window time.Duration) error {
	if window < l.cfg.RaceDelay*2/3 {
		return nil
	}
	if l.cfg.SlowSystemError {
		return fmt.Errorf("%w (race window %v, race delay %v)", ErrSlowSystem, window, l.cfg.RaceDelay)
	}
	l.logger().Warn("openlock: slow system detected; consider a larger race delay, or the claims takeover",
		"path", l.path, "window", window, "race_delay", l.cfg.RaceDelay)
	return nil
}

// sleepUnlocked sleeps d with l.mu released, so Close, Unlock and Owner need
// not wait for it. It fails if ctx ends or the FileLock is closed meanwhile.
func (l *FileLock) sleepUnlocked(ctx context.Context, d time.Duration) error {
	l.mu.Unlock()
	t := time.NewTimer(d)
	select {
	case <-t.C:
	case <-ctx.Done():
		t.Stop()
	case <-l.closing.Done():
		t.Stop()
	}
	l.mu.Lock()
	if l.closed {
		return fs.ErrClosed
	}
	return ctx.Err()
}

// replace puts our token at the lock path atomically, over whatever is there:
// a second link of the token is renamed over the lock file. (A takeover by
// claims renames the claim itself: replaceClaimed.)
func (l *FileLock) replace() error {
	tmp := tmpName(l.abs, l.tok.nonce)
	os.Remove(tmp) // left by an earlier failed replace of ours, if any
	if err := l.link(tmp); errors.Is(err, errForeignLink) {
		return err
	} else if err != nil {
		if err := l.linkFailed(err); err != nil {
			return err
		}
		return fmt.Errorf("our token %s vanished during a takeover", l.tok.path)
	}
	if err := renameOver(tmp, l.abs); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}
