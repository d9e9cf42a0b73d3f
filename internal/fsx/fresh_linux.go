package fsx

import (
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// FreshChangeTime returns the change time of the file at path (not
// following a symlink), with the attributes asked of the file system itself
// rather than of this client's attribute cache (AT_STATX_FORCE_SYNC): a
// network client may otherwise answer with times that are seconds old.
//
// The lock itself does not use it: a GlusterFS client that gets fresh
// attributes of an inode goes on answering lookups of every name it last
// saw bound to that inode from its cache, so asking again and again pins a
// name that another client removed (see the root package's ageOf). Tests
// use it to learn when a file last changed.
func FreshChangeTime(path string) (time.Time, error) {
	var st unix.Statx_t
	flags := unix.AT_SYMLINK_NOFOLLOW | unix.AT_STATX_FORCE_SYNC
	if err := unix.Statx(unix.AT_FDCWD, path, flags, unix.STATX_CTIME, &st); err != nil {
		return time.Time{}, Restale(&os.PathError{Op: "statx", Path: path, Err: err})
	}
	return time.Unix(st.Ctime.Sec, int64(st.Ctime.Nsec)), nil
}
