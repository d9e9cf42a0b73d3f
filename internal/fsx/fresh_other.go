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
	fi, ino, err := lstatIno(path)
	if err != nil {
		return 0, time.Time{}, err
	}
	return ino, ChangeTime(fi), nil
}

// FreshModTime is FreshChangeTime for the modification time.
func FreshModTime(path string) (uint64, time.Time, error) {
	fi, ino, err := lstatIno(path)
	if err != nil {
		return 0, time.Time{}, err
	}
	return ino, fi.ModTime(), nil
}

func lstatIno(path string) (os.FileInfo, uint64, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, 0, Restale(err)
	}
	ino, _ := Ino(fi)
	return fi, ino, nil
}
