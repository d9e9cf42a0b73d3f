package openlock

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"time"

	"github.com/openlock/openlock/internal/fsx"
)

// The shared lock: any number of readers, or one writer, as sync.RWMutex.
//
// The lock file is the gate. A reader takes it (Lock's own machinery: the
// link, the takeover of a dead holder, the waiting), registers a reader
// file of its own, <lock>.readers/<nonce>.reader (a hard link of its
// token, so it names the reader's process as a lock file does), checks that
// the gate is still its own, and releases it. A writer, an exclusive Lock,
// takes the gate and keeps it: while it waits for the registered readers to
// leave (or to be judged dead, and their files removed), no reader comes
// in, so a stream of readers never starves a writer. A reader leaves by
// removing its file. The directory stays for the next reader (a mkdir and
// a rmdir cost more than the rest of a read cycle together: a millisecond
// on ext4 here) until a writer finds it empty and removes it, or a FileLock
// that read closes while it is empty. Its modes, and in which directory a
// reader of one user registers beside other users: readersdir.go.
//
// The fast path, on a local file system only: a reader that finds no lock
// file registers without taking the gate, then looks again; if the lock
// file is there now, it removes its registration and takes the gate as
// above. Readers then do not queue for the gate one by one. Since it looks
// before it registers too, a reader registers "in passing" at most once
// while a writer holds the gate, and the writer's wait ends.
//
// Why a writer is never inside with a reader:
//
//  1. A reader is in only (a) if it registered while holding the gate and
//     then saw that the gate was still its own (release checks; the gate
//     is taken from a live holder only when its lease ran out while it was
//     stopped, and then the reader removes its file and holds nothing), or
//     (b) on the fast path, if it registered at tr and then saw no lock
//     file at tc > tr.
//  2. A writer takes the gate at tg, judges "no readers" at tj > tg, and
//     holds the gate until it unlocks. A reader of kind (a) cannot register
//     in between, since it would hold the gate. A reader of kind (b) with
//     tc > tg sees the writer's lock file, so it is not in; with tc < tg, its
//     registration (tr < tc < tg < tj) is there at tj unless it has left.
//     So every reader in while the writer is in registered before tj.
//  3. The judgement: a registration is a file in <lock>.readers, and the
//     directory can only be removed while it is empty (rmdir). So "the
//     directory does not exist", or "it is empty" (a rmdir that succeeds),
//     read at tj, means that no registration made before tj is left, and by
//     2 no reader is in. On a local file system the first is one lstat,
//     all that an exclusive Lock pays when no reader is about; a listing
//     names the readers to wait for or to judge. Where a client may answer
//     from its cache (network.go), an lstat's "absent" and a listing may be
//     stale, so the judgement rests on answers only the server gives: a
//     mkdir that succeeds (the directory did not exist; removed again at
//     once) or a rmdir that succeeds. A failed mkdir or rmdir may come from
//     a cache: it only sends the writer to look again. (On a local file
//     system a listing is current too: an empty one, made while holding the
//     gate, also serves where this user may not remove the directory,
//     another user's in a sticky lock directory.) So no CacheTime is
//     waited and no timing is assumed. There, too, the fast path is off: a
//     reader's "no lock file" may come from its cache, so every reader
//     takes the gate.
//  4. A dead reader's file is removed by the writer (or a sweep) at once,
//     even on a stale read: a reader file's name holds nothing but its
//     token's inode, and a dead process never registers again. Its verdict
//     is the lock file's: PID and start time, boot, PID namespace, and, for
//     a reader that cannot be checked from here, its lease (a leased
//     reader's token, and so its reader file, is refreshed while it reads).
//  5. A dead writer is a dead holder of the gate, taken over as any stale
//     lock (takeover.go); a reader that died holding the gate likewise, its
//     registration (made or not) being judged as in 4.
//
// Within one process, a FileLock counts its read holds: the first RLock
// registers, later ones only look at the gate (fast path) or take and
// release it, so that a waiting writer of any process holds them off as
// well; the last RUnlock removes the registration.

