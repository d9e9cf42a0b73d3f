//go:build !unix

package openlock

import (
	"io/fs"
	"os"
)

// chmodDir sets the mode of the directory dir.
func chmodDir(dir string, mode fs.FileMode) error { return os.Chmod(dir, mode) }
