package openlock

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/openlock/openlock/internal/fsx"
	"github.com/openlock/openlock/internal/protocol"
	"github.com/openlock/openlock/procscan"
)

// DefaultPath is the lock file New uses when given "".
const DefaultPath = "openlock.lock"

// A FileLock is a cross-process lock on one lock file. Create it with New,
// take it with Lock or TryLock, release it with Unlock, and Close it when done
// to remove its helper file.
//
// A FileLock behaves like a sync.Mutex that other processes also respect: it
// is not reentrant, and may be unlocked by a goroutine other than the one that
// locked it. All methods are safe for concurrent use. Goroutines of this
// process that lock the same path, through one FileLock or several, queue
// inside the process and never poll the file for each other.
type FileLock struct {
	path string // as given to New
	abs  string // absolute, so a later os.Chdir changes nothing
	abs0 *byte  // abs, NUL-terminated, for fastpath_linux.go; nil elsewhere
	rd0  *byte  // the readers' directory (rlock.go), likewise
	cfg  config
	q    *queue

	// closing is done once Close is called, to wake a Lock waiting in
	// another goroutine (in the queue, or between looks).
	closing    context.Context
	closeWaits context.CancelFunc

	mu     sync.Mutex // guards the fields below and serializes file operations
	tok    *token     // created on first use
	held   bool       // this FileLock holds the lock, and q.sem
	closed bool
	keeper *keeper // refreshes the lease, watches for loss; while held
	fence  uint64  // the fence of the current hold (WithFencing)
	// sweepDue: the debris beside a new token is swept at the next
	// acquisition (network file systems; see sweep.go).
	sweepDue bool
	// sweepPending: a new token's neighbours, or the files a takeover
	// left of the dead holder, are to be swept (sweepIfDue): not within
	// the call that made them due (a sweep reads the whole directory and
	// judges every owner in it).
	sweepPending bool
	place        place // our entry in the line, while a wait has one
	// cut: the path whose reads came back cut short since, on a file
	// system that may cache (holder.go, readCut).
	cut struct {
		path  string
		since time.Time
	}
	turn  bool     // we hold the reservation of the next turn (turn.go)
	rd    reading  // the shared lock held through this FileLock (rlock.go)
	spare *waitSet // kept for the next wait (waitset_linux.go)
	// exited is the last process a wait saw exit (its pidfd): a record
	// naming it is judged dead without a look at /proc (inspect).
	exited procscan.Process
}

// A place is a waiter's entry in the line (line_linux.go), a link of tok
// (Close may drop the FileLock's token first), and entry0 the entry
// NUL-terminated: linkLock takes a free lock by renaming it onto the lock
// path (takeFromLine), while entry0 is set. entry is "" when not in line.
type place struct {
	entry  string
	entry0 *byte
	tok    *token
}

// New returns a FileLock for the lock file at path. It touches no file: the
// lock's directory is first used by Lock or TryLock. Options override the
// package defaults; a bad one is an error wrapping ErrInvalidOption. A base
// name longer than MaxNameLen bytes (216), which leaves no room for the
// names of the helper files beside it, is an error wrapping ErrNameTooLong.
//
// An empty path means DefaultPath in the current directory, as in the seed
// (Python openlock). The openlock command refuses an empty LOCKFILE
// instead: there it is most often an unset shell variable.
func New(path string, opts ...Option) (*FileLock, error) {
	if path == "" {
		path = DefaultPath
	}
	c := defaultConfig()
	if err := c.apply(opts); err != nil {
		return nil, wrap("new", path, err)
	}
	c.table = c.test.tableOr(procscan.System())
	abs, err := filepath.Abs(path)
	if err == nil {
		err = checkNameLen(abs)
	}
	if err != nil {
		return nil, wrap("new", path, err)
	}
	l := &FileLock{path: path, abs: abs, abs0: cpath(abs), rd0: cpath(readersDir(abs)), cfg: c, q: join(abs)}
	l.closing, l.closeWaits = context.WithCancel(context.Background())
	return l, nil
}

// Path returns the lock file's path as given to New.
func (l *FileLock) Path() string { return l.path }

// Timeout returns the timeout Lock applies when its context has no deadline
// (0: none).
func (l *FileLock) Timeout() time.Duration { return l.cfg.Timeout }

