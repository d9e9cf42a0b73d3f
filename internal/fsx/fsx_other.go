//go:build !unix && !windows

package fsx

import "os"

const openFlags = os.O_RDONLY

func isSymlinkLoop(error) bool { return false }

// noHardLinks reports false: this OS gives no portable way to tell.
func noHardLinks(error) bool { return false }
