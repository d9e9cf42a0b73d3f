//go:build unix

package fsx

import (
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// Owner returns the user id of the file fi describes.
func Owner(fi fs.FileInfo) (uid int, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return int(st.Uid), true
}

// Protected reports whether this process may not remove the file at path,
// which fi describes, nor rename another file over it, because its
// directory has the sticky bit (as /tmp): there only the file's owner, the
// directory's owner and root may. It is a prediction for reports; the
// system call's own answer is what counts.
func Protected(path string, fi fs.FileInfo) bool {
	uid, ok := Owner(fi)
	euid := os.Geteuid()
	if !ok || euid == 0 || uid == euid {
		return false
	}
	dir, err := os.Stat(filepath.Dir(path))
	if err != nil || dir.Mode()&fs.ModeSticky == 0 {
		return false
	}
	duid, ok := Owner(dir)
	return ok && duid != euid
}
