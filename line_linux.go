package openlock

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/openlock/openlock/fileformat"
	"github.com/openlock/openlock/internal/fsx"
	"github.com/openlock/openlock/procscan"
)

// line is what a waiter knows of the line (see line.go); its own entry is
// the FileLock's place, where linkLock finds it (takeFromLine).
type line struct {
	local bool     // the lock directory is local: notification sees every change
	ahead position // whom this waiter waits right behind
}

// position is the waiter a waiter waits right behind, or the holder.
type position struct {
	// entry is the waiter ahead's own entry, a link of its token, seen as
	// fi when we queued behind it; "" when we wait right behind the holder
	// (the lock file is then what we watch). entry0 is entry,
	// NUL-terminated, for statx.
	entry  string
	entry0 *byte
	fi     fs.FileInfo
	proc   procscan.Process // the waiter ahead's process (zero behind the holder)
	holds  bool             // the waiter ahead holds the lock now (settle)
	// waiters is how many waiters were ahead of us when we joined (0
	// behind the holder): it sets how often we look (waiter.pause).
	waiters int
}

// newPosition is the place behind the waiter whose entry at path was read
// as fi and rec, with waiters waiters ahead of us, that one included.
func newPosition(path string, fi fs.FileInfo, rec fileformat.Record, waiters int) position {
	return position{entry: path, entry0: cpath(path), fi: fi, proc: procscan.Process{PID: rec.PID, Start: rec.Start},
		waiters: waiters}
}

// behindHolder reports whether this waiter waits right behind the holder:
// first in line, or not in the line at all.
func (p position) behindHolder() bool { return p.entry == "" }

// join puts the waiter in the line behind the holder h, once. Where there
// is no line to join (a holder whose record has no nonce, a network file
// system, an error), the waiter waits behind the holder.
func (s *waitSet) join(h *holder) {
	l := s.l
	defer s.expectTurns()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.place.entry != "" {
		return
	}
	s.ahead = position{}
	s.local = l.tok != nil && !l.remote()
	if l.tok == nil || l.closed || !s.local || h == nil || h.bad != nil || !validNonce(h.rec.Nonce) {
		return
	}
	// x is the waiter (at first the holder) we try to queue right behind.
	x, ahead := h.rec.Nonce, position{}
	jumpAt := jumpAfter
	if s.turns > jumpAfter+1 {
		jumpAt = 0
	}
	for step := range maxChain {
		if step == jumpAt {
			x, ahead = s.jump(x, ahead)
		}
		p := afterName(l.abs, x)
		err := fsx.Link(l.tok.path, p)
		if err == nil {
			s.queue(p, ahead)
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
			s.queue(p, ahead)
			return
		}
		x, ahead = rec.Nonce, newPosition(p, fi, rec, ahead.waiters+1)
	}
}

// jumpAfter is how many waiters join walks past one by one (a failed link
// and a read each) before it maps the rest of the line from one read of
// the directory; none, when the last wait of the set waited behind more
// than that: the line is long then, by all odds, and the walk's steps
// would be wasted, two system calls per waiter passed, paid at every join
// by a process that rejoins the line after each of its turns.
const jumpAfter = 2

// jump returns the last waiter of the line that goes on after x (whose
// entry, if x is a waiter, is ahead), as the directory maps it (lineScan):
// where join should try to queue next. Where the map says nothing more,
// or the last waiter's entry cannot be read, it returns x and ahead.
func (s *waitSet) jump(x string, ahead position) (string, position) {
	if s.scan == nil {
		s.scan = new(lineScan)
	}
	m := s.scan
	if !m.read(s.l.abs) {
		return x, ahead
	}
	x0, entry, passed := x, "", 0
	for range maxChain {
		n, ok := m.next(x)
		if !ok {
			break
		}
		entry, x, passed = afterName(s.l.abs, x), n, passed+1
	}
	if entry == "" {
		return x0, ahead
	}
	rec, fi, err := readEntry(entry)
	if err != nil || rec.Nonce != x {
		return x0, ahead // changed meanwhile: walk on from where we were
	}
	return x, newPosition(entry, fi, rec, ahead.waiters+passed)
}

