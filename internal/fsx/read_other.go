//go:build !linux

package fsx

import "io/fs"

// readRegular reads the regular file that lstat described as fi.
func readRegular(path string, _ fs.FileInfo, max int64) ([]byte, fs.FileInfo, error) {
	return readFile(path, max)
}
