package openlock

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/openlock/openlock/internal/fsx"
)

// The readers' directory, <lock>.readers, and the users who may change it.
//
// A reader's registration keeps writers out only while it stays there, and
// in a lock directory that several users share (as /tmp) the other users
// must not be able to remove it (nor to move the directory that holds it):
// a writer would then get in beside the reader. Other users must still be
// able to register there, or the lock would not be shared between users. Of
// modes, the sticky bit and ownership checks, this takes the sticky bit and
// one ownership check, because the kernel enforces the sticky bit on every
// removal and rename, in any program, where a check of ours would bind only
// openlock. In a directory with the sticky bit, an entry may be removed or
// renamed only by its owner, the directory's owner and root. So:
//
//   - The directory is made with the sticky bit whenever anyone but its
//     owner may write in it (mkReadersDir), and one this user owns without it
//     (made by an older version of openlock) is given it.
//   - The directory's owner can always remove what is in it, so a reader
//     registers only in a directory whose owner it trusts: itself, root, the
//     owner of the lock's directory (who may remove or rename anything in
//     that directory anyway), or anyone, when the lock's directory has no
//     sticky bit (whoever made the readers' directory there may write that
//     directory, and so may remove or rename every file of ours in it: the
//     lock file, our token, the readers' directory itself). The same holds
//     of the lock's directory for the readers' directory: in a sticky one,
//     only the trusted users above may move it.
//   - A directory this user may not trust, or that lacks the sticky bit while
//     others may write it, is removed if it holds no registration but dead
//     readers' (those removed first, as debris; rmdir removes nothing else,
//     and only where this user may: root, or its owner) and made anew;
//     otherwise the reader refuses, with an error that names the owner and
//     says what to do (fs.ErrPermission). A symlink or any other file at the
//     name is never followed into: it is not a readers' directory
//     (ErrNotLockFile), as before.
//
// A reader opens the directory (never following a symlink) and judges it
// before it links its registration, and links into the directory it holds
// open, not by its name (so as never to link into a symlink's target,
// planted at the name once it was free, or an untrusted directory); and it
// judges the name again after the link, with a look that its registration is in it: a directory
// removed once empty and replaced by another user's in between is caught,
// and the registration taken out of it again. Once the registration is in a
// directory judged so, no user it does not trust can take it out or move
// the directory.
//
// Forgery. A writer trusts no registration to let it in: only the absence
// of the directory, or its removal once empty (rlock.go, step 3). A file
// another user plants in the directory can only keep writers out, as that
// user could by reading; a name that is not a registration's is an error,
// left untouched (lookReader). A dead reader's registration of another user
// that this user may not remove (in the sticky directory, only its owner,
// the directory's owner and root may) is an error naming its owner, not a
// wait: nobody else can free the lock.

// errReadersDirChanged: the readers' directory at the name is not the one
// a reader judged before it linked its registration, or a directory it could
// not trust was just removed: the caller looks again.
var errReadersDirChanged = errors.New("the directory of the shared lock's readers changed")

// readersDirMode is the mode of the readers' directory: search and write
// permission for everyone who may read our token (and so the lock file,
// a link of it), since those must be able to register as readers; and the
// sticky bit whenever others may write, so that they may not remove each
// other's registrations.
func (l *FileLock) readersDirMode() fs.FileMode {
	r := l.tok.fi.Mode().Perm() & 0o444
	mode := r | r>>1 | r>>2
	if mode&0o022 != 0 {
		mode |= fs.ModeSticky
	}
	return mode
}

// mkReadersDir creates the readers' directory with readersDirMode: its
// mode is set after the mkdir, since the umask must not lock others out.
// l.mu must be held.
func (l *FileLock) mkReadersDir(dir string) error {
	if err := os.Mkdir(dir, 0o700); err != nil {
		return err
	}
	err := chmodDir(dir, l.readersDirMode())
	if errors.Is(err, fs.ErrNotExist) {
		return nil // a reader leaving removed it, empty: the link tells
	}
	return err
}

// errNotDir: the file at the readers' directory's name is not a directory
// (a symlink included, which is never followed).
var errNotDir = errors.New("not a directory")

