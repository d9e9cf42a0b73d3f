//go:build unix

package openlock

import (
	"io/fs"
	"os"
	"os/user"
	"strconv"
	"syscall"
)

// ownerID returns the user id of the file fi describes.
func ownerID(fi fs.FileInfo) (int, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return int(st.Uid), true
}

// userName names the user uid: "user nobody (uid 65534)", or "uid 1234"
// when no user has that id.
func userName(uid int) string {
	id := strconv.Itoa(uid)
	if u, err := user.LookupId(id); err == nil {
		return "user " + u.Username + " (uid " + id + ")"
	}
	return "uid " + id
}

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
