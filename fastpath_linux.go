package openlock

import (
	"io/fs"
	"os"
	"syscall"
	"time"
	"unsafe"

	"github.com/openlock/openlock/internal/fsx"
	"golang.org/x/sys/unix"
)

// The uncontended path without allocation (Linux, local file systems):
// link(2) of the token to the lock path, and at release the check that the
// lock file is still our token's inode and its unlink(2), made as raw
// system calls on NUL-terminated paths kept from New and from the token's
// creation. Package os would convert each path anew and allocate a
// FileInfo: five allocations per Lock and Unlock. (statx, Linux 4.11, tells
// the identity; where it fails the general path serves.) Errors are the ones
// package os returns (*os.LinkError, *fs.PathError), allocated only when a
// call fails. A network file system takes the general path (token.go's
// link checks what it made; ESTALE is "look again").

// cpaths holds the NUL-terminated forms of the paths the fast path uses.
type cpaths struct {
	abs *byte // the lock path
	tok *byte // the token's path
	id  fileID
}

// fileID is a file's identity as statx(2) gives it.
type fileID struct {
	major, minor uint32
	ino          uint64
}

// fastPaths returns the paths for the fast path, or false where it does
// not apply. l.mu must be held and l.tok made.
func (l *FileLock) fastPaths() (cpaths, bool) {
	t := l.tok
	if t.remote || l.abs0 == nil || t.path0 == nil {
		return cpaths{}, false
	}
	return cpaths{abs: l.abs0, tok: t.path0, id: t.id}, true
}

// prepareFast fills in what the fast path needs of the token t: its path,
// its identity as statx gives it (where statx fails, the fast path is not
// used) and a buffer to read the lock file into.
func prepareFast(t *token) {
	p, err := syscall.BytePtrFromString(t.path)
	if err != nil {
		return
	}
	id, errno := statxID(p)
	if errno != 0 {
		return
	}
	// One byte more than the record, so that a longer file reads longer.
	t.path0, t.id, t.buf = p, id, make([]byte, len(t.data)+1)
	backdate(t)
}

// backdate sets the new token's modification time twice settleTime back
// and records it as settled (holdsRecord): a rewrite of the lock file is
// stamped with the time of the rewrite, never that one, so the uncontended
// release needs no read to tell that the lock file still holds our record.
// The token has held its record since it was written, and nothing but this
// FileLock knows it yet. (Lock files are dated by their change time, which
// this leaves at now; on other systems the change time may be the
// modification time, so only here.)
func backdate(t *token) {
	past := time.Now().Add(-2 * settleTime)
	ts := []unix.Timespec{{Nsec: unix.UTIME_OMIT}, unix.NsecToTimespec(past.UnixNano())}
	if unix.UtimesNanoAt(unix.AT_FDCWD, t.path, ts, unix.AT_SYMLINK_NOFOLLOW) != nil {
		return
	}
	st, e := statx(t.path0, unix.STATX_INO|unix.STATX_SIZE|unix.STATX_MTIME)
	if e != 0 || (fileID{st.Dev_major, st.Dev_minor, st.Ino}) != t.id || st.Size != uint64(len(t.data)) {
		return
	}
	t.settle(time.Unix(st.Mtime.Sec, int64(st.Mtime.Nsec)))
}

// statxID is the identity of the file at p, not following a symlink.
func statxID(p *byte) (fileID, syscall.Errno) {
	st, e := statx(p, unix.STATX_INO)
	return fileID{st.Dev_major, st.Dev_minor, st.Ino}, e
}

// statx is statx(2) of the NUL-terminated path p, not following a
// symlink, asking for mask.
func statx(p *byte, mask int) (unix.Statx_t, syscall.Errno) {
	var st unix.Statx_t
	_, _, e := syscall.Syscall6(unix.SYS_STATX, atFDCWD, uintptr(unsafe.Pointer(p)),
		unix.AT_SYMLINK_NOFOLLOW, uintptr(mask), uintptr(unsafe.Pointer(&st)), 0)
	return st, e
}

// cpath is path, NUL-terminated, or nil if it holds a NUL.
func cpath(path string) *byte {
	p, err := syscall.BytePtrFromString(path)
	if err != nil {
		return nil
	}
	return p
}

// linkLock links our token to the lock path.
func (l *FileLock) linkLock() error {
	c, ok := l.fastPaths()
	if !ok {
		return l.link(l.abs)
	}
	if l.place.entry0 != nil {
		if done, err := l.takeFromLine(c); done {
			return err
		}
	}
	_, _, e := syscall.Syscall6(unix.SYS_LINKAT, atFDCWD, uintptr(unsafe.Pointer(c.tok)),
		atFDCWD, uintptr(unsafe.Pointer(c.abs)), 0, 0)
	if e != 0 {
		return fsx.LinkResult(&os.LinkError{Op: "link", Old: l.tok.path, New: l.abs, Err: e}, l.abs)
	}
	l.tok.vouchNow()
	return nil
}

