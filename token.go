package openlock

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/openlock/openlock/fileformat"
	"github.com/openlock/openlock/internal/fsx"
)

// A token is this FileLock's own file beside the lock file, holding its
// record. It is created once; acquiring the lock links it to the lock path,
// which costs a hard link instead of a new inode per acquisition.
type token struct {
	path  string      // <lock>.<nonce>.token
	nonce string      // random, unique to this token
	fi    fs.FileInfo // its identity: a lock file is ours iff it is this inode holding data
	data  []byte      // its record, as written; nothing of ours writes it again
	// settled is the modification time (Unix ns) at which the token was
	// last seen to hold data, once that time lay settleTime in the past; 0
	// until then. A link of the token with this size and modification
	// time still holds data (holdsRecord).
	settled atomic.Int64
	// vouched is a change time (Unix ns) at which the token's inode was
	// known to hold data: no later change by another program is stamped
	// with it or earlier (judgeByStat).
	vouched atomic.Int64
	// remote: the directory is not known to be local, so other machines'
	// clients may change it while ours answers from its cache (network.go).
	remote bool
	// path0 and id: its path NUL-terminated and its identity, for the
	// uncontended path's raw system calls (fastpath_linux.go); nil where
	// unused. buf receives a read of the lock file there (under l.mu).
	path0 *byte
	id    fileID
	buf   []byte
	// flushing: its data's writeback has begun (writeBackToken).
	flushing bool
}

// selfRecord is the record of this process with the given nonce.
func (l *FileLock) selfRecord(nonce string) (fileformat.Record, error) {
	argv0 := ""
	if len(os.Args) > 0 {
		argv0 = os.Args[0]
	}
	return l.record(os.Getpid(), argv0, nonce)
}

// record is the record of the process pid, whose argv[0] is argv0, with the
// given nonce.
func (l *FileLock) record(pid int, argv0, nonce string) (fileformat.Record, error) {
	p, err := l.cfg.table.Process(pid)
	if err != nil {
		return fileformat.Record{}, fmt.Errorf("reading the start time of pid %d: %w", pid, err)
	}
	if p.Zombie {
		return fileformat.Record{}, fmt.Errorf("pid %d has exited", pid)
	}
	id := l.cfg.table.Identity()
	lease := ""
	if l.cfg.Lease > 0 {
		lease = l.cfg.Lease.String()
	}
	return fileformat.Record{
		PID: pid, Name: fileformat.SanitizeName(argv0), Version: fileformat.Version,
		Host: id.Host, Machine: id.Machine, Boot: id.Boot, Start: p.Start, PIDNS: id.PIDNS, Lease: lease, Nonce: nonce,
	}, nil
}

// token returns this FileLock's token, creating it on first use. The token's
// name appears only with its whole record inside (written under a temporary
// name, then renamed), so a sweep never sees a token half-written.
// l.mu must be held.
func (l *FileLock) token() (*token, error) {
	if l.tok != nil {
		return l.tok, nil
	}
	nonce := newNonce()
	rec, err := l.selfRecord(nonce)
	if err != nil {
		return nil, err
	}
	data, err := fileformat.Marshal(rec)
	if err != nil {
		return nil, err
	}
	t := &token{path: tokenName(l.abs, nonce), nonce: nonce, data: data, remote: l.remote()}
	tmp := tmpName(l.abs, nonce)
	if err := l.writeOwn(tmp, data, t.remote); err != nil {
		return nil, dirError(filepath.Dir(l.abs), err)
	}
	if err := os.Rename(tmp, t.path); err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("creating token: %w", err)
	}
	if t.fi, err = os.Lstat(t.path); err != nil {
		os.Remove(t.path)
		return nil, fmt.Errorf("creating token: %w", err)
	}
	if l.cfg.test.link == nil { // a test's link(2) must see every link
		prepareFast(t)
	}
	l.tok = t
	l.debug("token created", "token", t.path)
	if t.remote {
		l.sweepDue = true // once we hold the lock (see sweep.go)
	} else {
		// At our next call, or Close (sweepIfDue): a sweep reads the
		// whole directory and judges every owner in it, a fifth of the
		// CPU a fresh process spends waiting.
		l.sweepPending = true
	}
	return t, nil
}

// settleTime is how long ago a modification time must lie for no later
// write to be stamped with it again: longer than the coarsest step of file
// system timestamps (FAT's 2 s; the kernel's clock tick elsewhere).
const settleTime = 3 * time.Second

