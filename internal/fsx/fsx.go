// Package fsx holds the file-system operations openlock needs beyond package
// os: reading a small regular file without following a symlink or opening a
// device, the change time of a file, and telling "no hard links here" apart
// from other failures of link(2). Each has per-OS quirks, kept in the
// _unix/_windows/_linux files beside this one.
package fsx

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"time"
)

var (
	// ErrNotRegular: the path names a directory, symlink, device, FIFO or
	// socket; its content is not read.
	ErrNotRegular = errors.New("not a regular file")
	// ErrTooLarge: the file is larger than the caller's limit.
	ErrTooLarge = errors.New("file too large")
)

// ReadSmall returns the content of the regular file at path, which must be at
// most max bytes, and its FileInfo (from fstat, so it describes exactly the
// file read). A symlink at path is never followed and a device is never
// opened: both are ErrNotRegular, wrapped in an *fs.PathError.
//
// An ESTALE (a network client's cached name for a file that another client
// replaced or removed) satisfies errors.Is(err, fs.ErrNotExist): the file
// as the caller knew it is gone.
func ReadSmall(path string, max int64) ([]byte, fs.FileInfo, error) {
	b, fi, err := readSmall(path, max)
	return b, fi, Restale(err)
}

func readSmall(path string, max int64) ([]byte, fs.FileInfo, error) {
	// Lstat first, so a device or FIFO at path is refused without being
	// opened (opening some devices has side effects).
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fi, &fs.PathError{Op: "read", Path: path, Err: ErrNotRegular}
	}
	return readRegular(path, fi, max)
}

// readFile reads the file at path with package os: open, fstat, read. The
// returned FileInfo is the fstat's.
func readFile(path string, max int64) ([]byte, fs.FileInfo, error) {
	f, err := openRead(path)
	if err != nil {
		if isSymlinkLoop(err) { // replaced by a symlink since the Lstat
			return nil, nil, &fs.PathError{Op: "read", Path: path, Err: ErrNotRegular}
		}
		return nil, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fi, &fs.PathError{Op: "read", Path: path, Err: ErrNotRegular}
	}
	if fi.Size() > max {
		return nil, fi, &fs.PathError{Op: "read", Path: path, Err: ErrTooLarge}
	}
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, nil, &fs.PathError{Op: "read", Path: path, Err: err}
	}
	if int64(len(b)) > max { // grew since the fstat
		return nil, fi, &fs.PathError{Op: "read", Path: path, Err: ErrTooLarge}
	}
	return b, fi, nil
}

// NoHardLinks reports whether err from a link means that the file system
// does not support hard links (per OS: noHardLinks). A failure that
// satisfies errors.Is(err, fs.ErrExist) never does: LinkResult makes an
// EPERM onto an existing name such a failure, a busy name.
func NoHardLinks(err error) bool { return !errors.Is(err, fs.ErrExist) && noHardLinks(err) }

// Key returns a string that identifies the file fi describes (device and
// inode where the OS has them), for naming one incarnation of a file.
func Key(fi fs.FileInfo) string { return key(fi) }

// Now returns the file system's current time, read back from the change
// time of the file at path after touching it. Comparing other files' times
// with it, rather than with time.Now, removes the skew between this
// machine's clock and a file server's.
func Now(path string) (time.Time, error) {
	if err := Touch(path); err != nil {
		return time.Time{}, err
	}
	fi, err := os.Lstat(path)
	if err != nil {
		return time.Time{}, err
	}
	return ChangeTime(fi), nil
}