// TryLock makes one attempt to take the lock and reports whether it did. It
// never waits for another process: a live holder, or a stale lock that
// another process is already taking over, means false. It does take over a
// stale lock itself. It also returns false, at once, while another goroutine
// of this process holds or is taking the same lock path, and while a live
// reader holds the shared lock (RLock).
//
// A stale lock that it cannot take yet is false, nil too: one whose
// takeover it cannot begin because the file system's answers do not agree
// (a link says the lock file or its claim exists while a look finds no
// file there, as a network client's cache of names may answer for a few
// seconds). A later TryLock or Lock takes it once the answers agree. TryLock
// never spins: where an answer cannot tell, it looks again a few times,
// each after a pause, some tens of milliseconds in all. A file system that cannot
// hold a lock at all (no hard links, or hard links that are copies with
// another inode, as on sshfs) is an error wrapping ErrNoHardLinks.
func (l *FileLock) TryLock() (bool, error) {
	if l.readerSeen() { // the shared lock's readers (readers.go)
		return false, nil
	}
	held, err := l.tryGate("trylock")
	if held {
		held, err = l.tryExcludeReaders() // the shared lock's readers (readers.go)
	}
	return held, wrap("trylock", l.path, err)
}

// tryGate makes TryLock's one attempt at the lock file, without looking for
// the shared lock's readers: what TryRLock needs (rlock.go).
func (l *FileLock) tryGate(op string) (bool, error) {
	l.sweepBeforeCall()
	if !l.q.sem.TryAcquire(1) {
		return false, l.closedError(op)
	}
	held, _, err := l.attempt(context.Background())
	if !held {
		l.q.sem.Release(1)
	}
	return held, err
}

// Unlock releases the lock. It returns an error wrapping ErrNotHeld when this
// FileLock does not hold it, and ErrLockLost when the lock file is no longer
// the one this FileLock put there (removed by hand, taken over by a process
// that judged this one dead, or rewritten in place by another program); in
// that case nothing is deleted. In
// both cases the FileLock no longer holds the lock afterwards.
func (l *FileLock) Unlock() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.held {
		if l.closed {
			return wrap("unlock", l.path, fs.ErrClosed)
		}
		return wrap("unlock", l.path, ErrNotHeld)
	}
	err := l.release()
	if errors.Is(err, errRewritten) && l.rd.n == 0 {
		// The rewritten file is our token's inode: the token no longer
		// holds our record. The next Lock makes a new one.
		l.dropToken()
	}
	return wrap("unlock", l.path, err)
}

// release removes the lock file if it is still ours and gives up the
// in-process queue. l.mu must be held and l.held true.
func (l *FileLock) release() error {
	l.held = false
	defer l.q.sem.Release(1)
	l.stopKeeper()
	if err := l.ownedLock(); err != nil {
		if h, herr := l.inspect(l.abs); errors.Is(err, errReplaced) && herr == nil {
			return fmt.Errorf("%w (now %s)", err, h.heldBy())
		}
		return err
	}
	if l.sweepPending && l.remote() {
		l.sweepIfDue() // on a network file system, only while we hold the lock (sweep.go)
	}
	if err := l.removeLock(); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	l.leftLine() // once the lock file is gone: the next waiter is on its way
	l.debug("released")
	l.step(StepReleased)
	return nil
}

// The ways a lock file stops being ours, as owned reports them. Their text
// follows ErrLockLost's ("lock lost: the lock file was removed").
var (
	errRemoved   = fmt.Errorf("%w: the lock file was removed", ErrLockLost)
	errReplaced  = fmt.Errorf("%w: the lock file was replaced by another process's", ErrLockLost)
	errRewritten = fmt.Errorf("%w: the lock file was rewritten in place by another program "+
		"(it no longer holds this lock's record); it was left as it is", ErrLockLost)
)

// owned returns nil if the file at lock is still tok's: its inode, holding
// its record (a program that rewrites the file in place keeps the inode).
// Otherwise errRemoved, errReplaced or errRewritten (all wrapping
// ErrLockLost), or the error of the look itself, which proves nothing
// either way. Every decision that a lock file, claim or registration is
// ours goes through here (or ownedLock, its uncontended form).
func owned(lock string, tok *token) error {
	fi, err := os.Lstat(lock)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return errRemoved
	case err != nil:
		return err
	case !os.SameFile(fi, tok.fi):
		return errReplaced
	}
	return tok.holdsRecord(lock, fi)
}

// undo removes the lock file at path if it is tok's, so that a failed or
// cancelled takeover leaves nothing behind.
func undo(path string, tok *token) error {
	if owned(path, tok) != nil {
		return nil
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// Close releases the lock if this FileLock holds it, leaves the shared lock
// if it holds that (RLock), and removes its token.
// Methods called after Close return errors wrapping fs.ErrClosed, and so does
// a Lock waiting in another goroutine, at once.
// Closing twice is not an error.
func (l *FileLock) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	l.closeWaits()
	var errs []error
	if l.held {
		errs = append(errs, l.release())
	}
	l.dropTurn()
	errs = append(errs, l.closeReading()) // rlock.go
	l.sweepLocalIfDue()
	l.dropWaitSet()
	errs = append(errs, l.dropToken())
	l.mu.Unlock()
	l.q.leave()
	return wrap("close", l.path, errors.Join(errs...))
}

func (l *FileLock) closedError(op string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return wrap(op, l.path, fs.ErrClosed)
	}
	return nil
}