// holdsRecord checks that the file at path, a link of t (fi: its lstat,
// which gave the identity), still holds t's record: another program may
// have rewritten it in place, and then it is not ours to remove. Its size
// and times tell where they can (judgeByStat); otherwise it is read and
// compared. It returns errRewritten, errRemoved or errReplaced (all
// wrapping ErrLockLost), an I/O error, which proves nothing either way, or
// nil.
func (t *token) holdsRecord(path string, fi fs.FileInfo) error {
	if known, err := t.judgeByStat(fi.Size(), fi.ModTime(), fsx.ChangeTime(fi)); known {
		return err
	}
	data, fi, err := fsx.ReadSmall(path, fileformat.MaxSize)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return errRemoved
	case errors.Is(err, fsx.ErrNotRegular):
		return errReplaced
	case errors.Is(err, fsx.ErrTooLarge):
		return errRewritten
	case err != nil:
		return err
	case !os.SameFile(fi, t.fi):
		return errReplaced
	}
	return t.compare(data, fi.ModTime(), fsx.ChangeTime(fi))
}

// judgeByStat is holdsRecord's verdict from a link's size, modification
// time and change time alone, where they tell: known is false when the
// content must be read. A size other than the record's tells at once. The
// record is still there if the modification time is one seen before with
// the record (settled), and the change time is no later than a moment at
// which the file was known to hold it (vouched): a program that rewrites
// the file and then sets its modification time back (touch -r, cp -p,
// rsync -t) cannot set the change time, which both steps move to their
// own time.
func (t *token) judgeByStat(size int64, mtime, ctime time.Time) (known bool, err error) {
	switch {
	case size != int64(len(t.data)):
		return true, errRewritten
	case t.settled.Load() == mtime.UnixNano() && mtime.UnixNano() != 0 &&
		ctime.UnixNano() <= t.vouched.Load():
		return true, nil
	}
	return false, nil
}

// compare is holdsRecord's verdict on data, read from a link of t whose
// modification and change times were mtime and ctime: errRewritten unless
// data is t's record. A match is remembered (settle, vouch), so that the
// next check of an unchanged file needs no read.
func (t *token) compare(data []byte, mtime, ctime time.Time) error {
	if !bytes.Equal(data, t.data) {
		return errRewritten
	}
	t.settle(mtime)
	t.vouch(ctime.UnixNano())
	return nil
}

// settle remembers mtime as a modification time at which t held its
// record, if no later write can be stamped with it. A remote token never
// settles: a server's clock may be behind ours, and its times look older
// than they are.
func (t *token) settle(mtime time.Time) {
	if !t.remote && time.Since(mtime) > settleTime {
		t.settled.Store(mtime.UnixNano())
	}
}

// vouch records ctime (Unix ns) as a change time at which t's inode held
// its record: read at or after a look that gave that change time, or a
// moment just after our own link or rename of it. A later change of
// the inode by another program is stamped later (judgeByStat).
func (t *token) vouch(ctime int64) { t.vouched.Store(ctime) }

// vouchNow is vouch, just after a link or rename of ours of the token: the
// change time it set is no later than now, and the inode held our record
// (every check since found it there; one that did not dropped the token).
func (t *token) vouchNow() {
	if !t.remote {
		t.vouch(time.Now().UnixNano())
	}
}

// writeBackToken starts, once per token, the writeback of the token's data
// to its disk, so that a takeover's rename of it over a stale lock file
// does not wait for it (fsx.StartWriteback). A waiter calls it as it begins
// to wait: a crash of the holder may follow, and nobody waits on the
// waiter now. l.mu must be held.
func (l *FileLock) writeBackToken() {
	if t := l.tok; t != nil && !t.flushing && !t.remote {
		t.flushing = true
		fsx.StartWriteback(t.path)
	}
}

// rawLink is link(2) of our token to name, in the open directory d where
// d is not nil (and no test stands for link(2)).
func (l *FileLock) rawLink(d *os.File, name string) error {
	if d == nil || l.cfg.test.link != nil {
		return l.cfg.test.linkOr(os.Link)(l.tok.path, name)
	}
	return linkInto(l.tok.path, d, name)
}

// dirError explains why the first file of this FileLock could not be created
// in the lock directory dir: it does not exist, this user may not write
// there, or its file system is read-only. The cause is wrapped (errors.Is
// finds fs.ErrNotExist, fs.ErrPermission, syscall.EROFS); the name of the
// file that failed, ours and not the user's, is left out.
func dirError(dir string, err error) error {
	cause := err
	var pe *fs.PathError
	if errors.As(err, &pe) {
		cause = pe.Err
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if _, serr := os.Stat(dir); errors.Is(serr, fs.ErrNotExist) {
			return fmt.Errorf("lock directory %s does not exist (%w): create it, or lock a path in a directory that exists", dir, cause)
		}
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("lock directory %s is not writable by this user (%w): the lock file and its helper files are created there; "+
			"lock a path in a directory this user may write to, or change the directory's permissions", dir, cause)
	case errors.Is(err, syscall.EROFS):
		return fmt.Errorf("lock directory %s is on a read-only file system (%w): lock a path on a writable file system", dir, cause)
	}
	return fmt.Errorf("creating a file in the lock directory %s: %w", dir, err)
}

