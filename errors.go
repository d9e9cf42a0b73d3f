package openlock

import "errors"

// The sentinel errors. Every error a FileLock method returns is an *Error
// naming the operation and the lock path; errors.Is finds these inside it.
var (
	// ErrTimeout: Lock or LockContext gave up at its deadline (the context's,
	// or the FileLock's Timeout). Such an error also satisfies
	// errors.Is(err, context.DeadlineExceeded).
	ErrTimeout = errors.New("timed out waiting for the lock")
	// ErrNotHeld: Unlock or Fence of a lock this FileLock does not hold.
	ErrNotHeld = errors.New("lock not held")
	// ErrLockLost: the lock file is no longer the one this FileLock put there:
	// it was removed (by hand), replaced by a process that judged this one
	// dead or its lease expired, or rewritten in place by another program
	// (the same file, another content). Unlock and Close return it, and then
	// delete nothing; it is also the cause of the context LockContext returned
	// (context.Cause), noticed while the lock was held.
	ErrLockLost = errors.New("lock lost")
	// ErrInvalidLockFile: the lock file names no holder. Owner returns it for
	// an empty lock file (stale: the next Lock takes it over); in Fischer
	// mode, Lock and TryLock return it when the lock file was still empty
	// after the configured number of tries (WithTries) to write it.
	ErrInvalidLockFile = errors.New("invalid lock file")
	// ErrSlowSystem: in Fischer mode with WithSlowSystemError(true), writing
	// the lock file took more than 2/3 of the race delay.
	ErrSlowSystem = errors.New("slow system: the race window exceeded 2/3 of the race delay")
	// ErrInvalidOption: an option was given a value it cannot take (New,
	// SetDefaults), or Fence was called without WithFencing.
	ErrInvalidOption = errors.New("invalid option")
	// ErrNotLockFile: the lock path (or a claim path) is a directory, a
	// symlink, a device, a file larger than 4 KiB, or a file that holds
	// anything but a lock record or nothing at all: a user's data, perhaps,
	// so it is left untouched, never taken over or removed. On a file system
	// not known to be local, content that does not end in a newline (as a
	// record cut short) counts as held for CacheTime first: a network or
	// FUSE client may cut a read of a lock file replaced under the same
	// name.
	ErrNotLockFile = errors.New("not a lock file")
	// ErrNoHardLinks: the file system of the lock directory cannot make hard
	// links, on which this lock's atomic steps rely.
	ErrNoHardLinks = errors.New("file system does not support hard links")
	// ErrForeignStale: the lock is stale (its holder is dead), but its lock
	// file belongs to another user and this user may not replace it: in a
	// directory with the sticky bit (as /tmp), only the file's owner, the
	// directory's owner and root may. Lock and TryLock return it at once,
	// as only they can free the lock; the message names the file's owner.
	// Such an error also satisfies errors.Is(err, fs.ErrPermission). (A lock
	// file this user may not read is held for it, never stale: its holder
	// cannot be judged. Lock waits, and the messages name its owner.)
	ErrForeignStale = errors.New("stale lock file of another user")
	// ErrNameTooLong: New refuses a lock file whose base name leaves no room
	// for the suffixes of its helper files within a file name's 255 bytes:
	// at most MaxNameLen bytes.
	ErrNameTooLong = errors.New("lock file name too long")
)

// Error records a failed lock operation, the lock path and the cause.
type Error struct {
	// Op is the method that failed, in lower case: "new", "lock",
	// "trylock", "unlock", "close", "locked", "owner", "fence", "clean";
	// "lockcontext" for the cause of a LockContext's context when the lock
	// was lost.
	Op   string
	Path string // the lock file, as given to New
	Err  error  // the cause; it wraps the sentinels above and fs errors
}

func (e *Error) Error() string { return "openlock: " + e.Op + " " + e.Path + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// wrap makes err an *Error of op on path. An *Error already (a method that
// calls another, as Clean calls TryLock) is returned as it is, so that no
// message says "openlock:" twice.
func wrap(op, path string, err error) error {
	if err == nil {
		return nil
	}
	if e, ok := err.(*Error); ok {
		return e
	}
	return &Error{Op: op, Path: path, Err: err}
}
