package protocol

import (
	"errors"
	"io/fs"
)

// A Next is what a link of our token onto the lock path (Take) and the
// look at the lock file after it tell the caller to do next.
type Next int

const (
	// Held: the link took effect, though it may have reported an error
	// (a lost reply on a network file system): we hold the lock.
	Held Next = iota
	// Vanished: the link found the name taken, and the look found no
	// file: released in between, or hidden from the look by a cache.
	// Pause, then try again.
	Vanished
	// LinkFailed: the link failed for another reason than an existing
	// name (our token removed, no hard links here): the caller explains
	// the link's error, and may try again if it made a new token.
	LinkFailed
	// Unreadable: this user may not read the lock file: held, as far as
	// we can tell.
	Unreadable
	// LookFailed: the look failed; the caller reports its error.
	LookFailed
	// Busy: a live holder (or one we cannot judge) holds the lock.
	Busy
	// TakeOver: the lock file is stale: take it over (Takeover).
	TakeOver
)

// AfterTake decides what follows a Take that failed with linkErr, from
// the look at the lock file after it: its error, and the file found.
func AfterTake(fsys FS, tok Token, linkErr error, f File, lookErr error) Next {
	switch {
	case linkErr == nil:
		return Held
	case errors.Is(lookErr, fs.ErrNotExist):
		if errors.Is(linkErr, fs.ErrExist) {
			return Vanished
		}
		return LinkFailed
	case errors.Is(lookErr, fs.ErrPermission):
		return Unreadable
	case lookErr != nil:
		return LookFailed
	case f.Info != nil && fsys.SameFile(f.Info, tok.Info):
		return Held
	case !errors.Is(linkErr, fs.ErrExist):
		return LinkFailed
	case !f.Stale:
		return Busy
	}
	return TakeOver
}
