package fsx

import (
	"errors"
	"os"
	"syscall"
)

// Windows has no O_NOFOLLOW; the Lstat in ReadSmall refuses symlinks and
// junctions, which is as close as os.OpenFile allows.
const openFlags = os.O_RDONLY

func isSymlinkLoop(error) bool { return false }

// noHardLinks reports whether err from os.Link means that the volume does
// not support hard links (FAT, exFAT, some network shares).
func noHardLinks(err error) bool {
	const errorNotSupported = syscall.Errno(50)
	const errorInvalidFunction = syscall.Errno(1)
	return errors.Is(err, errorNotSupported) || errors.Is(err, errorInvalidFunction)
}
