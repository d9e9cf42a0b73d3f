//go:build !unix && !windows

package fsx

import "os"

const openFlags = os.O_RDONLY

// openRead opens path for reading with package os.
func openRead(path string) (*os.File, error) { return os.OpenFile(path, openFlags, 0) }

func isSymlinkLoop(error) bool { return false }

// noHardLinks reports false: this OS gives no portable way to tell.
func noHardLinks(error) bool { return false }
