//go:build !linux

package fsx

import (
	"os"
	"time"
)

// FreshChangeTime returns the inode number and change time of the file at
// path (not following a symlink). Outside Linux it cannot ask past this
// client's attribute cache.
func FreshChangeTime(path string) (uint64, time.Time, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return 0, time.Time{}, Restale(err)
	}
	ino, _ := Ino(fi)
	return ino, ChangeTime(fi), nil
}
