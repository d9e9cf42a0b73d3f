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

// Link is os.Link, except that an ESTALE satisfies errors.Is(err,
// fs.ErrExist): the caller looks at newname again, as when the name exists,
// and sees what is there now.
func Link(oldname, newname string) error {
	err := os.Link(oldname, newname)
	if err != nil && isStale(err) {
		return staleError{err, fs.ErrExist}
	}
	return err
}