// reading is the state of the shared lock held through one FileLock.
type reading struct {
	n    int           // read holds: RLock calls not yet matched by RUnlock
	used bool          // registered at least once: Close removes the readers' directory
	stop chan struct{} // closed to stop a leased reader's refresher; nil when none
	done chan struct{} // closed when the refresher has stopped
}

// RLock takes the shared lock: it waits while a writer (an exclusive Lock of
// any FileLock on the same path, in any process) holds the lock or waits
// for it, then returns with this FileLock counted among the readers. Any
// number of readers, in any processes, hold the shared lock together. It
// returns as Lock does when ctx ends (ErrTimeout, context errors), and
// takes over the lock of a dead writer as Lock does. As Lock, it takes
// nothing when ctx is already done, even a lock that is free or held by
// readers only.
//
// The methods of the shared lock are on FileLock itself, as those of
// sync.RWMutex are on one value: a writer and its readers then share one
// token file, and one FileLock serves code that reads and code that writes.
// As with sync.RWMutex, RLock is counted: each RLock must be matched by one
// RUnlock; recursive read locking is prohibited, since a writer waiting
// between the two RLocks holds off the second while the first holds it
// off; and a FileLock that reads must not call Lock before its RUnlock.
func (l *FileLock) RLock(ctx context.Context) error {
	start := time.Now()
	if err := l.doneAlready(ctx, start); err != nil {
		return asOp(err, "rlock") // as Lock does, before the fast path
	}
	ctx, cancel := l.withTimeout(ctx, start) // the registration keeps it too
	defer cancel()
	if in, err := l.enterFast(ctx, false); in || err != nil {
		return asOp(l.failed(ctx, start, nil, err), "rlock")
	}
	if err := l.lockGate(ctx, start); err != nil {
		return asOp(err, "rlock")
	}
	return asOp(l.failed(ctx, start, nil, l.enterReading(ctx, false)), "rlock")
}

// TryRLock makes one attempt to take the shared lock and reports whether it
// did. It never waits: a writer that holds the lock or waits for it, or
// another goroutine of this process taking or holding the lock file for a
// moment, means false. Where the file system's answers about the readers'
// directory do not agree (a link reports it missing while a mkdir finds it
// there), it registers again a few times, each after a pause, some tens of
// milliseconds in all, and then reports why it could not.
func (l *FileLock) TryRLock() (bool, error) {
	if in, err := l.enterFast(context.Background(), true); in || err != nil {
		return in, wrap("tryrlock", l.path, err)
	}
	held, err := l.tryGate("tryrlock")
	if held {
		err = l.enterReading(context.Background(), true)
		held = err == nil
	}
	return held, wrap("tryrlock", l.path, err)
}

// RUnlock undoes one RLock. After the last, this FileLock is no longer a
// reader, and its registration file is removed. It returns an error
// wrapping ErrNotHeld when this FileLock holds no read lock, and ErrLockLost
// when its registration was removed by another process (which judged this
// one dead, or its lease expired): a writer may then have been inside; or
// rewritten in place by another program (then it is left as it is).
func (l *FileLock) RUnlock() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.rd.n == 0 && l.closed:
		return wrap("runlock", l.path, fs.ErrClosed)
	case l.rd.n == 0:
		return wrap("runlock", l.path, ErrNotHeld)
	case l.rd.n > 1:
		l.rd.n--
		return nil
	}
	return wrap("runlock", l.path, l.leaveReaders())
}

// RLocker returns a sync.Locker whose Lock calls l.RLock(context.Background())
// and whose Unlock calls l.RUnlock, as sync.RWMutex's RLocker does. Like
// Locker's, its methods panic with the error when the FileLock's fail.
func (l *FileLock) RLocker() sync.Locker { return rlocker{l} }

type rlocker struct{ l *FileLock }

func (a rlocker) Lock() {
	if err := a.l.RLock(context.Background()); err != nil {
		panic(err)
	}
}

