package openlock

import (
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/openlock/openlock/fileformat"
	"github.com/openlock/openlock/internal/fsx"
	"github.com/openlock/openlock/procscan"
)

// line is a waiter's place in the line (see line.go).
type line struct {
	entry string   // <lock>.<ahead's nonce>.after, a link of tok; "" when not in line
	tok   *token   // the token entry links (Close may drop the FileLock's first)
	local bool     // the lock directory is local: notification sees every change
	ahead position // whom this waiter waits right behind
}

// position is the waiter a waiter waits right behind, or the holder.
type position struct {
	// entry is the waiter ahead's own entry, a link of its token, seen as
	// fi when we queued behind it; "" when we wait right behind the holder
	// (the lock file is then what we watch).
	entry string
	fi    fs.FileInfo
	proc  procscan.Process // the waiter ahead's process (zero behind the holder)
	holds bool             // the waiter ahead holds the lock now (settle)
}

// behindHolder reports whether this waiter waits right behind the holder:
// first in line, or not in the line at all.
func (p position) behindHolder() bool { return p.entry == "" }

// join puts the waiter in the line behind the holder h, once. Where there
// is no line to join (a holder whose record has no nonce, a network file
// system, an error), the waiter waits behind the holder.
func (s *waitSet) join(h *holder) {
	l := s.l
	l.mu.Lock()
	defer l.mu.Unlock()
	if s.entry != "" {
		return
	}
	s.ahead = position{}
	s.local = l.tok != nil && !l.remote()
	if l.tok == nil || l.closed || !s.local || h == nil || h.bad != nil || !validNonce(h.rec.Nonce) {
		return
	}
	// x is the waiter (at first the holder) we try to queue right behind.
	x, ahead := h.rec.Nonce, position{}
	for step := range maxChain {
		if step == jumpAfter {
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
		x = rec.Nonce
		ahead = position{entry: p, fi: fi, proc: procscan.Process{PID: rec.PID, Start: rec.Start}}
	}
}

// jumpAfter is how many waiters join walks past one by one (a failed link
// and a read each) before it maps the rest of the line from one read of
// the directory.
const jumpAfter = 2

// jump returns the last waiter of the line that goes on after x (whose
// entry, if x is a waiter, is ahead), as the directory maps it (lineMap):
// where join should try to queue next. Where the map says nothing more,
// or the last waiter's entry cannot be read, it returns x and ahead.
func (s *waitSet) jump(x string, ahead position) (string, position) {
	next := lineMap(s.l.abs)
	x0, entry := x, ""
	for range maxChain {
		n, ok := next[x]
		if !ok {
			break
		}
		entry, x = afterName(s.l.abs, x), n
	}
	if entry == "" {
		return x, ahead
	}
	rec, fi, err := readEntry(entry)
	if err != nil || rec.Nonce != x {
		return x0, ahead // changed meanwhile: walk on from where we were
	}
	return x, position{entry: entry, fi: fi, proc: procscan.Process{PID: rec.PID, Start: rec.Start}}
}

// lineMap maps the line of the lock at path from one read of its
// directory: for each nonce X with an entry <lock>.<X>.after, the nonce of
// the waiter that entry belongs to. An entry is a hard link of its owner's
// token, <lock>.<nonce>.token, so the directory's inode numbers tell whose
// it is without opening a file. Where they do not match (a file system
// whose directory entries report other inode numbers than stat), the map
// is short, and join walks on from where it ends.
func lineMap(lock string) map[string]string {
	dir, base := filepath.Split(lock)
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil
	}
	defer unix.Close(fd)
	tokens := make(map[uint64]string)  // inode -> nonce
	entries := make(map[string]uint64) // the nonce ahead -> inode
	var buf [8192]byte
	for {
		n, err := unix.Getdents(fd, buf[:])
		if n <= 0 || err != nil {
			break
		}
		for off := 0; off+19 <= n; {
			// struct linux_dirent64: ino (8), off (8), reclen (2), type (1), name
			ino := binary.NativeEndian.Uint64(buf[off:])
			reclen := int(binary.NativeEndian.Uint16(buf[off+16:]))
			if reclen == 0 || off+reclen > n {
				break
			}
			name := cstring(buf[off+19 : off+reclen])
			if rest, ok := strings.CutPrefix(name, base+"."); ok {
				if nonce, ok := strings.CutSuffix(rest, ".token"); ok && validNonce(nonce) {
					tokens[ino] = strings.Clone(nonce) // name is buf's, read over next
				} else if nonce, ok := strings.CutSuffix(rest, ".after"); ok && validNonce(nonce) {
					entries[strings.Clone(nonce)] = ino
				}
			}
			off += reclen
		}
	}
	next := make(map[string]string, len(entries))
	for ahead, ino := range entries {
		if nonce, ok := tokens[ino]; ok {
			next[ahead] = nonce
		}
	}
	return next
}

// queue takes the place at entry, behind ahead. l.mu must be held.
func (s *waitSet) queue(entry string, ahead position) {
	s.entry, s.tok = entry, s.l.tok
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
	if p.behindHolder() {
		return false
	}
	now, err := os.Lstat(p.entry)
	return err == nil && os.SameFile(now, p.fi)
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
			if s.watchProcess(s.ahead.proc); s.pid >= 0 {
				began := s.watchFile(s.ahead.entry)
				s.ahead.holds = s.l.holdsLock(s.ahead.fi)
				return began
			}
		}
		// It left, or it is dead already, or out of sight: we are first.
		s.ahead = position{}
	}
	if p, ok := holderProcess(h); ok {
		s.watchProcess(p)
	} else {
		s.unwatchProcess()
	}
	return s.watchFile(s.l.abs)
}

// leave takes a waiter that gives up out of the line; the waiter after it,
// which watches its token, is woken by the entry's removal.
func (s *waitSet) leave() {
	if s == nil || s.entry == "" {
		return
	}
	s.l.mu.Lock()
	defer s.l.mu.Unlock()
	s.leaveLine()
}

// leaveLine removes our entry, if it is still ours. l.mu must be held.
func (s *waitSet) leaveLine() {
	if s.entry == "" {
		return
	}
	if fi, err := os.Lstat(s.entry); err == nil && os.SameFile(fi, s.tok.fi) {
		os.Remove(s.entry)
	}
	s.entry, s.tok = "", nil
}

// cstring is b up to its first NUL, without allocating when compared.
func cstring(b []byte) string {
	for i, c := range b {
		if c == 0 {
			b = b[:i]
			break
		}
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}
