package openlock

import "errors"

// The sentinel errors. Every error a FileLock method returns is an *Error
// naming the operation and the lock path; errors.Is finds these inside it.
var (
	// ErrTimeout: Lock gave up at its deadline. Such an error also satisfies
	// errors.Is(err, context.DeadlineExceeded).
	ErrTimeout = errors.New("timed out waiting for the lock")
	// ErrNotHeld: Unlock of a lock this FileLock does not hold.
	ErrNotHeld = errors.New("lock not held")
	// ErrLockLost: Unlock found that the lock file is no longer the one this
	// FileLock put there (removed by hand, or taken over); nothing was deleted.
	ErrLockLost = errors.New("lock lost: the lock file was removed or replaced")
	// ErrInvalidLockFile: the lock file names no holder. Owner returns it for
	// an empty lock file (stale: the next Lock takes it over); in Fischer
	// mode, Lock returns it when no valid lock file could be written within
	// the configured number of tries.
	ErrInvalidLockFile = errors.New("unable to obtain a valid lock file")
	// ErrSlowSystem: in Fischer mode with WithSlowSystemError(true), writing
	// the lock file took more than 2/3 of the race delay.
	ErrSlowSystem = errors.New("slow system: the race window exceeded 2/3 of the race delay")
	// ErrInvalidOption: an option was given a value it cannot take.
	ErrInvalidOption = errors.New("invalid option")
	// ErrNotLockFile: the lock path (or a claim path) is a directory, a
	// symlink, a device, a file larger than 4 KiB, or a file that holds
	// anything but a lock record or nothing at all: a user's data, perhaps,
	// so it is left untouched, never taken over or removed.
	ErrNotLockFile = errors.New("not a lock file")
	// ErrNoHardLinks: the file system of the lock directory cannot make hard
	// links, on which this lock's atomic steps rely.
	ErrNoHardLinks = errors.New("file system does not support hard links")
)

// Error records a failed lock operation, the lock path and the cause.
type Error struct {
	Op   string // "lock", "trylock", "unlock", "close", "locked", "owner", "new"
	Path string // the lock file
	Err  error  // the cause; it wraps the sentinels above and fs errors
}

func (e *Error) Error() string { return "openlock: " + e.Op + " " + e.Path + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

func wrap(op, path string, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Op: op, Path: path, Err: err}
}
