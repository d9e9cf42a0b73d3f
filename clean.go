package openlock

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/openlock/openlock/fileformat"
	"github.com/openlock/openlock/procscan"
)

// Clean removes what dead processes left at and beside the lock file: the
// lock file itself when its holder is dead, and the tokens, temporary links
// and claims of dead owners. A live holder's files, and anything that is not
// a complete openlock record, are left alone. A stale lock file is removed
// by taking it over and releasing it, through the same claims as Lock, so
// Clean never races a process that is taking it over too.
//
// With dryRun, nothing is removed. Clean returns the paths it removed (or
// would remove). A FileLock sweeps such debris on its own, at the start of
// its second call that takes a lock, or at Close; Clean is for operators
// ("openlock clean") and for directories no lock visits. On a network file
// system it waits the cache time (WithCacheTime) before it removes dead
// claims, whose names other processes reuse; a FileLock's sweep there
// removes only the dead claims older than the cache time (see sweep.go).
func (l *FileLock) Clean(dryRun bool) ([]string, error) {
	var removed []string
	h, err := l.lookUnlocked(l.abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, wrap("clean", l.path, err)
	case h.bad == nil && h.res.Verdict == procscan.Dead:
		if !dryRun {
			held, err := l.tryGate("clean") // the lock file only: readers may stay
			if err != nil {
				return nil, wrap("clean", l.path, err)
			}
			if !held { // someone else took it over first: not stale any more
				break
			}
			if err := l.Unlock(); err != nil {
				return nil, wrap("clean", l.path, err)
			}
		}
		removed = append(removed, l.abs)
	}
	l.mu.Lock()
	swept, err := l.cleanDebris(dryRun)
	l.mu.Unlock()
	return append(removed, swept...), wrap("clean", l.path, err)
}

// cleanDebris judges and removes the debris beside the lock file, claims
// included: where the file system's clients cache, it waits out the cache
// between the two (see sweep.go). l.mu must be held.
func (l *FileLock) cleanDebris(dryRun bool) ([]string, error) {
	dead, err := judgeDebris(l)
	if err != nil || len(dead) == 0 {
		return nil, err
	}
	if !dryRun {
		if err := l.outwaitCache(context.Background()); err != nil {
			return nil, err
		}
	}
	return sweepDebris(l, dead, dryRun)
}

// LockFiles returns the lock files in dir that openlock knows of: files
// holding a complete openlock record, and the lock paths named by tokens,
// temporary links, claims, reservations, fence files and readers'
// directories beside them (which
// may no longer exist). It is how "openlock clean DIR" finds what to clean.
func LockFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var paths []string
	for _, e := range entries {
		if base, ok := helperBase(e.Name()); ok {
			paths = append(paths, filepath.Join(dir, base))
			continue
		}
		if base, ok := readersBase(e.Name()); ok && e.IsDir() {
			paths = append(paths, filepath.Join(dir, base))
			continue
		}
		if !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil || len(b) > fileformat.MaxSize {
			continue
		}
		r, err := fileformat.Parse(b)
		if err != nil || !r.Complete() {
			continue
		}
		base, ok := "", false
		if isFence(r) {
			base, ok = fenceBase(e.Name())
		}
		if !ok {
			base, ok = nextBase(e.Name())
		}
		if !ok {
			base = e.Name()
		}
		paths = append(paths, filepath.Join(dir, base))
	}
	slices.Sort(paths)
	return slices.Compact(paths), nil
}
