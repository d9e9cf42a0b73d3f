package openlock

import (
	"errors"
	"io/fs"
	"os"
	"time"

	"github.com/openlock/openlock/fileformat"
	"github.com/openlock/openlock/internal/fsx"
	"github.com/openlock/openlock/internal/protocol"
)

// sysFS is the file system of internal/protocol as this package runs it:
// the system calls, with this FileLock's checks of what a link of its
// token made (link). Its zero value (no FileLock) serves the pure methods.
type sysFS struct{ l *FileLock }

// errNotOurToken: the protocol asked to link a file other than our token,
// which it never does.
var errNotOurToken = errors.New("openlock: the protocol links only this FileLock's token")

// Link links our token (oldname) to newname, checked as link checks it.
func (f sysFS) Link(oldname, newname string) error {
	if f.l.tok == nil || oldname != f.l.tok.path {
		return &os.LinkError{Op: "link", Old: oldname, New: newname, Err: errNotOurToken}
	}
	return f.l.link(newname)
}

func (sysFS) Rename(oldname, newname string) error   { return renameOver(oldname, newname) }
func (sysFS) Remove(name string) error               { return fsx.Remove(name) }
func (sysFS) Lstat(name string) (fs.FileInfo, error) { return os.Lstat(name) }
func (sysFS) SameFile(a, b fs.FileInfo) bool         { return os.SameFile(a, b) }
func (sysFS) ChangeTime(fi fs.FileInfo) time.Time    { return fsx.ChangeTime(fi) }
func (sysFS) Now() time.Time                         { return time.Now() }

func (sysFS) ReadSmall(name string) ([]byte, fs.FileInfo, error) {
	return fsx.ReadSmall(name, fileformat.MaxSize)
}

// looker is the protocol's Looker: look, and its verdict. A file this user
// may not read is reported with the error, never stale.
type looker struct{ l *FileLock }

func (k looker) Look(path string) (protocol.File, error) {
	h, err := k.l.look(path)
	if errors.Is(err, fs.ErrPermission) {
		return unreadable(path, err).file(), err
	}
	if err != nil {
		return protocol.File{Path: path}, err
	}
	return h.file(), nil
}

// file is h as the protocol sees it.
func (h *holder) file() protocol.File {
	var id string
	if h.fi != nil {
		id = h.id()
	}
	return protocol.File{Path: h.path, Info: h.fi, Data: h.data, Stale: h.stale(), ID: id, Who: h}
}

// protocol is t as the protocol sees it.
func (t *token) protocol() protocol.Token {
	return protocol.Token{Path: t.path, Info: t.fi, Data: t.data}
}
