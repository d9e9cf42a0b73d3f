package openlock

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"strconv"

	"github.com/openlock/openlock/internal/fsx"
	"github.com/openlock/openlock/procscan"
)

// Files of other users. A lock directory that several users share (as
// /tmp) holds lock files of each of them, and two of another user's files
// need saying plainly, with the name of their owner and what to do:
//
//   - a stale lock file that this user may not replace (in a directory with
//     the sticky bit, only its owner, the directory's owner and root may).
//     A takeover fails at once with ErrForeignStale: waiting could not help,
//     as only they can free the lock.
//   - a lock file that this user may not read. Its holder cannot be judged,
//     so it counts as held, as a holder that cannot be checked from here
//     does: Locked reports true, TryLock false, Lock waits. It cannot know
//     the holder is dead, and a live holder's lock is not an error.

// foreignStale is the error of a takeover of the stale lock file h that
// this user may not make: cause, the system call's error, says so.
func foreignStale(h *holder, cause error) error {
	var le *os.LinkError
	if errors.As(cause, &le) {
		cause = le.Err // the claim's name says nothing to the user
	}
	return fmt.Errorf("%w: %s names a dead holder (%s), but %w", ErrForeignStale, h.path, h, denial(h, cause))
}

// denial says why this user may not replace the stale lock file h (cause),
// whose it is, and who may remove it.
func denial(h *holder, cause error) error {
	where := ""
	if fsx.Protected(h.path, h.fi) {
		where = " in a directory with the sticky bit"
	}
	return fmt.Errorf("it belongs to %s, and this user may not replace it%s (%w): %s must remove it, or lock a path elsewhere",
		ownerOf(h.fi), where, cause, removers(h.fi))
}

// replaceDenied is err, the failure to replace the stale lock file h, or
// ErrForeignStale with the file's owner when the failure is a permission's.
func replaceDenied(h *holder, err error) error {
	if errors.Is(err, fs.ErrPermission) && h.fi != nil {
		return foreignStale(h, err)
	}
	return err
}

// denied predicts, for reports (Owner), whether this user may not take
// over h, a dead holder's file: why not, or nil.
func denied(h *holder) error {
	if h.fi == nil || h.res.Verdict != procscan.Dead || !fsx.Protected(h.path, h.fi) {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrForeignStale, denial(h, fs.ErrPermission))
}

// unreadableError explains err, a read of the lock or reader file at path
// that this user may not make: who owns it, and what to do. It wraps err
// (so fs.ErrPermission) without repeating the path.
func unreadableError(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	fi, lerr := os.Lstat(path)
	if lerr != nil {
		return fmt.Errorf("%s may not be read by this user (%w): its holder cannot be judged, so it counts as held", path, err)
	}
	return fmt.Errorf("%s belongs to %s, mode %#o, and this user may not read it (%w): its holder cannot be judged, "+
		"so it counts as held; if that holder is gone, %s must remove it, or lock a path elsewhere",
		path, ownerOf(fi), fi.Mode().Perm(), err, removers(fi))
}

// unreadable is the holder we report for a lock file we may not read: held,
// never stale. err is inspect's (unreadableError), whose text names the path
// and says that it counts as held.
func unreadable(path string, err error) *holder {
	return &holder{path: path, res: procscan.Result{Verdict: procscan.Unknown, Reason: err.Error()}}
}

// ownerOf names the owner of the file fi: "user root (uid 0)", "uid 1234"
// when no user has that id, "another user" where files have no owner id.
func ownerOf(fi fs.FileInfo) string {
	uid, ok := fsx.Owner(fi)
	if !ok {
		return "another user"
	}
	id := strconv.Itoa(uid)
	if u, err := user.LookupId(id); err == nil {
		return fmt.Sprintf("user %s (uid %s)", u.Username, id)
	}
	return "uid " + id
}

// removers says who may remove the file fi: its owner or root.
func removers(fi fs.FileInfo) string {
	uid, ok := fsx.Owner(fi)
	switch {
	case !ok:
		return "its owner or an administrator"
	case uid == 0:
		return "root"
	}
	return ownerOf(fi) + " or root"
}
