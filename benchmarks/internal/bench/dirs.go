package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// SharedDir makes a new directory (named by pattern, as os.MkdirTemp) in
// dirs[0] and returns its path through each of dirs, which are paths to one
// directory: one path, or the mounts of one network volume, each its own
// client, as different hosts would have them. Remove it through the first
// path.
func SharedDir(dirs []string, pattern string) ([]string, error) {
	if len(dirs) == 0 {
		dirs = []string{os.TempDir()}
	}
	d, err := os.MkdirTemp(dirs[0], pattern)
	if err != nil {
		return nil, err
	}
	paths := []string{d}
	for _, root := range dirs[1:] {
		p := filepath.Join(root, filepath.Base(d))
		if err := awaitDir(p, time.Minute); err != nil {
			os.RemoveAll(d)
			return nil, err
		}
		paths = append(paths, p)
	}
	return paths, nil
}

// awaitDir waits until dir, made through another path, can be seen: another
// client may answer "no such file" from its cache for a while. Setup only,
// so a bounded poll does.
func awaitDir(dir string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		fi, err := os.Stat(dir)
		if err == nil && fi.IsDir() {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s never became visible (%v): are the -dir paths one directory?", dir, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// pathOf returns the path worker i (from 0) uses among paths: they take
// turns.
func pathOf(paths []string, i int) string { return paths[i%len(paths)] }