// linkRegistration judges the readers' directory dir and links this
// reader's registration, name, into it: into the very directory judged,
// held open, so that whatever another user puts at its name meanwhile (a
// symlink, where the name was free) is never followed. A directory not
// there yet is an error wrapping fs.ErrNotExist, for the caller to make
// it. l.mu must be held.
func (l *FileLock) linkRegistration(dir, name string) error {
	d, err := l.enterReadersDir(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if l.cfg.test.registering != nil {
		l.cfg.test.registering(dir)
	}
	return l.linkIn(d, name)
}

// enterReadersDir opens and judges the readers' directory before this
// reader links its registration into it: the directory, when it may;
// errReadersDirChanged when it removed an empty directory it could not
// trust; or why it may not register there (fs.ErrNotExist when there is no
// directory yet). l.mu must be held.
func (l *FileLock) enterReadersDir(dir string) (*os.File, error) {
	d, err := openDir(dir)
	switch {
	case isStale(err):
		return nil, fmt.Errorf("%w: %w", fs.ErrNotExist, err)
	case errors.Is(err, errNotDir):
		return nil, notReadersDir(dir)
	case err != nil:
		return nil, err
	}
	fi, err := d.Stat()
	if err == nil {
		err = l.trustReadersDir(dir, fi)
	}
	var u *untrustedDir
	if errors.As(err, &u) && l.clearUntrusted(dir) {
		l.debug("removed a readers' directory that others could change", "dir", dir, "why", u.why)
		err = errReadersDirChanged
	}
	if err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// clearUntrusted removes the readers' directory dir, which this reader may
// not trust, where it may: first the registrations of dead readers in it,
// debris that any writer or sweep removes (rlock.go, step 4), then the
// directory once empty. A live reader's registration, or a file that is no
// registration, stays, and so does the directory; so do those this user may
// not remove (another user's, in a sticky directory). It reports whether
// the directory is gone. l.mu must be held.
func (l *FileLock) clearUntrusted(dir string) bool {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range entries {
		if h, err := l.lookReader(dir, e.Name()); err == nil && h.stale() {
			os.Remove(h.path) // if it may not, the rmdir below fails too
		}
	}
	return rmdir(dir) == nil
}

// confirmRegistered, after the link of this reader's registration name,
// judges the readers' directory there now, and makes sure the registration
// is in it; otherwise it takes the registration out again, if it can, and
// returns errReadersDirChanged, for the caller to look again. (Judging
// again, rather than comparing with what enterReadersDir saw, also catches
// a directory removed and another user's made in its place with the same
// inode number.) l.mu must be held.
func (l *FileLock) confirmRegistered(dir, name string) error {
	fi, err := os.Lstat(dir)
	if err == nil && l.trustReadersDir(dir, fi) == nil && owned(name, l.tok) == nil {
		return nil
	}
	return errors.Join(errReadersDirChanged, undo(name, l.tok))
}

// trustReadersDir reports whether a registration in the readers' directory
// dir (fi: its lstat) is safe from the users this reader does not trust
// (see above): nil, or why not. It gives the sticky bit to a directory of
// ours that lacks it. l.mu must be held.
func (l *FileLock) trustReadersDir(dir string, fi fs.FileInfo) error {
	if !fi.IsDir() {
		return notReadersDir(dir)
	}
	owner, ok := fsx.Owner(fi)
	if !ok {
		return nil // no owners here: nothing to check
	}
	me := l.ownID()
	if owner != me && owner != 0 && !l.lockDirLets(owner) {
		return &untrustedDir{dir: dir, fi: fi, why: "who could remove this reader's registration " +
			"and let a writer in beside it"}
	}
	if fi.Mode().Perm()&0o022 == 0 || fi.Mode()&fs.ModeSticky != 0 {
		return nil
	}
	if owner == me {
		return chmodDir(dir, fi.Mode().Perm()|fs.ModeSticky)
	}
	return &untrustedDir{dir: dir, fi: fi, why: fmt.Sprintf("and its mode %v lets other users "+
		"remove this reader's registration (it lacks the sticky bit)", fi.Mode().Perm())}
}

// ownID is the user id that files of this process get here: our token's
// owner, which is not this process's user where the file system maps ids
// (an NFS export that squashes root, a FUSE file system that maps owners),
// or else this process's user.
func (l *FileLock) ownID() int {
	if uid, ok := fsx.Owner(l.tok.fi); ok {
		return uid
	}
	return os.Geteuid()
}

// lockDirLets reports whether the owner of the readers' directory could
// remove our files in the lock's directory in any case: it owns the lock's
// directory, or that has no sticky bit (see above).
func (l *FileLock) lockDirLets(owner int) bool {
	fi, err := os.Stat(filepath.Dir(l.abs))
	if err != nil {
		return false
	}
	dirOwner, ok := fsx.Owner(fi)
	return ok && dirOwner == owner || fi.Mode()&fs.ModeSticky == 0
}

// untrustedDir is the error of a readers' directory a reader may not
// register in.
type untrustedDir struct {
	dir string
	fi  fs.FileInfo
	why string
}

func (e *untrustedDir) Error() string {
	return fmt.Sprintf("the directory of the shared lock's readers %s belongs to %s, %s; it was left "+
		"untouched: wait until its readers have left and their last Close removed it, have %s "+
		"remove it, or lock another path", e.dir, ownerOf(e.fi), e.why, removers(e.fi))
}

// Unwrap makes the error an fs.ErrPermission for errors.Is.
func (e *untrustedDir) Unwrap() error { return fs.ErrPermission }

// notRemovable is the error of a dead reader's registration, at path, that
// this user may not remove (err: the removal's error): in the sticky
// readers' directory only its owner, the directory's owner and root may.
func notRemovable(path string, err error) error {
	fi, lerr := os.Lstat(path)
	if lerr != nil {
		return fmt.Errorf("removing a dead reader's registration: %w", err)
	}
	return fmt.Errorf("the registration %s of a dead reader belongs to %s, and this user may not remove it (%w): "+
		"%s must remove it (openlock clean), or lock another path", path, ownerOf(fi), err, removers(fi))
}