// A lineScan maps the line of a lock from one read of its directory: the
// tokens (<lock>.<nonce>.token) and the entries (<lock>.<nonce ahead>.after)
// with their inode numbers. An entry is a hard link of its owner's token,
// so the inode numbers tell whose it is without opening a file. Where they
// do not match (a file system whose directory entries report other inode
// numbers than stat), the map is short, and join walks on from where it
// ends. A wait set keeps its lineScan, buffers and all, from wait to wait.
type lineScan struct {
	tokens  []inoNonce // a token's inode and its owner's nonce
	entries []inoNonce // an entry's inode and the nonce of the one ahead
	buf     [8192]byte
}

type inoNonce struct {
	ino   uint64
	nonce [2 * nonceBytes]byte
}

// read reads the directory of the lock at path; false if it cannot.
func (m *lineScan) read(lock string) bool {
	dir, base := filepath.Split(lock)
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	m.tokens, m.entries = m.tokens[:0], m.entries[:0]
	for {
		n, err := unix.Getdents(fd, m.buf[:])
		if n <= 0 || err != nil {
			return true
		}
		for off := 0; off+19 <= n; {
			// struct linux_dirent64: ino (8), off (8), reclen (2), type (1), name
			ino := binary.NativeEndian.Uint64(m.buf[off:])
			reclen := int(binary.NativeEndian.Uint16(m.buf[off+16:]))
			if reclen == 0 || off+reclen > n {
				break
			}
			m.note(ino, base, cstring(m.buf[off+19:off+reclen]))
			off += reclen
		}
	}
}

// note records the directory entry name (inode ino) if it is a token or
// an entry of the lock whose base name is base.
func (m *lineScan) note(ino uint64, base, name string) {
	rest, ok := strings.CutPrefix(name, base)
	if !ok || len(rest) < 1 || rest[0] != '.' {
		return
	}
	nonce, suffix, _ := strings.Cut(rest[1:], ".")
	if !validNonce(nonce) {
		return
	}
	x := inoNonce{ino: ino}
	copy(x.nonce[:], nonce)
	switch suffix {
	case "token":
		m.tokens = append(m.tokens, x)
	case "after":
		m.entries = append(m.entries, x)
	}
}

// next returns the nonce of the waiter right after the one whose nonce is
// x, if the map knows it.
func (m *lineScan) next(x string) (string, bool) {
	for _, e := range m.entries {
		if string(e.nonce[:]) != x {
			continue
		}
		for _, t := range m.tokens {
			if t.ino == e.ino {
				return string(t.nonce[:]), true
			}
		}
		return "", false
	}
	return "", false
}

// queue takes the place at entry, behind ahead. l.mu must be held.
func (s *waitSet) queue(entry string, ahead position) {
	s.l.place = place{entry: entry, entry0: cpath(entry), tok: s.l.tok}
	s.ahead = ahead
	if !stillInLine(ahead) {
		s.ahead = position{} // it left before we came: we are first
	}
}

