package openlock

import (
	"path/filepath"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

// A watch delivers a wake-up when the lock file changes in a way that
// matters: removed or renamed away (a release, for a waiter), or replaced
// (a loss, for a holder). It saves a waiter the rest of its backoff pause
// and tells a holder at once that its lock was taken.
//
// It rests on file-change notification (inotify, kqueue,
// ReadDirectoryChangesW, through fsnotify). Where that is unavailable (a
// per-user limit reached, an unsupported file system) watch returns nil and
// polling alone serves. Network file systems raise no event for changes made
// by other machines, and a crashed holder raises none at all, so polling
// always stays: notification only shortens it.
type watch struct {
	path string
	ops  fsnotify.Op
	c    chan struct{} // holds one pending wake-up
}

// Ops that wake a waiter (the lock file went away) and a holder (it went
// away, something else was put in its place, or it was written to: nothing
// of ours writes a held lock file).
const (
	releaseOps = fsnotify.Remove | fsnotify.Rename
	lossOps    = fsnotify.Remove | fsnotify.Rename | fsnotify.Create | fsnotify.Write
)

// notifier is the process's one file-change watcher, shared by every watch.
// Sharing matters: creating a watcher is cheap but closing one makes the
// kernel wait for a grace period (inotify), and each is a file descriptor
// counted against a small per-user limit. A directory stays watched for
// notifyIdle after its last watch stops, so that a process which waits
// again and again (a busy lock) neither adds nor removes a kernel watch
// each time, and nobody pays for the removal on the way to the lock. Once
// no directory is watched, the watcher closes itself, in the background.
var notifier notifierState

// Two locks: kmu orders the watcher's kernel operations (Add, Remove, Close)
// with the changes to dirs that they go with; mu guards the maps, and is
// never held during a kernel operation. On Windows, Add and Remove wait for
// fsnotify's reader goroutine, which may be waiting to hand an event to
// dispatch, which waits for mu: holding mu there deadlocked.
type notifierState struct {
	kmu  sync.Mutex
	mu   sync.Mutex
	w    *fsnotify.Watcher
	dirs map[string]*dirWatch       // watched directories
	subs map[string]map[*watch]bool // lock path -> its watches
}

// dirWatch counts the watches in one directory; linger removes the kernel
// watch once the count has stayed 0 for notifyIdle.
type dirWatch struct {
	n      int
	linger *time.Timer
}

const notifyIdle = 5 * time.Second

// watch starts watching the lock file for ops, or returns nil when
// notification is not available.
func (l *FileLock) watch(ops fsnotify.Op) *watch {
	if l.cfg.test.noNotify {
		return nil
	}
	wt := &watch{path: l.abs, ops: ops, c: make(chan struct{}, 1)}
	if err := subscribe(wt); err != nil {
		l.debug("no file-change notification; polling only", "err", err)
		return nil
	}
	return wt
}

func subscribe(wt *watch) error {
	return notifier.subscribe(wt)
}

func (n *notifierState) subscribe(wt *watch) error {
	n.kmu.Lock()
	defer n.kmu.Unlock()
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.w == nil {
		w, err := fsnotify.NewWatcher()
		if err != nil {
			return err
		}
		n.w, n.dirs, n.subs = w, make(map[string]*dirWatch), make(map[string]map[*watch]bool)
		go dispatch(w)
	}
	dir := filepath.Dir(wt.path)
	d := n.dirs[dir]
	if d == nil {
		n.mu.Unlock()
		err := n.w.Add(dir) // n.w stays: it changes under kmu only
		n.mu.Lock()
		if err != nil {
			if w := n.closeIfUnused(); w != nil {
				go w.Close()
			}
			return err
		}
		d = &dirWatch{}
		n.dirs[dir] = d
	}
	if d.linger != nil {
		d.linger.Stop()
		d.linger = nil
	}
	d.n++
	if n.subs[wt.path] == nil {
		n.subs[wt.path] = make(map[*watch]bool)
	}
	n.subs[wt.path][wt] = true
	return nil
}

// stop ends the watch. A nil watch may be stopped.
func (wt *watch) stop() {
	if wt == nil {
		return
	}
	n := &notifier
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.subs[wt.path], wt)
	if len(n.subs[wt.path]) == 0 {
		delete(n.subs, wt.path)
	}
	dir := filepath.Dir(wt.path)
	if d := n.dirs[dir]; d != nil {
		if d.n--; d.n == 0 {
			d.linger = time.AfterFunc(notifyIdle, func() { n.unwatch(dir, d) })
		}
	}
}

// unwatch removes the kernel watch of dir if it is still unused, and closes
// the watcher once no directory is watched.
func (n *notifierState) unwatch(dir string, d *dirWatch) {
	n.kmu.Lock()
	n.mu.Lock()
	if n.dirs[dir] != d || d.n > 0 {
		n.mu.Unlock()
		n.kmu.Unlock()
		return
	}
	delete(n.dirs, dir)
	w := n.w
	unused := n.closeIfUnused() // nil, or w
	n.mu.Unlock()
	w.Remove(dir) // fails harmlessly if the directory is gone
	n.kmu.Unlock()
	if unused != nil {
		unused.Close() // slow in the kernel: outside both locks
	}
}

// closeIfUnused forgets the watcher if no directory is watched (and
// keepWatcher is false) and returns it for the caller to close outside mu.
// n.kmu and n.mu must be held.
func (n *notifierState) closeIfUnused() *fsnotify.Watcher {
	w := n.w
	if w == nil || len(n.dirs) > 0 || keepWatcher {
		return nil
	}
	n.w = nil
	return w
}

// flush removes every unused directory watch at once, and closes the
// watcher if nothing is left: what the linger timers would do after
// notifyIdle. For tests.
func (n *notifierState) flush() {
	n.mu.Lock()
	idle := make(map[string]*dirWatch)
	for dir, d := range n.dirs {
		if d.n == 0 {
			d.linger.Stop()
			idle[dir] = d
		}
	}
	n.mu.Unlock()
	for dir, d := range idle {
		n.unwatch(dir, d)
	}
}

// dispatch turns the watcher's events into wake-ups. An error (such as an
// event-queue overflow) may hide an event, so it wakes every watch: a
// spurious wake-up costs one look at a file.
func dispatch(w *fsnotify.Watcher) {
	for {
		select {
		case e, ok := <-w.Events:
			if !ok {
				return
			}
			wakeWatches(filepath.Clean(e.Name), e.Op)
		case _, ok := <-w.Errors:
			if !ok {
				return
			}
			wakeWatches("", 0)
		}
	}
}

// wakeWatches wakes the watches of path that want op; all of them for "".
func wakeWatches(path string, op fsnotify.Op) {
	n := &notifier
	n.mu.Lock()
	defer n.mu.Unlock()
	for p, subs := range n.subs {
		if path != "" && p != path {
			continue
		}
		for wt := range subs {
			if path == "" || op.Has(wt.ops) {
				wt.wake()
			}
		}
	}
}

func (wt *watch) wake() {
	select {
	case wt.c <- struct{}{}:
	default:
	}
}

// wakeups returns the channel of wake-ups; nil (never ready) for a nil watch.
func (wt *watch) wakeups() <-chan struct{} {
	if wt == nil {
		return nil
	}
	return wt.c
}
