package openlock

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/openlock/openlock/fileformat"
	"github.com/openlock/openlock/internal/handover"
)

// Handing a lock to another process, for a shell script that holds a lock
// across several commands: "openlock lock --pid $$" takes the lock as any
// FileLock does (its own record, so that a claim it makes on a stale lock
// dies with it), then hands it to the shell; "openlock unlock --pid $$",
// another process, releases it. Not part of the API: the command reaches it
// through package internal/handover.
//
// The handed lock file holds the record the shell would write itself: its
// PID, its exact start time, this host, boot and PID namespace. So it is
// judged as any holder is: held while the shell lives, stale (and taken
// over) once it has exited, even if its PID is reused.

func init() {
	handover.To = func(l any, pid int) error { return l.(*FileLock).handTo(pid) }
	handover.Release = func(l any, pid int) error { return l.(*FileLock).releaseFor(pid) }
}

// handTo replaces the lock file this FileLock holds with one whose record
// names the live process pid, and lets go of the lock without removing it.
// The replacement is a rename of a complete file, so the lock path never
// stands empty and never holds half a record.
func (l *FileLock) handTo(pid int) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case !l.held:
		return wrap("lock", l.path, ErrNotHeld)
	case l.cfg.Lease > 0:
		return wrap("lock", l.path, fmt.Errorf("a leased lock cannot be handed to pid %d, which would not refresh it: %w", pid, ErrInvalidOption))
	}
	nonce := newNonce() // a new incarnation of the lock file, with a name of its own
	rec, err := l.record(pid, l.nameOf(pid), nonce)
	if err != nil {
		return wrap("lock", l.path, err)
	}
	data, err := fileformat.Marshal(rec)
	if err != nil {
		return wrap("lock", l.path, err)
	}
	tmp := tmpName(l.abs, nonce)
	if err := l.writeOwn(tmp, data, l.remote()); err != nil {
		return wrap("lock", l.path, err)
	}
	defer os.Remove(tmp) // if the rename did not take it
	// As release does: only a lock file that is still ours may go. While it
	// is, and this process lives, nobody else changes it.
	if err := owned(l.abs, l.tok); err != nil {
		return wrap("lock", l.path, err) // still held here: Close reports or releases it
	}
	if err := renameOver(tmp, l.abs); err != nil {
		return wrap("lock", l.path, fmt.Errorf("handing the lock to pid %d: %w", pid, err))
	}
	l.held = false
	l.stopKeeper()
	l.q.sem.Release(1)
	l.debug("handed over", "pid", pid)
	return nil
}

// nameOf is the name of the process pid for its record: its argv[0] where
// the process table tells it, else "pid N".
func (l *FileLock) nameOf(pid int) string {
	if names, err := l.cfg.table.Names(pid); err == nil && len(names) > 0 {
		if f := strings.Fields(names[0]); len(f) > 0 {
			return f[0]
		}
	}
	return fmt.Sprintf("pid %d", pid)
}

// releaseFor removes the lock file if its record is the one handTo wrote for
// pid: it names pid with the start time, host, boot and PID namespace of the
// process that has that PID now. Anything else (no lock file, another
// holder, pid's record from before pid was reused) is an error wrapping
// ErrNotHeld, and nothing is removed.
func (l *FileLock) releaseFor(pid int) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	h, err := l.look(l.abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return wrap("unlock", l.path, fmt.Errorf("%w by pid %d: there is no lock file", ErrNotHeld, pid))
	case err != nil:
		return wrap("unlock", l.path, err)
	case h.bad != nil || h.rec.PID != pid:
		return wrap("unlock", l.path, fmt.Errorf("%w by pid %d: %s", ErrNotHeld, pid, describeHolder(h)))
	}
	want, err := l.record(pid, h.rec.Name, h.rec.Nonce)
	if err != nil {
		return wrap("unlock", l.path, fmt.Errorf("%w by pid %d: %w", ErrNotHeld, pid, err))
	}
	if r := h.rec; !r.Complete() || r.Start != want.Start || r.Host != want.Host || r.Machine != want.Machine ||
		r.Boot != want.Boot || r.PIDNS != want.PIDNS {
		return wrap("unlock", l.path, fmt.Errorf("%w by pid %d: the lock file names an earlier process with that pid, or one elsewhere: %v",
			ErrNotHeld, pid, h))
	}
	if err := os.Remove(l.abs); err != nil {
		return wrap("unlock", l.path, err)
	}
	l.debug("released for", "pid", pid)
	return nil
}

// describeHolder says who holds the lock, for releaseFor's errors.
func describeHolder(h *holder) string {
	if h.bad != nil {
		return "the lock file is empty: it names no holder"
	}
	return h.heldBy()
}