// stillInLine reports whether the waiter ahead (not the holder) still has
// its entry: it waits in the line, or holds the lock it took from there.
// Its entry is a link of its token, which this waiter watches, so its
// leaving (the entry's removal) raises an event; if the entry was gone
// before the watch began, the waiter is first.
func stillInLine(p position) bool {
	return !p.behindHolder() && isFile(p.entry0, p.fi, false)
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

// settle makes the set watch what this waiter waits for: the token of the
// waiter ahead (through its entry) and its process, or, right behind the
// holder, the lock file and the holder's process. It reports whether a
// watch began, after which the caller looks once more: a change before it
// raised no event.
func (s *waitSet) settle(h *holder) bool {
	if !s.ahead.behindHolder() {
		if stillInLine(s.ahead) {
			if s.watchProcess(s.ahead.proc, false); s.pid >= 0 {
				began := s.watchFile(s.ahead.entry)
				s.ahead.holds = s.l.holdsLock(s.ahead.fi)
				if began && s.wd >= 0 && stillInLine(s.ahead) {
					// Its entry is there still, the watch on: whatever it
					// does next (take the lock, leave the line, or after a
					// take by link, the entry's removal at its release)
					// raises an event. No look: a bare link now would
					// take a lock that came free before us, from the
					// waiter ahead, whose turn it is.
					return false
				}
				return began
			}
		}
		// It left, or it is dead already, or out of sight: we are first.
		s.ahead = position{}
	}
	if p, ok := holderProcess(h); ok {
		s.watchProcess(p, time.Since(h.at) < judgedLately)
	} else {
		s.unwatchProcess()
	}
	return s.watchFile(s.l.abs)
}

// judgedLately is how recent a judgement of the holder lets settle open a
// pidfd of it without reading its start time again (procscan.OpenJudgedPidfd).
const judgedLately = 10 * time.Millisecond

// leave takes a waiter that gives up out of the line; the waiter after it,
// which watches its token, is woken by the entry's removal.
func (s *waitSet) leave() {
	if s == nil {
		return
	}
	s.l.mu.Lock()
	defer s.l.mu.Unlock()
	s.leaveLine()
}

// leaveLine removes our entry, if it is still ours (one taken onto the lock
// path is no longer our place: takeFromLine). l.mu must be held.
func (s *waitSet) leaveLine() {
	p := s.l.place
	s.l.place = place{}
	if p.entry == "" {
		return
	}
	if fi, err := os.Lstat(p.entry); err == nil && os.SameFile(fi, p.tok.fi) {
		os.Remove(p.entry)
	}
}

// takeFromLine takes the lock from our place in the line: it renames our
// entry, a link of our token, onto the lock path, with RENAME_NOREPLACE,
// which, like link(2), creates the name atomically or fails with EEXIST
// when it exists: the same exclusion, resting on the same property of the
// file system (an atomic, exclusive creation of a name). The lock file is
// then our token, as after a link. What the rename spares is the link
// count: the entry's name goes as the lock's comes, so our token's link
// count does not change, and the waiter behind us, which watches it
// (IN_ATTRIB), is not woken by our taking the lock, only by our release.
//
// The rename moves whatever the entry's name holds; it is ours unless a
// third party removed our entry and a newcomer linked its token in its
// place, which only a sweep that judged this live process dead or a person
// removing a live lock's files can do. The lock file is checked after the
// rename: if it is not our token, the newcomer now holds the lock (its own
// look will tell it: the lock file is its token), and we report the lock
// as taken. done is false when the rename cannot serve (the entry is no
// longer ours to move, or the file system lacks RENAME_NOREPLACE): the
// caller then links as usual. c are the fast path's paths; l.mu must be
// held.
func (l *FileLock) takeFromLine(c cpaths) (done bool, err error) {
	if l.place.tok != l.tok {
		l.place.entry0 = nil // it links a token dropped since: link; leaveLine removes it
		return false, nil
	}
	_, _, e := syscall.Syscall6(unix.SYS_RENAMEAT2, atFDCWD, uintptr(unsafe.Pointer(l.place.entry0)),
		atFDCWD, uintptr(unsafe.Pointer(c.abs)), unix.RENAME_NOREPLACE, 0)
	switch {
	case e == syscall.EEXIST:
		return true, &os.LinkError{Op: "rename", Old: l.place.entry, New: l.abs, Err: e}
	case e != 0:
		l.place.entry0 = nil // gone, or no RENAME_NOREPLACE here: link
		return false, nil
	}
	l.place = place{} // the entry is the lock file now
	l.tok.vouchNow()
	if l.ownedLock() != nil {
		l.debug("the entry renamed onto the lock path was not our token")
		return true, &os.LinkError{Op: "rename", Old: l.tok.path, New: l.abs, Err: syscall.EEXIST}
	}
	return true, nil
}

// cstring is b up to its first NUL, without allocating when compared.
func cstring(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}
