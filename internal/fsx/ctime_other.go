//go:build !linux && !darwin && !freebsd && !netbsd

package fsx

import (
	"io/fs"
	"time"
)

// ChangeTime returns the modification time: this OS does not report an
// inode change time through package syscall.
func ChangeTime(fi fs.FileInfo) time.Time { return fi.ModTime() }
