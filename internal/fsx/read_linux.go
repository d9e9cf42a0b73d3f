package fsx

import (
	"io/fs"
	"syscall"

	"golang.org/x/sys/unix"
)

// readRegular reads the regular file that lstat described as fi with bare
// system calls (a lock's waiters read small files all the time; package
// os would add an allocation, a finalizer and two system calls to each).
// The FileInfo returned must describe the file read: if the fstat of the
// opened file differs from fi in any way that matters (another file, or
// this one changed in between), it is read again through package os,
// whose FileInfo comes from that fstat.
func readRegular(path string, fi fs.FileInfo, max int64) ([]byte, fs.FileInfo, error) {
	lst, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || fi.Size() > max {
		return readFile(path, max)
	}
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return readFile(path, max) // its error, with package os's wrapping
	}
	defer unix.Close(fd)
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil || !sameStat(lst, &st) {
		return readFile(path, max)
	}
	// One byte more than the fstat's size, to see the file grow.
	b := make([]byte, fi.Size()+1)
	n, err := ReadFull(fd, b)
	if err != nil || int64(n) != fi.Size() { // an error, or it changed since the fstat
		return readFile(path, max)
	}
	return b[:n], fi, nil
}

// sameStat reports whether a and b describe one file in one state.
func sameStat(a, b *syscall.Stat_t) bool {
	return a.Dev == b.Dev && a.Ino == b.Ino && a.Mode == b.Mode && a.Size == b.Size &&
		a.Nlink == b.Nlink && a.Ctim == b.Ctim && a.Mtim == b.Mtim
}

// ReadFull reads the open file fd into b until b is full or the file ends,
// with bare system calls, and returns how many bytes it read.
func ReadFull(fd int, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := unix.Read(fd, b[n:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return n, err
		}
		if m == 0 {
			break
		}
		n += m
	}
	return n, nil
}
