package bench

import (
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"time"
)

// Load is background load for the race window: a CPU hog per core and a
// process that writes and fsyncs in a loop, in the directory of the locks.
type Load struct{ g group }

// StartLoad starts the load; its processes live at most limit.
func StartLoad(dir string, limit time.Duration) (*Load, error) {
	var g group
	for range runtime.NumCPU() {
		c, err := start("hog", Spec{Limit: limit})
		if err != nil {
			g.stop()
			return nil, err
		}
		g = append(g, c)
	}
	c, err := start("fsync", Spec{Dir: dir, Limit: limit})
	if err != nil {
		g.stop()
		return nil, err
	}
	return &Load{append(g, c)}, nil
}

// Stop ends the load.
func (l *Load) Stop() { l.g.stop() }

// Pause stops the load's processes (SIGSTOP) until Resume (SIGCONT), so
// that idle and loaded runs can take turns.
func (l *Load) Pause() error { return l.g.signal(syscall.SIGSTOP) }

// Resume lets paused load run again.
func (l *Load) Resume() error { return l.g.signal(syscall.SIGCONT) }

// roleHog spins on one core until killed.
func roleHog(Spec) error {
	runtime.GOMAXPROCS(1)
	var x uint64
	for {
		x = x*6364136223846793005 + 1442695040888963407
		if x == 0 {
			println() // never: keeps the loop from being optimized away
		}
	}
}

// roleFsync writes 64 KiB blocks over a 16 MiB file in s.Dir, each followed
// by fsync, until killed.
func roleFsync(s Spec) error {
	path := filepath.Join(s.Dir, "fsync-load.tmp")
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer os.Remove(path)
	buf := make([]byte, 64<<10)
	for i := 0; ; i = (i + 1) % 256 {
		buf[0]++
		if _, err := f.WriteAt(buf, int64(i)*int64(len(buf))); err != nil {
			return err
		}
		if err := f.Sync(); err != nil {
			return err
		}
	}
}
