//go:build darwin || freebsd || netbsd

package fsx

import (
	"io/fs"
	"syscall"
	"time"
)

// ChangeTime returns the time of the last change to the file's inode: for a
// lock file, the moment it was linked into place. It falls back to the
// modification time where the OS does not report one.
func ChangeTime(fi fs.FileInfo) time.Time {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return time.Unix(st.Ctimespec.Unix())
	}
	return fi.ModTime()
}