// ownedLock is owned(l.abs, l.tok): one statx, and a read of the lock file
// only when its size and times do not tell (holdsRecord).
func (l *FileLock) ownedLock() error {
	c, ok := l.fastPaths()
	if !ok {
		return owned(l.abs, l.tok)
	}
	st, e := statx(c.abs, unix.STATX_INO|unix.STATX_SIZE|unix.STATX_MTIME|unix.STATX_CTIME)
	switch {
	case e == syscall.ENOENT:
		return errRemoved
	case e != 0:
		return &os.PathError{Op: "lstat", Path: l.abs, Err: e}
	case (fileID{st.Dev_major, st.Dev_minor, st.Ino}) != c.id:
		return errReplaced
	}
	mtime := time.Unix(st.Mtime.Sec, int64(st.Mtime.Nsec))
	ctime := time.Unix(st.Ctime.Sec, int64(st.Ctime.Nsec))
	if known, err := l.tok.judgeByStat(int64(st.Size), mtime, ctime); known {
		return err
	}
	data, ok := readInto(c.abs, l.tok.buf)
	if !ok {
		return owned(l.abs, l.tok) // the general path tells what went wrong
	}
	return l.tok.compare(data, mtime, ctime)
}

// readInto reads the file at p (NUL-terminated) into buf, by raw system
// calls: it never follows a symlink, never waits on a FIFO, and leaves the
// access time alone (the file is our token's, so we may ask that). It
// returns what it read, up to len(buf) bytes, and false if a call failed.
func readInto(p *byte, buf []byte) ([]byte, bool) {
	const flags = unix.O_RDONLY | unix.O_NOFOLLOW | unix.O_NONBLOCK | unix.O_CLOEXEC | unix.O_NOATIME
	fd, _, e := syscall.Syscall6(unix.SYS_OPENAT, atFDCWD, uintptr(unsafe.Pointer(p)), flags, 0, 0, 0)
	if e != 0 {
		return nil, false
	}
	n := 0
	for n < len(buf) {
		m, _, e := syscall.Syscall(unix.SYS_READ, fd, uintptr(unsafe.Pointer(&buf[n])), uintptr(len(buf)-n))
		if e == syscall.EINTR {
			continue
		}
		if e != 0 {
			syscall.Syscall(unix.SYS_CLOSE, fd, 0, 0)
			return nil, false
		}
		if m == 0 {
			break
		}
		n += int(m)
	}
	syscall.Syscall(unix.SYS_CLOSE, fd, 0, 0)
	return buf[:n], true
}

// removeLock unlinks the lock path.
func (l *FileLock) removeLock() error {
	c, ok := l.fastPaths()
	if !ok {
		return os.Remove(l.abs)
	}
	_, _, e := syscall.Syscall(unix.SYS_UNLINKAT, atFDCWD, uintptr(unsafe.Pointer(c.abs)), 0)
	if e != 0 {
		return &os.PathError{Op: "remove", Path: l.abs, Err: e}
	}
	return nil
}

const atFDCWD = ^uintptr(99) // AT_FDCWD, -100, as a system call argument

// readersGone reports whether the shared lock's readers' directory is
// absent (readers.go's judgement on a local file system), by a raw statx:
// what an exclusive Lock pays for the shared lock when no reader is about.
func (l *FileLock) readersGone() (bool, error) {
	if l.rd0 == nil {
		return readersGoneOS(l.abs)
	}
	switch _, errno := statxID(l.rd0); errno {
	case 0:
		return false, nil
	case syscall.ENOENT:
		return true, nil
	}
	return readersGoneOS(l.abs)
}

// unchanged reports whether the lock file is still, to the nanosecond of
// its change time, the one h was read from: one statx(2) on the path kept
// from New, no allocation. false when it cannot tell.
func (l *FileLock) unchanged(h *holder) bool { return isFile(l.abs0, h.fi, true) }

// holdsLock reports whether the lock file is the file fi describes (a
// waiter's entry: a link of its token).
func (l *FileLock) holdsLock(fi fs.FileInfo) bool { return isFile(l.abs0, fi, false) }

// isFile reports whether the name p (NUL-terminated; nil: cannot tell) is
// the file fi describes, and with ctime, unchanged since, to the
// nanosecond of its change time: one statx(2), no allocation.
func isFile(p *byte, fi fs.FileInfo, ctime bool) bool {
	if fi == nil || p == nil {
		return false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return false
	}
	x, e := statx(p, unix.STATX_INO|unix.STATX_CTIME)
	return e == 0 && x.Ino == st.Ino && unix.Mkdev(x.Dev_major, x.Dev_minor) == st.Dev &&
		(!ctime || x.Ctime.Sec == st.Ctim.Sec && int64(x.Ctime.Nsec) == st.Ctim.Nsec)
}

// renameOver renames the file old over newname in one system call.
// os.Rename lstats newname first, to refuse a directory there, which the
// kernel refuses anyway when old is a file: one call less on a recovery.
func renameOver(old, newname string) error {
	if err := syscall.Rename(old, newname); err != nil {
		return &os.LinkError{Op: "rename", Old: old, New: newname, Err: err}
	}
	return nil
}
