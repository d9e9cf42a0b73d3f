package openlock

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/openlock/openlock/internal/fsx"
	"github.com/openlock/openlock/procscan"
)

// The writer's side of the shared lock: holding the lock file (the gate),
// an exclusive Lock waits until no reader is registered. The argument is in
// rlock.go.

// excludeReaders, with the gate just taken by Lock, waits until no reader of
// the shared lock is in. If that fails (ctx ended, Close, an I/O error) it
// releases the gate.
func (l *FileLock) excludeReaders(ctx context.Context, start time.Time) error {
	l.mu.Lock()
	free, err := l.noReaders()
	l.mu.Unlock()
	if free {
		return nil
	}
	if err == nil {
		err = l.waitReaders(ctx, start)
	}
	if err == nil {
		return nil
	}
	l.mu.Lock()
	if l.held {
		err = errors.Join(err, l.release())
	}
	l.mu.Unlock()
	return wrap("lock", l.path, err)
}

// tryExcludeReaders, with the gate just taken by TryLock, makes one
// judgement of the readers: it keeps the gate if none is in (after removing
// dead ones), and releases it otherwise.
func (l *FileLock) tryExcludeReaders() (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.held { // Close released it in between
		return false, fs.ErrClosed
	}
	free, err := l.noReaders()
	if !free && err == nil {
		free, _, err = l.drainReaders()
	}
	if free {
		return true, nil
	}
	return false, errors.Join(err, l.release())
}

// readerSeen reports whether a live reader is registered, looked at
// before TryLock takes the gate: such a probe would take the gate only to
// find that reader and back out, and while it held the gate a reader's
// TryRLock would fail (and an RLock wait) for nothing. A failed probe so
// never stands in a reader's way where it can see a reader. It is only a
// first look, and proves nothing: "no reader" sends the caller to the gate,
// where the judgement of rlock.go (step 3) decides. Nothing is removed
// here; a dead reader's registration is left to that judgement.
func (l *FileLock) readerSeen() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if gone, err := l.readersGone(); gone || err != nil || l.closed {
		return false
	}
	dir := readersDir(l.abs)
	entries, err := fsx.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range entries {
		if h, err := l.lookReader(dir, e.Name()); err == nil && !h.stale() {
			return true
		}
	}
	return false
}

// noReaders reports whether no reader is registered, judged on an answer
// that cannot come from a stale cache (rlock.go, step 3): on a local file
// system, the readers' directory is absent; on another, a mkdir of it
// succeeds (and it is removed again). false, nil means "look closer". l.mu
// and the gate must be held.
func (l *FileLock) noReaders() (bool, error) {
	if !l.remote() {
		return l.readersGone()
	}
	dir := readersDir(l.abs)
	switch err := os.Mkdir(dir, 0o700); {
	case err == nil:
		return rmdir(dir) == nil, nil
	case errors.Is(err, fs.ErrExist), isStale(err):
		return false, nil
	case mkdirRaced(dir, err):
		return false, nil
	default:
		return false, fmt.Errorf("checking for readers of the shared lock (mkdir %s): %w", dir, err)
	}
}

// mkdirRaced reports whether err, from a mkdir of dir, is the ENOENT a FUSE
// file system returns when another path removed the directory just made:
// libfuse looks the new directory up before it replies, and finds it gone
// (seen with bindfs, where a reader closing through the underlying path
// removes the empty directory). The mkdir's answer is then lost, so the
// caller looks again; while dir's parent, the lock's directory, is there.
func mkdirRaced(dir string, err error) bool {
	if !errors.Is(err, fs.ErrNotExist) {
		return false
	}
	_, perr := os.Stat(filepath.Dir(dir))
	return perr == nil
}

// readersGoneOS is readersGone through package os (fastpath_linux.go).
func readersGoneOS(lock string) (bool, error) {
	_, err := os.Lstat(readersDir(lock))
	if errors.Is(err, fs.ErrNotExist) {
		return true, nil
	}
	return false, err
}

