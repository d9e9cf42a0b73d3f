package protocol

import (
	"errors"
	"io/fs"
)

// Fischer mode (openlock's WithTakeover(Fischer), the Python openlock's
// takeover): overwrite the stale lock file with our token (Overwrite),
// pause the race delay, look again (AfterOverwrite): still ours means
// held. It is Fischer's timed mutual exclusion, safe only if every process
// completes its write within the race delay of observing the stale file:
// a process paused longer than that between its look and its write
// overwrites the lock of the process that won meanwhile. (The checker
// keeps that failure caught.)

// Overwrite puts our token at the lock path atomically, over whatever is
// there: a second link of the token, at tmp, renamed over the lock file.
// linked reports whether the link was made; an error before it is the
// link's, for the caller to explain.
func Overwrite(fsys FS, lock, tmp string, tok Token) (linked bool, err error) {
	fsys.Remove(tmp) // left by an earlier failed overwrite of ours, if any
	if err := fsys.Link(tok.Path, tmp); err != nil {
		return false, err
	}
	if err := fsys.Rename(tmp, lock); err != nil {
		fsys.Remove(tmp)
		return true, err
	}
	return true, nil
}

// A FischerNext is what the look after the race delay tells.
type FischerNext int

const (
	// FischerHeld: the lock file is still ours: we hold the lock.
	FischerHeld FischerNext = iota
	// FischerLost: it is gone (the caller starts over with a take), or
	// holds another process's record (it won the race).
	FischerLost
	// FischerEmptied: it was emptied again: overwrite again.
	FischerEmptied
	// FischerLookFailed: the look failed; the caller reports its error.
	FischerLookFailed
)

// AfterOverwrite decides, from the look at the lock file after the race
// delay (the file found, or the look's error), whether the overwrite won.
func AfterOverwrite(fsys FS, tok Token, cur File, lookErr error) FischerNext {
	switch {
	case errors.Is(lookErr, fs.ErrNotExist):
		return FischerLost
	case lookErr != nil:
		return FischerLookFailed
	case cur.Info != nil && fsys.SameFile(cur.Info, tok.Info):
		return FischerHeld
	case cur.Info != nil && len(cur.Data) == 0:
		return FischerEmptied
	}
	return FischerLost
}
