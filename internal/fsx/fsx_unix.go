//go:build unix

package fsx

import (
	"errors"
	"os"
	"syscall"
)

// O_NOFOLLOW refuses a symlink swapped in after the Lstat; O_NONBLOCK keeps a
// FIFO swapped in from blocking the open.
const openFlags = os.O_RDONLY | syscall.O_NOFOLLOW | syscall.O_NONBLOCK

// openRead opens path for reading with package os.
func openRead(path string) (*os.File, error) { return os.OpenFile(path, openFlags, 0) }

func isSymlinkLoop(err error) bool { return errors.Is(err, syscall.ELOOP) }

// noHardLinks reports whether err from os.Link means that the file system
// does not support hard links (FAT, some FUSE and SMB mounts). Our own token
// is the source, so EPERM cannot be the protected_hardlinks rule.
func noHardLinks(err error) bool {
	return errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.ENOTSUP) ||
		errors.Is(err, syscall.EOPNOTSUPP) || errors.Is(err, syscall.ENOSYS)
}
