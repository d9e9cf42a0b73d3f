package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Uncontended returns the mean time of one Cycle of library lib on a lock
// file in dir, over ops cycles, after a few to warm up.
func Uncontended(lib, dir string, ops int) (time.Duration, error) {
	m, err := Open(lib, filepath.Join(dir, "uncontended-"+lib+".lock"))
	if err != nil {
		return 0, err
	}
	defer m.Close()
	for range 10 {
		if err := Cycle(m); err != nil {
			return 0, fmt.Errorf("%s: %w", lib, err)
		}
	}
	t0 := time.Now()
	for range ops {
		if err := Cycle(m); err != nil {
			return 0, fmt.Errorf("%s: %w", lib, err)
		}
	}
	return time.Since(t0) / time.Duration(ops), nil
}

// RemoveLockFiles removes what the uncontended cycles leave behind (flock
// leaves its lock file by design).
func RemoveLockFiles(dir string) {
	files, _ := filepath.Glob(filepath.Join(dir, "uncontended-*.lock"))
	for _, f := range files {
		os.Remove(f)
	}
}
