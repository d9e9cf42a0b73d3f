//go:build unix

package openlock

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"
)

// chmodDir sets the mode of the directory dir, never following a symlink
// there: another user who may write the lock's directory could otherwise
// put one in its place between our mkdir and our chmod, and have us change
// the mode of a file of their choosing.
func chmodDir(dir string, mode fs.FileMode) error {
	f, err := openDir(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Chmod(mode)
}

// openDir opens the directory dir, never following a symlink there: a
// symlink or any other file at the name is errNotDir.
func openDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(dir, os.O_RDONLY|syscall.O_DIRECTORY|syscall.O_NOFOLLOW, 0)
	if errors.Is(err, syscall.ELOOP) || errors.Is(err, syscall.ENOTDIR) {
		return nil, &fs.PathError{Op: "open", Path: dir, Err: errNotDir}
	}
	return f, err
}

// linkInto makes name, an entry of the open directory d, a hard link of
// the file at old: in d, whatever is at d's name by now.
func linkInto(old string, d *os.File, name string) error {
	if err := unix.Linkat(unix.AT_FDCWD, old, int(d.Fd()), filepath.Base(name), 0); err != nil {
		return &os.LinkError{Op: "link", Old: old, New: name, Err: err}
	}
	return nil
}
