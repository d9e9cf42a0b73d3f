package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gofrs/flock"
	"github.com/openlock/openlock"
)

// An RMutex is the shared side of a lock with a shared mode: openlock's
// RLock and RUnlock, or gofrs/flock's RLock (flock(2) with LOCK_SH) and
// Unlock.
type RMutex interface {
	RLock(ctx context.Context) error
	RUnlock() error
	Close() error
}

// OpenShared returns the shared side of library lib's lock on path.
func OpenShared(lib, path string) (RMutex, error) {
	switch lib {
	case Openlock:
		return openlock.New(path)
	case Flock:
		return flockShared{flock.New(path)}, nil
	}
	return nil, fmt.Errorf("library %q has no shared lock", lib)
}

type flockShared struct{ f *flock.Flock }

func (m flockShared) RLock(context.Context) error { return m.f.RLock() }
func (m flockShared) RUnlock() error              { return m.f.Unlock() }
func (m flockShared) Close() error                { return m.f.Close() }

// RCycle takes the shared lock of m and releases it once.
func RCycle(m RMutex) error {
	if err := m.RLock(context.Background()); err != nil {
		return err
	}
	return m.RUnlock()
}

// UncontendedShared returns the mean time of one RCycle of library lib on a
// lock file in dir, over ops cycles, after a few to warm up.
func UncontendedShared(lib, dir string, ops int) (time.Duration, error) {
	m, err := OpenShared(lib, filepath.Join(dir, "shared-"+lib+".lock"))
	if err != nil {
		return 0, err
	}
	defer m.Close()
	for range 10 {
		if err := RCycle(m); err != nil {
			return 0, fmt.Errorf("%s: %w", lib, err)
		}
	}
	t0 := time.Now()
	for range ops {
		if err := RCycle(m); err != nil {
			return 0, fmt.Errorf("%s: %w", lib, err)
		}
	}
	return time.Since(t0) / time.Duration(ops), nil
}

// ReadersConfig describes the reader-throughput measurement: Procs
// processes take and release the shared lock of one lock file, as fast as
// they can, for For, all starting together.
type ReadersConfig struct {
	Lib     string
	Dir     string
	Procs   int
	For     time.Duration
	Timeout time.Duration
}

// Readers returns the read acquisitions per second of all the processes
// together.
func Readers(cfg ReadersConfig) (float64, error) {
	dir, err := os.MkdirTemp(cfg.Dir, "readers-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	s := Spec{Lib: cfg.Lib, Lock: filepath.Join(dir, "readers.lock"), Wait: cfg.For, Limit: cfg.For + cfg.Timeout}
	var g group
	defer func() { g.stop() }()
	for range cfg.Procs {
		c, err := start("reader", s)
		if err != nil {
			return 0, err
		}
		g = append(g, c)
	}
	for _, c := range g {
		if _, err := c.expect("ready", cfg.Timeout); err != nil {
			return 0, err
		}
	}
	for _, c := range g {
		if err := c.Send("go"); err != nil {
			return 0, err
		}
	}
	total := 0
	for _, c := range g {
		var n int
		if err := c.result(&n, cfg.For+cfg.Timeout); err != nil {
			return 0, err
		}
		total += n
	}
	for _, c := range g {
		if err := c.Wait(cfg.Timeout); err != nil {
			return 0, err
		}
	}
	names, err := os.ReadDir(dir)
	if err == nil && len(names) > 0 && cfg.Lib == Openlock {
		var left []string
		for _, e := range names {
			left = append(left, e.Name())
		}
		return 0, fmt.Errorf("readers left %s behind", strings.Join(left, ", "))
	}
	return float64(total) / cfg.For.Seconds(), nil
}

// roleReader opens the shared lock, says "ready", waits for a line on
// stdin, then cycles RLock+RUnlock for s.Wait and reports how many it made.
func roleReader(s Spec) error {
	m, err := OpenShared(s.Lib, s.Lock)
	if err != nil {
		return err
	}
	defer m.Close()
	if err := RCycle(m); err != nil { // the first cycle makes openlock's token
		return err
	}
	fmt.Println("ready")
	var line [8]byte
	if _, err := os.Stdin.Read(line[:]); err != nil {
		return err
	}
	n := 0
	for end := time.Now().Add(s.Wait); time.Now().Before(end); n++ {
		if err := RCycle(m); err != nil {
			return err
		}
	}
	return printResult(n)
}
