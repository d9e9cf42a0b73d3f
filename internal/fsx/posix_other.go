//go:build !windows

package fsx

import "os"

// Outside Windows, package os's remove and rename already have POSIX
// semantics.
var (
	removeFile = os.Remove
	renameFile = os.Rename
)

func removeVia(path, _ string) error { return os.Remove(path) }
