//go:build unix

package fsprobe

import (
	"io/fs"
	"syscall"
)

// sameDevice reports whether two files (at those paths, described by those
// FileInfos) are on one mounted file system (one st_dev). Each mount of a
// network volume is a device of its own.
func sameDevice(_, _ string, a, b fs.FileInfo) bool {
	sa, ok1 := a.Sys().(*syscall.Stat_t)
	sb, ok2 := b.Sys().(*syscall.Stat_t)
	return ok1 && ok2 && sa.Dev == sb.Dev
}
