package openlock

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"

	"github.com/openlock/openlock/fileformat"
)

// Fencing (WithFencing): every acquisition increments a counter kept in
// <lock>.fence. Only the holder writes it, after taking the lock, by writing
// a temporary file and renaming it over the old one, so a reader never sees
// it torn and a crash never resets it. The file holds the last acquirer's
// record with a "fence=N" line, so its temporary file is swept like any other
// debris of a dead process.
//
// On a network file system this client may still read the fence file as it
// was before the last holder, on another client, replaced it (see
// network.go): the counter would repeat. So there the holder first waits out
// the cache time, which makes fencing across machines cost CacheTime per
// acquisition.

const fenceKey = "fence="

// bumpFence increments the counter and remembers the new value for Fence.
// l.mu must be held, and the lock with it.
func (l *FileLock) bumpFence() error {
	if err := l.outwaitCache(context.Background()); err != nil {
		return err
	}
	n, err := readFence(fenceName(l.abs))
	if err != nil {
		return err
	}
	rec, err := l.selfRecord(l.tok.nonce)
	if err != nil {
		return err
	}
	rec.Extra = append(rec.Extra, fenceKey+strconv.FormatUint(n+1, 10))
	data, err := fileformat.Marshal(rec)
	if err != nil {
		return err
	}
	tmp := tmpName(l.abs, l.tok.nonce)
	os.Remove(tmp)
	if err := l.writeOwn(tmp, data, l.remote()); err != nil {
		return err
	}
	if err := os.Rename(tmp, fenceName(l.abs)); err != nil {
		os.Remove(tmp)
		return err
	}
	l.fence = n + 1
	return nil
}

// isFence reports whether r is the record of a fence file.
func isFence(r fileformat.Record) bool {
	for _, line := range r.Extra {
		if strings.HasPrefix(line, fenceKey) {
			return true
		}
	}
	return false
}

// readFence returns the counter in the fence file, 0 when there is none.
func readFence(path string) (uint64, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	r, err := fileformat.Parse(b)
	if err != nil {
		return 0, fmt.Errorf("fence file %s: %w", path, err)
	}
	for _, line := range r.Extra {
		if v, ok := strings.CutPrefix(line, fenceKey); ok {
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return 0, fmt.Errorf("fence file %s: %q: %w", path, line, err)
			}
			return n, nil
		}
	}
	return 0, fmt.Errorf("fence file %s has no %s line", path, fenceKey)
}

// Fence returns the fencing value of the current hold: the number of
// acquisitions of this lock path so far, this one included (WithFencing).
// A holder whose lock was later taken over holds a lower value than the new
// holder, so a downstream system that remembers the highest value it has
// accepted can refuse the former holder's requests. It returns an error
// wrapping ErrNotHeld when the lock is not held, and ErrInvalidOption when
// fencing is off.
func (l *FileLock) Fence() (uint64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case !l.cfg.Fencing:
		return 0, wrap("fence", l.path, fmt.Errorf("fencing is off (WithFencing): %w", ErrInvalidOption))
	case !l.held:
		return 0, wrap("fence", l.path, ErrNotHeld)
	}
	return l.fence, nil
}
