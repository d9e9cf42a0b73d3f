//go:build !linux

package fsx

import (
	"os"
	"time"
)

// FreshChangeTime returns the change time of the file at path (not
// following a symlink). Outside Linux it cannot ask past this client's
// attribute cache.
func FreshChangeTime(path string) (time.Time, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return time.Time{}, Restale(err)
	}
	return ChangeTime(fi), nil
}