// drainReaders lists the registered readers, removes those whose process is
// dead, and reports whether none is left (the directory removed: a
// judgement of the server, see noReaders), or else the live ones. l.mu and
// the gate must be held.
func (l *FileLock) drainReaders() (free bool, live []*holder, err error) {
	dir := readersDir(l.abs)
	entries, err := fsx.ReadDir(dir)
	switch {
	// ENOTDIR first: on Windows, ERROR_PATH_NOT_FOUND is both it and
	// fs.ErrNotExist, and a file at dir is no absent directory.
	case errors.Is(err, syscall.ENOTDIR):
		return false, nil, notReadersDir(dir)
	case errors.Is(err, fs.ErrNotExist) || isStale(err):
		free, err := l.noReaders()
		return free, nil, err
	case err != nil:
		return false, nil, fmt.Errorf("listing the readers of the shared lock: %w", err)
	}
	for _, e := range entries {
		h, err := l.lookReader(dir, e.Name())
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return false, nil, err
		case h.stale():
			if err := fsx.Remove(h.path); errors.Is(err, fs.ErrPermission) {
				return false, nil, notRemovable(h.path, err)
			} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return false, nil, fmt.Errorf("removing a dead reader's registration: %w", err)
			}
			l.debug("removed a dead reader's registration", "reader", h)
		default:
			live = append(live, h)
		}
	}
	if len(live) > 0 {
		return false, live, nil
	}
	err = rmdir(dir)
	if err == nil {
		return true, nil, nil
	}
	if errors.Is(err, fs.ErrNotExist) || isStale(err) {
		free, err := l.noReaders()
		return free, nil, err
	}
	if errors.Is(err, fs.ErrPermission) {
		return l.emptyKept(dir, err)
	}
	return false, nil, nil // a name the listing did not show yet: look again
}

// emptyKept judges the readers' directory dir, which listed empty but which
// this user may not remove (err): another user's, in a lock directory with
// the sticky bit. On a local file system the listing, made while holding
// the gate, is the judgement (rlock.go, step 3). Elsewhere it may come from
// a cache, and only the removal would have been the server's answer: the
// error says who may remove the directory.
func (l *FileLock) emptyKept(dir string, err error) (bool, []*holder, error) {
	if !l.remote() {
		return true, nil, nil
	}
	fi, lerr := os.Lstat(dir)
	if lerr != nil {
		return false, nil, nil // changed since: look again
	}
	return false, nil, fmt.Errorf("the directory of the shared lock's readers %s belongs to %s and lists no "+
		"reader, but on this network file system a writer may judge that no reader is in only by removing it, "+
		"which this user may not (%w): have %s remove it, or lock another path", dir, ownerOf(fi), err, removers(fi))
}

// lookReader reads and judges the reader file name in the readers'
// directory dir. A name that is not a reader's is an error: what is not
// ours is never removed, and a writer could not get in past it. An
// unreadable file is a live reader.
func (l *FileLock) lookReader(dir, name string) (*holder, error) {
	p := filepath.Join(dir, name)
	if !isReaderName(name) {
		return nil, fmt.Errorf("%w: %s is not a reader's registration, in the directory where "+
			"openlock keeps the shared lock's readers; remove it, or lock another path", ErrNotLockFile, p)
	}
	h, err := l.look(p)
	if errors.Is(err, fs.ErrPermission) {
		return unreadable(p, err), nil
	}
	if err != nil {
		err = fmt.Errorf("reading a reader's registration: %w", err)
	}
	return h, err
}

// notReadersDir is the error for a file at the readers' directory's name.
func notReadersDir(dir string) error {
	return fmt.Errorf("%w: %s is not a directory, but openlock keeps the shared lock's readers "+
		"under this name; it was left untouched: remove it, or lock another path", ErrNotLockFile, dir)
}

// waitReaders waits, holding the gate, until drainReaders finds no reader
// left, looking again after pauses that back off to the retry period. It
// wakes early when the first live reader seen removes its file
// (file-change notification) or its process exits (see exitWatch): a
// reader leaves on its own, or dies and is judged so at the next look.
func (l *FileLock) waitReaders(ctx context.Context, start time.Time) error {
	ctx, cancel := l.withTimeout(ctx, start)
	defer cancel()
	b := backoff{max: l.cfg.RetryPeriod, first: l.cfg.test.firstPause}
	var (
		live      []*holder
		wt        *watch
		ew        *exitWatch
		rechecked bool // looked once more since the last pause
	)
	defer func() { wt.stop(); ew.stop() }()
	for {
		l.mu.Lock()
		if !l.held {
			l.mu.Unlock()
			return fs.ErrClosed // Close released the gate
		}
		free, in, err := l.drainReaders()
		l.mu.Unlock()
		if err != nil || free {
			return err
		}
		if len(in) > 0 && (len(live) == 0 || !in[0].sameAs(live[0])) {
			l.debug("waiting for readers of the shared lock", "readers", len(in), "first", in[0])
			wt.stop()
			ew.stop()
			wt, ew = l.watchReader(in[0].path), l.watchExit(in[0])
			live = in
			if !rechecked { // once per pause: readers that change at every look must not make it spin
				rechecked = true
				continue // look once more: it may have left before the watch began
			}
		}
		live, rechecked = in, false
		l.step(StepWaiting)
		t := time.NewTimer(b.next())
		select {
		case <-wt.wakeups():
			t.Stop()
			l.step(StepWoken)
		case <-ew.exited():
			t.Stop()
			l.step(StepWoken)
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return readersGaveUp(ctx, start, live)
		case <-l.closing.Done():
			t.Stop()
		}
	}
}

