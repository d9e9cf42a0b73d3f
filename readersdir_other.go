//go:build !unix

package openlock

import (
	"io/fs"
	"os"

	"github.com/openlock/openlock/internal/fsx"
)

// chmodDir sets the mode of the directory dir.
func chmodDir(dir string, mode fs.FileMode) error { return os.Chmod(dir, mode) }

// openDir opens the directory dir; any other file at the name is errNotDir.
func openDir(dir string) (*os.File, error) {
	fi, err := os.Lstat(dir)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, &fs.PathError{Op: "open", Path: dir, Err: errNotDir}
	}
	var d *os.File
	err = fsx.Retry(func() (err error) { // a sharing violation with another process's removal
		d, err = os.Open(dir)
		return err
	})
	return d, err
}

// linkInto makes name, an entry of the open directory d, a hard link of
// the file at old. Here by its path: no link(2) relative to a directory.
func linkInto(old string, d *os.File, name string) error { return os.Link(old, name) }
