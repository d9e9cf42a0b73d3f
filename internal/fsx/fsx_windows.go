package fsx

import (
	"errors"
	"io/fs"
	"os"
	"syscall"

	"golang.org/x/sys/windows"
)

// openRead opens path for reading, sharing it for reading, writing and
// deletion. Package os opens without FILE_SHARE_DELETE, and while any
// process held such a handle on a lock file, a token or a reader's
// registration, its owner could neither remove it (Unlock: a sharing
// violation) nor rename over it (a takeover: access denied). A reparse
// point (symlink, junction) is opened as itself, never followed, as
// O_NOFOLLOW does on Unix; readFile's fstat then refuses it. Sharing
// violations with another process's handle are retried (Retry).
func openRead(path string) (*os.File, error) {
	p, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	var h windows.Handle
	err = Retry(func() error {
		h, err = windows.CreateFile(p, windows.GENERIC_READ,
			windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE|windows.FILE_SHARE_DELETE, nil,
			windows.OPEN_EXISTING, windows.FILE_FLAG_OPEN_REPARSE_POINT, 0)
		return err
	})
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(h), path), nil
}

func isSymlinkLoop(error) bool { return false }

// noHardLinks reports whether err from os.Link means that the volume does
// not support hard links (FAT, exFAT, some network shares).
func noHardLinks(err error) bool {
	const errorNotSupported = syscall.Errno(50)
	const errorInvalidFunction = syscall.Errno(1)
	return errors.Is(err, errorNotSupported) || errors.Is(err, errorInvalidFunction)
}