// watchReader watches a reader's registration for its removal, or returns
// nil when notification is not available (polling alone serves then).
func (l *FileLock) watchReader(path string) *watch {
	if l.cfg.test.noNotify {
		return nil
	}
	wt := &watch{path: path, ops: releaseOps, c: make(chan struct{}, 1)}
	if err := subscribe(wt); err != nil {
		return nil
	}
	return wt
}

// readersGaveUp is the error of a Lock whose ctx ended while it waited for
// readers, naming them.
func readersGaveUp(ctx context.Context, start time.Time, live []*holder) error {
	waited := time.Since(start).Round(time.Millisecond)
	var why string
	if len(live) == 0 {
		why = fmt.Sprintf("after %v, judging whether readers of the shared lock are in: "+
			"the readers' directory kept changing, or the file system never gave a sure answer", waited)
	} else {
		var names []string
		for i, h := range live {
			if i == 3 {
				names = append(names, fmt.Sprintf("and %d more", len(live)-i))
				break
			}
			names = append(names, h.String())
		}
		why = fmt.Sprintf("after %v, waiting for %d reader(s) of the shared lock to leave (%s)",
			waited, len(live), strings.Join(names, "; "))
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%w %s: %w", ErrTimeout, why, ctx.Err())
	}
	return fmt.Errorf("gave up %s: %w", why, ctx.Err())
}

// Readers returns the processes registered as readers of the shared lock
// (RLock) on this path, in no particular order, each with its verdict: a
// dead reader's registration stays until the next writer, sweep or Clean
// removes it. Owner names the holder of the lock file itself: a writer, or
// a reader in the moment it registers. On a network file system the list
// is as this client sees it, which may lag behind the server.
func (l *FileLock) Readers() ([]Owner, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	dir := readersDir(l.abs)
	entries, err := fsx.ReadDir(dir)
	switch {
	case errors.Is(err, syscall.ENOTDIR): // first, as in drainReaders
		return nil, wrap("readers", l.path, notReadersDir(dir))
	case errors.Is(err, fs.ErrNotExist):
		return nil, nil
	case err != nil:
		return nil, wrap("readers", l.path, err)
	}
	var out []Owner
	for _, e := range entries {
		h, err := l.lookReader(dir, e.Name())
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return nil, wrap("readers", l.path, err)
		case h.bad == nil && h.fi != nil:
			out = append(out, h.owner())
		}
	}
	return out, nil
}

// deadReaders returns the registrations of dead readers, for a sweep: only
// complete records, as judgeDebris counts them.
func (l *FileLock) deadReaders() []*holder {
	dir := readersDir(l.abs)
	entries, err := fsx.ReadDir(dir)
	if err != nil {
		return nil
	}
	var dead []*holder
	for _, e := range entries {
		h, err := l.lookReader(dir, e.Name())
		if err == nil && h.bad == nil && h.rec.Complete() && h.res.Verdict == procscan.Dead {
			dead = append(dead, h)
		}
	}
	return dead
}

// rmdir removes dir if it is an empty directory, and never anything else
// (os.Remove would unlink a file of that name).
func rmdir(dir string) error {
	if err := syscall.Rmdir(dir); err != nil {
		return &fs.PathError{Op: "rmdir", Path: dir, Err: err}
	}
	return nil
}

// isStale reports an ESTALE: a network client's name for a file that
// another client replaced or removed. It means "look again".
func isStale(err error) bool { return errors.Is(err, syscall.ESTALE) }
