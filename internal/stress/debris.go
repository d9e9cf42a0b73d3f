package stress

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/openlock/openlock"
)

// Leftovers checks what a run left in the lock's directory, which must hold
// nothing else, once every worker has exited. left lists the files there
// (killed processes' tokens and claims, whose owners are dead; a stale lock
// file); after lists what remains once one more FileLock (with opts) has
// taken the lock, which sweeps the debris of dead processes, cleaned (on a
// network file system a sweep leaves dead claims to Clean, which waits out
// the cache first) and closed it. A correct lock leaves nothing after. The
// marker file of the overlap check is not the lock's: it is removed first
// and not counted.
func Leftovers(lock string, patience time.Duration, opts ...openlock.Option) (left, after []string, err error) {
	dir := filepath.Dir(lock)
	if err := os.Remove(lock + MarkerSuffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, err
	}
	if left, err = names(dir); err != nil {
		return nil, nil, err
	}
	l, err := openlock.New(lock, opts...)
	if err != nil {
		return left, nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	if err := l.Lock(ctx); err != nil {
		l.Close()
		return left, nil, fmt.Errorf("taking the lock after the run: %w", err)
	}
	if _, err := l.Clean(false); err != nil {
		l.Close()
		return left, nil, fmt.Errorf("cleaning after the run: %w", err)
	}
	if err := l.Close(); err != nil {
		return left, nil, err
	}
	after, err = names(dir)
	return left, after, err
}

func names(dir string) ([]string, error) {
	es, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var ns []string
	for _, e := range es {
		ns = append(ns, e.Name())
	}
	slices.Sort(ns)
	return ns, nil
}
