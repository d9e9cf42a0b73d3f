package fsx

import (
	"os"
	"time"
)

// Windows refuses to remove, rename or open a file while another process
// holds a handle on it that does not share that access (package os's own
// handles share no deletion, nor do many other programs', a virus scanner's
// for one). Such a refusal lasts as long as the other process's read, so
// it is retried a bounded number of times, backing off, before it is
// returned: about a quarter of a second in all, short beside any lock's
// retry period, so a caller's deadline is kept. Elsewhere busy is never
// true and each operation is tried once.

// retryWaits are the pauses between the tries of Retry.
var retryWaits = []time.Duration{
	time.Millisecond, 2 * time.Millisecond, 4 * time.Millisecond, 8 * time.Millisecond,
	16 * time.Millisecond, 32 * time.Millisecond, 64 * time.Millisecond, 128 * time.Millisecond,
}

// retried, if set (by tests), is called before each retry with the error
// that caused it.
var retried func(error)

// Retry calls op until it returns an error that is not a sharing
// violation (busy, per OS) or it has been retried len(retryWaits) times,
// and returns its last error.
func Retry(op func() error) error {
	err := op()
	for _, wait := range retryWaits {
		if err == nil || !busy(err) {
			return err
		}
		if retried != nil {
			retried(err)
		}
		time.Sleep(wait)
		err = op()
	}
	return err
}

// Remove is os.Remove (with POSIX semantics on Windows, posix_windows.go),
// retried while another process's handle keeps the
// file from being removed (see Retry).
func Remove(path string) error { return Retry(func() error { return removeFile(path) }) }

// Rename is os.Rename, replacing newpath (with POSIX semantics on Windows),
// retried while another process's
// handle keeps either file from being renamed or replaced (see Retry).
func Rename(oldpath, newpath string) error {
	return Retry(func() error { return renameFile(oldpath, newpath) })
}

// RemoveVia removes path so that its name is free when it returns. Where
// Windows cannot delete POSIX-style (posix_windows.go), a file that
// another process has open stays "delete pending" after its removal, its
// name still taken, a link onto it refused, an lstat of it answered, until
// that process closes it. There path is first renamed to via, a name of
// the caller's in the same directory, which frees path at once, and via is
// removed then. A caller that dies in between leaves via behind: it must be
// a name its debris sweep knows. Elsewhere RemoveVia is Remove.
func RemoveVia(path, via string) error {
	return Retry(func() error { return removeVia(path, via) })
}

// ReadDir is os.ReadDir, retried while another process's handle keeps the
// directory from being opened (a removal of it under way; see Retry).
func ReadDir(dir string) ([]os.DirEntry, error) {
	var entries []os.DirEntry
	err := Retry(func() (err error) {
		entries, err = os.ReadDir(dir)
		return err
	})
	return entries, err
}