// Locked reports whether some live process, this one included, holds the
// lock. A stale lock file (its holder is dead, or it is empty) is not
// locked; a holder that cannot be checked from here (another host or
// container) and a lock file this process may not read count as locked. A
// file at the lock path that is not a lock file (see ErrNotLockFile) is an
// error. It reads the lock file only: readers of the shared lock (RLock)
// hold no lock file while they read; Readers lists them.
func (l *FileLock) Locked() (bool, error) {
	h, err := l.lookUnlocked(l.abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	case errors.Is(err, fs.ErrPermission):
		return true, nil
	case err != nil:
		return false, wrap("locked", l.path, err)
	}
	return !h.stale(), nil
}

// Held reports whether this FileLock holds the lock, as far as it knows: a
// Lock, TryLock or LockContext of it succeeded, and no Unlock or Close has
// released the lock since. It does no I/O (it may wait a moment for an
// operation of this FileLock in progress in another goroutine), so it cannot
// notice a lock lost behind its back, its lock file removed by hand or taken
// over by a process that judged this one dead: Unlock then reports
// ErrLockLost, and LockContext's context ends when it happens.
//
// Locked asks another question: it reads the lock file and reports whether
// any live process, this one or another, holds the lock. The Locked method
// of github.com/gofrs/flock reports that flock's own state, as Held does
// here; code moving from gofrs/flock wants Held.
func (l *FileLock) Held() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.held
}

// Owner returns the process named in the lock file and true, or false when
// there is no lock file. The owner may be dead (Owner.Verdict says so): a
// stale lock file stays until the next Lock takes it over. An empty lock
// file names no owner: an error wrapping ErrInvalidLockFile. A file that is
// not a lock file is an error wrapping ErrNotLockFile.
func (l *FileLock) Owner() (Owner, bool, error) {
	h, err := l.lookUnlocked(l.abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return Owner{}, false, nil
	case err != nil:
		return Owner{}, false, wrap("owner", l.path, err)
	case h.bad != nil:
		return Owner{}, false, wrap("owner", l.path, fmt.Errorf(
			"%w: it is empty and names no holder; it is stale, and the next Lock takes it over", ErrInvalidLockFile))
	}
	return h.owner(), true, nil
}

// attempt makes one attempt to take the lock, without waiting for anyone.
// It returns held, or the holder that keeps us out, or an error. The caller
// holds q.sem; attempt takes l.mu. ctx is consulted between the steps of a
// takeover, and at each retry.
//
// It retries when the lock file vanishes between our link and our look at
// it, or a takeover finds that the lock changed under it: a bounded number
// of times, each after a pause (pacer), so that a file system whose
// answers never agree (a link that reports the name as existing, a look
// that finds none) cannot make it spin.
func (l *FileLock) attempt(ctx context.Context) (bool, *holder, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var p pacer
	for {
		held, h, again, err := l.attemptOnce(ctx, &p)
		if !again {
			return held, h, err
		}
		switch err := p.again(l, ctx); {
		case errors.Is(err, errRetriesSpent):
			return false, h, nil
		case err != nil:
			return false, h, err
		}
	}
}

// attemptOnce is one round of attempt. It reports again when the round
// could not tell, and the attempt is to look again after a pause; h is then
// the holder to report if it does not. l.mu must be held.
func (l *FileLock) attemptOnce(ctx context.Context, p *pacer) (held bool, h *holder, again bool, err error) {
	if l.closed {
		return false, nil, false, fs.ErrClosed
	}
	t, err := l.token()
	if err != nil {
		return false, nil, false, err
	}
	if by := l.yieldTo(); by != nil {
		return false, by, false, nil // a waiter on another machine has the next turn
	}
	linkErr := l.linkLock()
	if linkErr == nil {
		held, err := l.acquired("link")
		return held, nil, false, err
	}
	h, err = l.look(l.abs)
	var f protocol.File
	if err == nil {
		f = protocol.File{Info: h.fi, Stale: h.stale()}
	}
	switch protocol.AfterTake(sysFS{l}, t.protocol(), linkErr, f, err) {
	case protocol.Vanished:
		return false, hidden(l.abs), true, nil // released between the link and the look, or hidden from the look
	case protocol.LinkFailed:
		if err := l.linkFailed(linkErr); err != nil || h != nil {
			return false, nil, false, err
		}
		return false, nil, true, nil // our token had been removed; made anew
	case protocol.Unreadable:
		return false, unreadable(l.abs, err), false, nil
	case protocol.LookFailed:
		return false, nil, false, err
	case protocol.Held:
		// The link took effect although it reported an error, as a
		// lost reply on a network file system can make it do.
		held, err := l.acquired("link (confirmed by identity)")
		return held, nil, false, err
	case protocol.Busy:
		return false, h, false, nil
	}
	l.debug("stale lock", "holder", h)
	won, err := l.takeOver(ctx, h, p)
	return won, h, !won && err == nil, err
}

