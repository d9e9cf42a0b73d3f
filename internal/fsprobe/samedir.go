package fsprobe

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// SameDir checks that dirs are paths to one directory: two mounts of one
// network volume, say, which a selftest across them needs. A path that is
// the first's very directory (a symlink, a bind mount) passes at once; one
// that is another directory of the first's file system fails at once.
// Otherwise a file created through the first must be seen, with its
// content, through each other within wait: one mount's cache may hide a new
// name from another for a while, but not for ever. The file is removed.
func SameDir(dirs []string, wait time.Duration) error {
	first, err := os.Stat(dirs[0])
	if err != nil {
		return err
	}
	var others []string // paths that only the probe file can tell
	for _, dir := range dirs[1:] {
		fi, err := os.Stat(dir)
		switch {
		case err != nil:
			return err
		case os.SameFile(first, fi):
		case sameDevice(dirs[0], dir, first, fi):
			return fmt.Errorf("%s and %s are two directories of one file system, not paths to one directory", dirs[0], dir)
		default:
			others = append(others, dir)
		}
	}
	if len(others) == 0 {
		return nil
	}
	return probeSeen(dirs[0], others, wait)
}

// probeSeen creates a file in dir and waits until each of others shows it.
func probeSeen(dir string, others []string, wait time.Duration) error {
	tag := make([]byte, 8)
	rand.Read(tag)
	name := ".openlock-samedir-" + hex.EncodeToString(tag)
	path := filepath.Join(dir, name)
	if err := create(path, name); err != nil {
		return fmt.Errorf("cannot create a file in %s: %w", dir, err)
	}
	defer os.Remove(path)
	deadline := time.Now().Add(wait)
	for _, other := range others {
		for pause := time.Millisecond; ; pause = min(2*pause, 100*time.Millisecond) {
			if b, err := os.ReadFile(filepath.Join(other, name)); err == nil && bytes.Equal(b, []byte(name)) {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s is not a path to the directory %s: a file created there did not appear in it within %v", other, dir, wait)
			}
			time.Sleep(pause)
		}
	}
	return nil
}