func (a rlocker) Unlock() {
	if err := a.l.RUnlock(); err != nil {
		panic(err)
	}
}

// asOp renames the operation of an *Error: RLock's errors come from the
// machinery of Lock.
func asOp(err error, op string) error {
	var e *Error
	if errors.As(err, &e) {
		return &Error{Op: op, Path: e.Path, Err: e.Err}
	}
	return err
}

// enterFast is the fast path (see above): it reports whether this FileLock
// is now a reader, without taking the gate; false, nil sends the caller to
// the gate. ctx and try bound the registration (register).
func (l *FileLock) enterFast(ctx context.Context, try bool) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return false, fs.ErrClosed
	}
	l.sweepLocalIfDue()
	t, err := l.token()
	if err != nil || t.remote || l.held || !gateFree(l.abs) {
		return false, err
	}
	if l.rd.n > 0 {
		l.rd.n++
		return true, nil
	}
	if err := l.register(ctx, try); err != nil {
		return false, err
	}
	if !gateFree(l.abs) {
		return false, l.unregister()
	}
	l.rd.n, l.rd.used = 1, true
	l.startRefresher()
	return true, nil
}

// gateFree reports whether there is no lock file at lock: nobody holds the
// gate (nor a stale lock file sits there).
func gateFree(lock string) bool {
	_, err := os.Lstat(lock)
	return errors.Is(err, fs.ErrNotExist)
}

// enterReading, with the gate just taken, counts this FileLock among the
// readers (registering it, the first time; ctx and try bound the
// registration) and releases the gate.
func (l *FileLock) enterReading(ctx context.Context, try bool) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.held { // Close released the gate in between
		return fs.ErrClosed
	}
	if l.rd.n > 0 {
		if err := l.release(); err != nil {
			return err
		}
		l.rd.n++
		return nil
	}
	err := l.register(ctx, try)
	// release checks that the gate is still ours (argument step 1a).
	if rerr := l.release(); rerr != nil {
		if err == nil {
			err = errors.Join(fmt.Errorf("the lock file was taken from this reader while it registered: %w", rerr), l.unregister())
		}
		return err
	}
	if err != nil {
		return err
	}
	l.rd.n, l.rd.used = 1, true
	l.startRefresher()
	return nil
}

// register links our token into the readers' directory, creating the
// directory if need be, and only into a directory that no user this reader
// does not trust may change (readersdir.go). l.mu and the gate must be held.
// Another FileLock closing, a writer or a sweep may remove the directory
// (it was empty then) between our mkdir and our link, and a network client
// may believe for a while that it still exists: both make the link fail as
// if the directory were missing, and we try again, each time after a
// pause, until ctx ends or for up to the cache time plus a few seconds.
// Only the link right after our own mkdir goes without a pause, once per
// pause: a file system whose answers never agree cannot make register spin.
// With try (TryRLock), it pauses at most pacedRetries times, as an attempt
// at the lock does (pacer), from pacedFirst on: a TryRLock never waits.
func (l *FileLock) register(ctx context.Context, try bool) error {
	dir, name := readersDir(l.abs), readerName(l.abs, l.tok.nonce)
	deadline := time.Now().Add(l.cacheTime() + 5*time.Second)
	b := backoff{max: 50 * time.Millisecond}
	if try {
		b.first = pacedFirst
	}
	pauses := 0
	made := false // we made the directory since the last pause
	for {
		err := l.linkRegistration(dir, name) // readersdir.go
		if err == nil || errors.Is(err, fs.ErrExist) && owned(name, l.tok) == nil {
			// (Ours already: a lost reply of a network file system.)
			if err = l.confirmRegistered(dir, name); err == nil {
				return nil
			}
		}
		switch {
		case errors.Is(err, errReadersDirChanged):
			// look again, after a pause
		case errors.Is(err, fs.ErrNotExist), errors.Is(err, errForeignLink):
			// (On a network file system, link reports a missing directory
			// as errForeignLink: see token.go.)
			if _, serr := os.Lstat(l.tok.path); errors.Is(serr, fs.ErrNotExist) {
				return fmt.Errorf("our token %s was removed by another process: %w", l.tok.path, err)
			}
			merr := l.mkReadersDir(dir)
			if merr == nil && !made {
				made = true
				continue // made just now: link again at once
			}
			if merr != nil && !errors.Is(merr, fs.ErrExist) && !mkdirRaced(dir, merr) {
				return fmt.Errorf("creating the directory of the shared lock's readers: %w", merr)
			}
		case !errors.Is(err, fs.ErrExist):
			if fsx.NoHardLinks(err) {
				return fmt.Errorf("%w: %w", ErrNoHardLinks, err)
			}
			return err
		}
		if time.Now().After(deadline) || try && pauses == pacedRetries {
			return fmt.Errorf("cannot register as a reader in %s: %w", dir, err)
		}
		if err := pause(ctx, b.next()); err != nil {
			return fmt.Errorf("registering as a reader in %s: %w", dir, err)
		}
		pauses++
		made = false
	}
}

