package bench

import (
	"fmt"
	"path/filepath"
	"time"
)

// Uncontended returns the mean time of one Cycle of library lib on a lock
// file in dir, over ops cycles, after a few to warm up.
func Uncontended(lib, dir string, ops int) (time.Duration, error) {
	m, err := OpenWarm(lib, filepath.Join(dir, "uncontended-"+lib+".lock"))
	if err != nil {
		return 0, err
	}
	defer m.Close()
	t0 := time.Now()
	for range ops {
		if err := Cycle(m); err != nil {
			return 0, fmt.Errorf("%s: %w", lib, err)
		}
	}
	return time.Since(t0) / time.Duration(ops), nil
}

// OpenWarm opens a Mutex of library lib on the lock file path and cycles it
// a few times, so that what is measured after leaves out the costs of its
// first use (openlock's token, the first allocations).
func OpenWarm(lib, path string) (Mutex, error) {
	m, err := Open(lib, path)
	if err != nil {
		return nil, err
	}
	for range 10 {
		if err := Cycle(m); err != nil {
			m.Close()
			return nil, fmt.Errorf("%s: %w", lib, err)
		}
	}
	return m, nil
}

// CycleTimes runs n Cycles of m and returns the time of each. Their median
// is the cycle a caller of Lock+Unlock in a loop sees most often, which a
// mean (Uncontended) does not tell: the mean folds in the rare slow cycle
// (a preemption, a page fault, the journal's commit), whose weight differs
// between the libraries.
func CycleTimes(m Mutex, n int) ([]time.Duration, error) {
	d := make([]time.Duration, 0, n)
	for range n {
		t0 := time.Now()
		if err := Cycle(m); err != nil {
			return d, err
		}
		d = append(d, time.Since(t0))
	}
	return d, nil
}
