//go:build unix

package openlock

import (
	"io/fs"
	"os"
	"syscall"
)

// chmodDir sets the mode of the directory dir, never following a symlink
// there: another user who may write the lock's directory could otherwise
// put one in its place between our mkdir and our chmod, and have us change
// the mode of a file of their choosing.
func chmodDir(dir string, mode fs.FileMode) error {
	f, err := os.OpenFile(dir, os.O_RDONLY|syscall.O_DIRECTORY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Chmod(mode)
}