// acquired records that we hold the lock (how says how, for the log), and
// does what holding entails: the fence, the keeper. If that fails, the lock
// is given back and the error returned. l.mu must be held.
func (l *FileLock) acquired(how string) (bool, error) {
	if l.cfg.Fencing {
		tok := l.tok // Close may drop l.tok while bumpFence waits; undo needs it
		if err := l.bumpFence(); err != nil {
			return false, errors.Join(fmt.Errorf("updating the fence: %w", err), undo(l.abs, tok))
		}
	}
	l.held = true
	l.dropTurn()
	if l.cfg.Lease > 0 {
		l.beginLease()
		l.startKeeper()
	}
	if l.sweepDue {
		l.sweepDue = false
		l.sweep()
	}
	if l.debugging() { // the arguments would be allocated even if unused
		l.debug("acquired", "how", how)
	}
	l.step(StepAcquired)
	return true, nil
}

// linkFailed explains a failed link that was not "the lock file exists". A
// token removed behind our back (by a careless cleaner) is made anew, and
// linkFailed returns nil so the caller tries again.
func (l *FileLock) linkFailed(err error) error {
	switch {
	case errors.Is(err, ErrNoHardLinks): // errLinksCopy
		l.dropToken() // useless here; leave the directory as we found it
		return err
	case fsx.NoHardLinks(err):
		l.dropToken()
		return fmt.Errorf("%w: %w", ErrNoHardLinks, err)
	}
	if errors.Is(err, fs.ErrNotExist) && l.tok != nil {
		if _, serr := os.Lstat(l.tok.path); errors.Is(serr, fs.ErrNotExist) {
			l.debug("token vanished; making a new one", "token", l.tok.path)
			l.tok = nil
			return nil
		}
	}
	return err
}

// hidden is the holder we report for a lock path that link(2) reports
// as existing while a look finds no file there, at every look of an
// attempt: held, never stale, as far as we can tell.
func hidden(path string) *holder {
	return &holder{path: path, res: procscan.Result{Verdict: procscan.Unknown,
		Reason: fmt.Sprintf("a holder this client cannot see: a link onto %s reports that it exists, "+
			"and a look there finds no file (released and taken again in between, "+
			"or the file system's cache hides it from the look; a later look may tell)", path)}}
}

func (l *FileLock) logger() *slog.Logger {
	if l.cfg.Logger != nil {
		return l.cfg.Logger
	}
	return slog.Default()
}

// debug logs a change of state. The Enabled check keeps the fast path free
// of allocations when debug logging is off (a call with arguments on the
// uncontended path checks debugging first: its variadic arguments escape).
func (l *FileLock) debug(msg string, args ...any) {
	if !l.debugging() {
		return
	}
	l.logger().Debug("openlock: "+msg, append([]any{"path", l.path}, args...)...)
}

// debugging reports whether debug records are logged.
func (l *FileLock) debugging() bool {
	return l.logger().Enabled(context.Background(), slog.LevelDebug)
}

// Locker returns a sync.Locker whose Lock calls l.Lock(context.Background())
// and whose Unlock calls l.Unlock, for code that accepts a sync.Locker.
//
// sync.Locker has no way to report an error, so its methods panic with the
// error instead: Lock when l.Lock fails (a timeout set by WithTimeout, a
// closed FileLock, an I/O error), Unlock when l.Unlock fails (ErrNotHeld,
// ErrLockLost). Use the FileLock's own methods where errors must be handled.
func (l *FileLock) Locker() sync.Locker { return locker{l} }

type locker struct{ l *FileLock }

func (a locker) Lock() {
	if err := a.l.Lock(context.Background()); err != nil {
		panic(err)
	}
}

func (a locker) Unlock() {
	if err := a.l.Unlock(); err != nil {
		panic(err)
	}
}