// unregister removes our reader file if it is still our token's, holding
// its record (owned). A registration rewritten in place is left as it is,
// and the token, its inode, is dropped (a later hold makes a new one), as
// Unlock does with a lock file. l.mu must be held.
func (l *FileLock) unregister() error {
	name := readerName(l.abs, l.tok.nonce)
	switch err := fsx.Restale(owned(name, l.tok)); {
	case errors.Is(err, errRemoved), errors.Is(err, fs.ErrNotExist):
		return errReaderRemoved
	case errors.Is(err, errRewritten):
		l.dropToken()
		return fmt.Errorf("%w: this reader's registration %s was rewritten in place by another program "+
			"(it no longer holds this reader's record); it was left as it is", ErrLockLost, name)
	case errors.Is(err, ErrLockLost):
		return fmt.Errorf("%w: this reader's registration %s is another file", ErrLockLost, name)
	case err != nil:
		return err
	}
	// Through our tmp name where deletes are not POSIX-style, as removeLock:
	// a registration left delete pending would turn our next registration
	// into one that vanishes later.
	if err := fsx.RemoveVia(name, tmpName(l.abs, l.tok.nonce)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// closeReading ends this FileLock's reading, if it reads, and removes the
// readers' directory if it registered there and the directory is empty
// (rmdir fails while other readers are in: it stays for them). l.mu must
// be held.
func (l *FileLock) closeReading() error {
	var err error
	if l.rd.n > 0 {
		err = l.leaveReaders()
	}
	if l.rd.used {
		rmdir(readersDir(l.abs))
	}
	return err
}

var errReaderRemoved = fmt.Errorf("%w: this reader's registration was removed by another process, "+
	"which judged this one dead or its lease expired; a writer may have been inside", ErrLockLost)

// leaveReaders ends this FileLock's reading. l.mu must be held.
func (l *FileLock) leaveReaders() error {
	l.rd.n = 0
	l.stopRefresher()
	return l.unregister()
}

// startRefresher keeps a leased reader's lease fresh: it touches the token
// whose inode the reader file is, at once (beginLease) and every Lease/3.
// l.mu must be held.
func (l *FileLock) startRefresher() {
	if l.cfg.Lease <= 0 {
		return
	}
	l.beginLease()
	stop, done := make(chan struct{}), make(chan struct{})
	l.rd.stop, l.rd.done = stop, done
	go func(path string, every time.Duration) {
		defer close(done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if err := fsx.Touch(path); err != nil {
					l.debug("cannot refresh the reader's lease", "err", err)
				}
			}
		}
	}(l.tok.path, l.cfg.Lease/3)
}

// stopRefresher stops the refresher, if any, and waits for it. l.mu must
// be held.
func (l *FileLock) stopRefresher() {
	if l.rd.stop == nil {
		return
	}
	close(l.rd.stop)
	<-l.rd.done
	l.rd.stop, l.rd.done = nil, nil
}
