package bench

import (
	"fmt"
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
