//go:build !unix && !windows

package fsx

import "os"

const openFlags = os.O_RDONLY

func isSymlinkLoop(error) bool { return false }

// NoHardLinks reports false: this OS gives no portable way to tell.
func NoHardLinks(error) bool { return false }
