package openlock

import (
	"errors"
	"io/fs"
	"os"

	"golang.org/x/sys/unix"

	"github.com/openlock/openlock/fileformat"
	"github.com/openlock/openlock/internal/fsx"
	"github.com/openlock/openlock/procscan"
)

// line is a waiter's place in the line (see line.go).
type line struct {
	bell  int              // our bell, open for reading; -1 when none
	entry string           // <lock>.<pred>.after, a link of tok; "" when not in line
	tok   *token           // the token entry links (Close may drop the FileLock's first)
	ahead procscan.Process // the waiter ahead (zero: the holder is ahead)
	first bool             // we watch the lock file: among the first two, or rung
	local bool             // the lock directory is local: notification sees every change
}

func (ln *line) close() {
	if ln.bell >= 0 {
		unix.Close(ln.bell)
		ln.bell = -1
	}
}

// join puts the waiter in the line behind the holder h, once. Only the
// first in line, the one right after the holder, watches the lock file.
// When a waiter leaves the line (at its release, or giving up) it rings
// the waiter after it. Where there is no line to join (a holder whose
// record has no nonce, a network file system, an error), the waiter
// watches the lock file.
func (s *waitSet) join(h *holder) {
	l := s.l
	l.mu.Lock()
	defer l.mu.Unlock()
	if s.entry != "" || s.first {
		return
	}
	s.first = true
	s.local = l.tok != nil && !l.remote()
	if l.tok == nil || l.closed || !s.local || h == nil || h.bad != nil || !validNonce(h.rec.Nonce) {
		return
	}
	if err := s.openBell(); err != nil {
		l.debug("no doorbell; watching the lock file", "err", err)
		return
	}
	// x is the waiter (at first the holder) we try to queue right behind;
	// xEntry and xFi, its own entry, once past the holder.
	x, ahead := h.rec.Nonce, procscan.Process{}
	xEntry, xFi := "", fs.FileInfo(nil)
	for range maxChain {
		p := afterName(l.abs, x)
		err := fsx.Link(l.tok.path, p)
		if err == nil {
			s.entry, s.tok, s.ahead, s.first = p, l.tok, ahead, !stillInLine(xEntry, xFi)
			return
		}
		if !errors.Is(err, fs.ErrExist) {
			return
		}
		rec, fi, err := readEntry(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue // it just left: try the name again
		case err != nil:
			return
		case os.SameFile(fi, l.tok.fi):
			s.entry, s.tok, s.ahead, s.first = p, l.tok, ahead, !stillInLine(xEntry, xFi)
			return
		}
		x, ahead = rec.Nonce, procscan.Process{PID: rec.PID, Start: rec.Start}
		xEntry, xFi = p, fi
	}
}

// stillInLine reports whether the waiter we queued behind still waits in
// the line: its entry (at path, seen as fi) is still there. A waiter
// leaves the line, by taking the lock or by giving up, by removing its
// entry first and then ringing the waiter after it (hold, leave): so if
// its entry is still there after ours was made, its ring will reach us;
// if not, it may have rung before we came, and we are first. The holder
// (path "") never is: the waiter right behind it is first.
func stillInLine(path string, fi fs.FileInfo) bool {
	if path == "" {
		return false
	}
	now, err := os.Lstat(path)
	return err == nil && os.SameFile(now, fi)
}

// readEntry reads the record of a waiter's entry.
func readEntry(path string) (fileformat.Record, fs.FileInfo, error) {
	data, fi, err := fsx.ReadSmall(path, fileformat.MaxSize)
	if err != nil {
		return fileformat.Record{}, nil, err
	}
	rec, err := fileformat.Parse(data)
	if err == nil && !validNonce(rec.Nonce) {
		err = errors.New("an entry without a nonce")
	}
	return rec, fi, err
}

// openBell makes this FileLock's bell, once, and opens it for the wait:
// read and write, so that the open does not block and a releaser's open
// for writing finds a reader. Anyone may ring it (a spurious ring costs a
// look at the lock file), so it is writable by all. l.mu must be held.
func (s *waitSet) openBell() error {
	l := s.l
	p := bellName(l.abs, l.tok.nonce)
	if !l.tok.bell {
		if err := unix.Mkfifo(p, 0o600); err != nil {
			return &fs.PathError{Op: "mkfifo", Path: p, Err: err}
		}
		l.tok.bell = true
		if err := unix.Chmod(p, uint32(l.cfg.FileMode|0o222)); err != nil {
			return &fs.PathError{Op: "chmod", Path: p, Err: err}
		}
	}
	fd, err := unix.Open(p, unix.O_RDWR|unix.O_NONBLOCK|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if err != nil {
		return &fs.PathError{Op: "open", Path: p, Err: err}
	}
	s.bell = fd
	s.add(fd)
	return nil
}

// settle makes the set watch what this waiter waits for: the lock file and
// the holder's process when among the first in line, else the waiter
// ahead (and if that cannot be watched, the lock file after all). It reports whether a
// watch on the lock file began, after which the caller looks once more.
func (s *waitSet) settle(h *holder) bool {
	if !s.first {
		if s.watchProcess(s.ahead); s.pid >= 0 {
			return false
		}
		s.first = true // dead already, or out of sight: skip it
	}
	if p, ok := holderProcess(h); ok {
		s.watchProcess(p)
	} else {
		s.unwatchProcess()
	}
	return s.watchLock()
}

// leave takes a waiter that gives up out of the line, and rings the waiter
// after it, which may now be first.
func (s *waitSet) leave() {
	if s == nil || s.entry == "" {
		return
	}
	s.l.mu.Lock()
	defer s.l.mu.Unlock()
	s.leave1()
}

// leave1 is leave with l.mu held.
func (s *waitSet) leave1() {
	if s.entry != "" {
		leaveLine(s.l.abs, s.entry, s.tok)
		s.entry, s.tok = "", nil
	}
}

// leaveLine removes our entry, if it is still ours, and then rings the
// waiter after us: in that order, which stillInLine relies on.
func leaveLine(lock, entry string, tok *token) {
	if fi, err := os.Lstat(entry); err == nil && os.SameFile(fi, tok.fi) {
		os.Remove(entry)
	}
	ringAfter(lock, tok.nonce)
}

// ringAfter rings the bell of the first live waiter after the FileLock
// whose token has nonce, skipping those whose bell nobody reads.
func ringAfter(lock, nonce string) {
	for range maxChain {
		rec, _, err := readEntry(afterName(lock, nonce))
		if err != nil {
			return // nobody after it
		}
		if ring(bellName(lock, rec.Nonce)) {
			return
		}
		nonce = rec.Nonce
	}
}

// ring writes a byte to the bell at p and reports whether a waiter reads
// it. Only a FIFO is written to: whatever else has that name is not ours.
func ring(p string) bool {
	fd, err := unix.Open(p, unix.O_WRONLY|unix.O_NONBLOCK|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if err != nil {
		return false // ENXIO: nobody reads it; ENOENT: gone
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFIFO {
		return false
	}
	_, err = unix.Write(fd, []byte{1})
	return err == nil || errors.Is(err, unix.EAGAIN) // full: rung already
}
