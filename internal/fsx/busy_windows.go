package fsx

import (
	"errors"

	"golang.org/x/sys/windows"
)

// busy reports whether err is Windows refusing an access because another
// handle on the file does not share it: a sharing or lock violation, or the
// access denied that a rename onto, or a removal of, a file in use (or
// pending deletion) gets. A real lack of permission is retried too, and
// returned after the bounded retries.
func busy(err error) bool {
	return errors.Is(err, windows.ERROR_SHARING_VIOLATION) ||
		errors.Is(err, windows.ERROR_LOCK_VIOLATION) ||
		errors.Is(err, windows.ERROR_ACCESS_DENIED)
}
