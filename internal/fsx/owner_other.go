//go:build !unix

package fsx

import "io/fs"

// Owner returns false: files here have no user id.
func Owner(fs.FileInfo) (uid int, ok bool) { return 0, false }

// Protected returns false: there is no sticky bit here.
func Protected(string, fs.FileInfo) bool { return false }
