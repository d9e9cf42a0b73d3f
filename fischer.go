package openlock

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/openlock/openlock/internal/protocol"
)

// fischer is the Python openlock's takeover, kept as WithTakeover(Fischer):
// overwrite the stale lock file, sleep the race delay, re-read; still ours
// means acquired (the decisions, and why it is safe only within the race
// delay, are internal/protocol's). A pause longer than the race delay (a
// stopped process, a swapped-out page, a slow disk) lets two processes in.
// The race window, from the observation to the completed write, is
// reported: a warning (or ErrSlowSystem) when it exceeds 2/3 of the race
// delay.
//
// It writes at most Tries times, and fails with ErrInvalidLockFile when the
// lock file is still empty after that. (The seed also overwrote a file that
// held anything else; this package refuses such a file as ErrNotLockFile.)
// l.mu must be held; it is released during the sleep.
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
		var f protocol.File
		if err == nil {
			f = protocol.File{Info: cur.fi, Data: cur.data}
		}
		switch protocol.AfterOverwrite(sysFS{l}, tok.protocol(), f, err) {
		case protocol.FischerLost:
			return false, nil // gone (the caller starts over with a link), or another process's record: it won the race
		case protocol.FischerLookFailed:
			return false, err
		case protocol.FischerHeld:
			return l.acquired(fmt.Sprintf("fischer takeover (race window %v)", window))
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

// replace puts our token at the lock path atomically, over whatever is there
// (protocol.Overwrite). (A takeover by claims renames the claim itself:
// protocol.Takeover.Replace.)
func (l *FileLock) replace() error {
	linked, err := protocol.Overwrite(sysFS{l}, l.abs, tmpName(l.abs, l.tok.nonce), l.tok.protocol())
	if err == nil || linked || errors.Is(err, errForeignLink) {
		return err
	}
	if err := l.linkFailed(err); err != nil {
		return err
	}
	return fmt.Errorf("our token %s vanished during a takeover", l.tok.path)
}
