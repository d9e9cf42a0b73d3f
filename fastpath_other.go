//go:build !linux

package openlock

import "github.com/openlock/openlock/internal/fsx"

// Elsewhere the uncontended path goes through package os (fastpath_linux.go
// says what Linux does instead).

// fileID is Linux's (fastpath_linux.go).
type fileID struct{}

func prepareFast(*token)             {}
func cpath(string) *byte             { return nil }
func (l *FileLock) linkLock() error  { return l.link(l.abs) }
func (l *FileLock) ownedLock() error { return owned(l.abs, l.tok) }

// removeLock removes the lock path through our tmp name where Windows
// cannot delete POSIX-style (fsx.RemoveVia): a lock file removed while
// another process reads it would otherwise stay "delete pending", its name
// taken, and our own next Lock would take it for ours (an identity
// confirmed) while the next holder's link succeeds once the reader closes:
// two holders. Left behind by a crash, the tmp name is a sweep's debris.
func (l *FileLock) removeLock() error { return fsx.RemoveVia(l.abs, tmpName(l.abs, l.tok.nonce)) }

// renameOver is os.Rename here, through fsx.Rename for Windows's sharing
// violations: syscall.Rename would not replace newname on Windows
// (MoveFile), where os.Rename does.
func renameOver(old, newname string) error { return fsx.Rename(old, newname) }

func (l *FileLock) readersGone() (bool, error) { return readersGoneOS(l.abs) }

// unchanged is Linux's (fastpath_linux.go): false, look again.
func (l *FileLock) unchanged(*holder) bool { return false }
