package protocol

import (
	"bytes"
	"errors"
	"io/fs"
)

var (
	// ErrGone: the file is no longer at its name.
	ErrGone = errors.New("the file is gone")
	// ErrNotToken: the file at the name is not our token's, or no longer
	// holds its record.
	ErrNotToken = errors.New("the file is not our token's")
)

// Take links our token onto the lock path: the take of a free lock, which
// the file system grants to one process.
func Take(fsys FS, lock string, tok Token) error {
	return fsys.Link(tok.Path, lock)
}

// Owned reports whether the file at name is ours: tok's inode, holding
// tok's record (another program may have rewritten it in place). It
// returns nil, ErrGone, ErrNotToken or an I/O error, which proves nothing
// either way.
func Owned(fsys FS, name string, tok Token) error {
	fi, err := fsys.Lstat(name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return ErrGone
	case err != nil:
		return err
	case !fsys.SameFile(fi, tok.Info):
		return ErrNotToken
	}
	data, fi, err := fsys.ReadSmall(name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return ErrGone
	case err != nil:
		return err
	case !fsys.SameFile(fi, tok.Info) || !bytes.Equal(data, tok.Data):
		return ErrNotToken
	}
	return nil
}

// Undo removes the file at name if it is ours (Owned), so that a failed
// takeover or acquisition leaves nothing of ours behind and nothing of
// anyone else's removed.
func Undo(fsys FS, name string, tok Token) error {
	if Owned(fsys, name, tok) != nil {
		return nil
	}
	if err := fsys.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
