package openlock

import "github.com/openlock/openlock/procscan"

// An exitWatch wakes a waiter when the process holding the lock exits. A
// holder killed with SIGKILL raises no file event (its lock file stays), so
// without this only the next poll would notice, up to a retry period later.
// It needs a live holder that can be checked from here (same host, boot and
// PID namespace) and an OS that can watch a process (Linux: a pidfd;
// Windows: a process handle); otherwise polling alone serves.
type exitWatch struct{ w *procscan.ExitWatch }

// watchExit watches the process h names, or returns nil.
func (l *FileLock) watchExit(h *holder) *exitWatch {
	if l.cfg.test.noNotify || h.fi == nil || h.bad != nil || h.res.Verdict != procscan.Alive || h.rec.Seed() {
		return nil
	}
	w, err := procscan.WatchExit(procscan.Process{PID: h.rec.PID, Start: h.rec.Start})
	if err != nil {
		l.debug("cannot watch the holder's process; polling only", "err", err)
		return nil
	}
	return &exitWatch{w}
}

// exited returns a channel closed when the process exits; nil (never ready)
// for a nil watch.
func (e *exitWatch) exited() <-chan struct{} {
	if e == nil {
		return nil
	}
	return e.w.Exited()
}

// stop ends the watch; a nil watch may be stopped.
func (e *exitWatch) stop() {
	if e != nil {
		e.w.Stop()
	}
}

// sameProcess reports whether two looks at the lock file name the same
// holding process (a lease refresh changes the file, not the holder).
func sameProcess(a, b *holder) bool {
	return a != nil && b != nil && a.bad == nil && b.bad == nil &&
		a.rec.PID == b.rec.PID && a.rec.Start == b.rec.Start && a.rec.Nonce == b.rec.Nonce
}
