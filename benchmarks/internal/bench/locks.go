package bench

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/gofrs/flock"
	"github.com/nightlyone/lockfile"
	"github.com/openlock/openlock"
)

// The libraries compared.
const (
	// Openlock is github.com/openlock/openlock: Lock(ctx) and Unlock.
	Openlock = "openlock"
	// Flock is github.com/gofrs/flock, the kernel's flock(2): the blocking
	// Lock and Unlock (which also closes the file).
	Flock = "flock"
	// Nightlyone is github.com/nightlyone/lockfile, a PID lock file: it has
	// no blocking lock, only TryLock and Unlock.
	Nightlyone = "nightlyone"
	// Floor is no library but the least a lock made of a name can do
	// (floorMutex): link, unlink, and a wake-up by inotify; no crash
	// safety. Linux only.
	Floor = "floor"
)

// A Mutex is one lock object of one library, driven the way its users
// drive it.
type Mutex interface {
	// Lock takes the lock, blocking while another process holds it. The
	// flock Lock cannot be cancelled and ignores ctx; nightlyone's makes
	// one attempt and fails if the lock is busy.
	Lock(ctx context.Context) error
	Unlock() error
	Close() error
}

// Open returns a Mutex of library lib on the lock file path. opts apply to
// openlock only.
func Open(lib, path string, opts ...openlock.Option) (Mutex, error) {
	switch lib {
	case Openlock:
		l, err := openlock.New(path, opts...)
		if err != nil {
			return nil, err
		}
		return l, nil
	case Flock:
		return flockMutex{flock.New(path)}, nil
	case Nightlyone:
		abs, err := filepath.Abs(path)
		if err != nil {
			return nil, err
		}
		l, err := lockfile.New(abs)
		if err != nil {
			return nil, err
		}
		return nightlyMutex{l}, nil
	case Floor:
		return openFloor(path)
	}
	return nil, fmt.Errorf("unknown library %q", lib)
}

type flockMutex struct{ f *flock.Flock }

func (m flockMutex) Lock(context.Context) error { return m.f.Lock() }
func (m flockMutex) Unlock() error              { return m.f.Unlock() }
func (m flockMutex) Close() error               { return m.f.Close() }

type nightlyMutex struct{ l lockfile.Lockfile }

func (m nightlyMutex) Lock(context.Context) error { return m.l.TryLock() }
func (m nightlyMutex) Unlock() error              { return m.l.Unlock() }
func (m nightlyMutex) Close() error               { return nil }

// Cycle takes and releases m once: the uncontended cycle measured for every
// library (for nightlyone, TryLock and Unlock).
func Cycle(m Mutex) error {
	if err := m.Lock(context.Background()); err != nil {
		return err
	}
	return m.Unlock()
}

// errUnexpected reports a lock operation that succeeded or failed where the
// measurement expected the opposite.
var errUnexpected = errors.New("unexpected outcome")