// errForeignLink: a link of our token made, on a network file system, a name
// that is not our token's file, or failed as if our token were missing
// while it is there (see link). It satisfies errors.Is(err, fs.ErrExist),
// so that callers look at the name again.
var errForeignLink = fmt.Errorf("%w: the file system linked another file than our token (a stale name in a network client's cache)", fs.ErrExist)

// errLinksCopy: a link of our token made a file with our token's content
// but another identity (inode), as sshfs does: SFTP has no inode numbers,
// and the FUSE layer numbers paths itself. Ownership rests on identity
// (owned), so such a file system cannot hold a lock.
var errLinksCopy = fmt.Errorf("%w: hard links on this file system report another inode than their source; "+
	"openlock cannot lock here: lock on a local or another network file system", ErrNoHardLinks)

// carriesToken reports whether the file at name holds our token's record,
// byte for byte (its nonce is unique to our token). l.mu must be held.
func (l *FileLock) carriesToken(name string) bool {
	data, _, err := fsx.ReadSmall(name, fileformat.MaxSize)
	return err == nil && bytes.Equal(data, l.tok.data)
}

// link makes name a hard link of our token. l.mu must be held.
//
// On a network file system the result is checked. A GlusterFS client that
// keeps a stale name for our token's file (another of its hard links, such
// as the lock path it held before) was seen to send that name to the server
// as the link's source: the server then links whatever it holds under that
// name, or fails with ENOENT. A name that is not our token's file is
// removed again (we created it, so it is ours to remove), and either case
// is errForeignLink: look again. A name that is a file of its own but holds
// our token's record is what a file system that cannot keep a hard link's
// identity makes (sshfs): removed too, it is errLinksCopy, which wraps
// ErrNoHardLinks. (Without the check, every link would be judged foreign,
// and a Lock would try again until its deadline.)
func (l *FileLock) link(name string) error { return l.linkIn(nil, name) }

// linkIn is link, with d, where not nil, the open directory that holds
// name: the link is made in d, whatever is at its name by now (see
// linkRegistration). l.mu must be held.
func (l *FileLock) linkIn(d *os.File, name string) error {
	err := fsx.LinkResult(l.rawLink(d, name), name)
	if !l.tok.remote {
		if err == nil {
			l.tok.vouchNow()
		}
		return err
	}
	switch {
	case err == nil:
		if fi, serr := os.Lstat(name); serr == nil && os.SameFile(fi, l.tok.fi) {
			return nil
		}
		linksCopy := l.carriesToken(name)
		os.Remove(name)
		if linksCopy {
			return errLinksCopy
		}
		l.debug("a link of our token made another file; removed", "name", name)
		return errForeignLink
	case errors.Is(err, fs.ErrNotExist):
		if _, serr := os.Lstat(l.tok.path); serr == nil {
			return errForeignLink
		}
	}
	return err
}

// writeOwn creates path, a file of this FileLock's (its token, a record to
// hand over, the fence), which must not exist, with the given content and
// the lock file's mode: FileMode under the umask, or exactly the mode
// WithFileMode gave. With sync, see writeNew.
func (l *FileLock) writeOwn(path string, data []byte, sync bool) error {
	return createFile(path, data, l.cfg.FileMode, l.cfg.exactMode, sync)
}

// writeNew creates path, which must not exist, with the given content and
// exactly the given mode. With sync, the content is on the file system's
// server before writeNew returns: a network client may otherwise send it
// after the file's next name is visible to other clients (GlusterFS's
// write-behind and flush-behind do), who would read an empty file there.
func writeNew(path string, data []byte, mode fs.FileMode, sync bool) error {
	return createFile(path, data, mode, true, sync)
}

// createFile is writeNew, with the mode applied exactly only if exact:
// otherwise the umask applies, as open(2) applies it.
func createFile(path string, data []byte, mode fs.FileMode, exact, sync bool) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil && exact {
		err = f.Chmod(mode)
	}
	if err == nil && sync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
	}
	return err
}

// dropToken removes the token. l.mu must be held.
func (l *FileLock) dropToken() error {
	if l.tok == nil {
		return nil
	}
	err := os.Remove(l.tok.path)
	l.tok = nil
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}
