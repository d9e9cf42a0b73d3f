package fsx

import (
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// FreshChangeTime returns the inode number and change time of the file at
// path (not following a symlink), with the attributes asked of the file
// system itself rather than of this client's attribute cache
// (AT_STATX_FORCE_SYNC): a network client may otherwise answer with times
// that are seconds old, which would make a leased holder that has just
// refreshed look expired.
func FreshChangeTime(path string) (uint64, time.Time, error) {
	st, err := freshStatx(path, unix.STATX_CTIME)
	return st.Ino, time.Unix(st.Ctime.Sec, int64(st.Ctime.Nsec)), err
}

// freshStatx asks the file system for the inode number and the fields of
// mask of the file at path, past this client's attribute cache.
func freshStatx(path string, mask int) (unix.Statx_t, error) {
	var st unix.Statx_t
	flags := unix.AT_SYMLINK_NOFOLLOW | unix.AT_STATX_FORCE_SYNC
	if err := unix.Statx(unix.AT_FDCWD, path, flags, unix.STATX_INO|mask, &st); err != nil {
		return st, Restale(&os.PathError{Op: "statx", Path: path, Err: err})
	}
	return st, nil
}

// FreshModTime is FreshChangeTime for the modification time, which only a
// write or a Touch moves (a link or an unlink of the inode does not).
func FreshModTime(path string) (uint64, time.Time, error) {
	st, err := freshStatx(path, unix.STATX_MTIME)
	return st.Ino, time.Unix(st.Mtime.Sec, int64(st.Mtime.Nsec)), err
}
