//go:build !unix

package openlock

import (
	"io/fs"
	"os"
	"strconv"
)

// ownerID returns false: files here have no user id.
func ownerID(fs.FileInfo) (int, bool) { return 0, false }

// userName names the user uid.
func userName(uid int) string { return "uid " + strconv.Itoa(uid) }

// chmodDir sets the mode of the directory dir.
func chmodDir(dir string, mode fs.FileMode) error { return os.Chmod(dir, mode) }
