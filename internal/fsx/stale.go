package fsx

import (
	"errors"
	"io/fs"
	"os"
)

// ErrNoListing: this OS gives no directory listing with inode numbers.
var ErrNoListing = errors.New("directory listings with inode numbers are not available on this OS")

// A staleError is what an ESTALE from the file system becomes. A network
// client looked a name up in its cache and found that the file it named
// there was replaced or removed by another client: the name no longer holds
// the file the caller knew, and looking again shows what it holds now. So
// it satisfies errors.Is with the error (as) that sends its caller to look
// again.
type staleError struct {
	err error
	as  error
}

func (e staleError) Error() string {
	return e.err.Error() + " (changed by another client of the file system)"
}
func (e staleError) Unwrap() error        { return e.err }
func (e staleError) Is(target error) bool { return target == e.as }

// Restale returns err, wrapped to satisfy errors.Is(err, fs.ErrNotExist) if
// it is an ESTALE: for a reader, the file as it knew it is gone.
func Restale(err error) error {
	if err != nil && isStale(err) {
		return staleError{err, fs.ErrNotExist}
	}
	return err
}

// Link is os.Link, with its error classified by LinkResult.
func Link(oldname, newname string) error {
	return LinkResult(os.Link(oldname, newname), newname)
}

// LinkResult classifies err, the result of a link(2) onto newname, for a
// caller that goes on to look at newname:
//   - an ESTALE satisfies errors.Is(err, fs.ErrExist): the caller looks at
//     newname again, as when the name exists, and sees what is there now;
//   - a failure that NoHardLinks takes for "no hard links here" satisfies
//     errors.Is(err, fs.ErrExist) too while newname exists: some file
//     systems (sshfs) answer a link onto an existing name with EPERM, which
//     means busy there. Only where the name does not exist does it mean
//     that the file system cannot link.
func LinkResult(err error, newname string) error {
	switch {
	case err == nil:
		return nil
	case isStale(err):
		return staleError{err, fs.ErrExist}
	case NoHardLinks(err):
		if _, serr := os.Lstat(newname); serr == nil {
			return existsError{err}
		}
	}
	return err
}

// An existsError is a link's failure that NoHardLinks would take for "no
// hard links here", onto a name that exists: it means the name is taken.
type existsError struct{ err error }

func (e existsError) Error() string {
	return e.err.Error() + " (the name exists: taken, not a file system without hard links)"
}
func (e existsError) Unwrap() error        { return e.err }
func (e existsError) Is(target error) bool { return target == fs.ErrExist }
