//go:build unix

package fsx

import (
	"errors"
	"syscall"
)

func isStale(err error) bool { return errors.Is(err, syscall.ESTALE) }
