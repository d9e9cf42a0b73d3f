package reexec

import (
	"errors"
	"syscall"

	"github.com/openlock/openlock/internal/fsx"
)

// startPasses reports whether err, a failed start of a process, may pass
// if the start is made again: under Wine, CreateProcess now and then fails
// with ERROR_INTERNAL_ERROR when many processes start at once (a Wine gap;
// Windows does not fail so).
func startPasses(err error) bool {
	const errorInternalError = syscall.Errno(1359)
	return fsx.Wine() && errors.Is(err, errorInternalError)
}
