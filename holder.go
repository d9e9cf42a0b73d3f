package openlock

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"time"

	"github.com/openlock/openlock/fileformat"
	"github.com/openlock/openlock/internal/fsx"
	"github.com/openlock/openlock/internal/protocol"
	"github.com/openlock/openlock/procscan"
)

// A holder is one look at a lock file or claim: the file read (its identity
// and bytes), the record in it and the verdict on the process it names.
type holder struct {
	path string
	fi   fs.FileInfo
	data []byte
	rec  fileformat.Record
	bad  error // why data is not a valid record; nil when it is
	res  procscan.Result
	at   time.Time // when it was read: the observation a takeover rests on
}

// inspect reads and judges the file at path. A directory, symlink, device,
// oversized file, or a file that holds anything but a record or nothing at
// all is ErrNotLockFile; a missing or unreadable file returns the fs error
// (fs.ErrNotExist, fs.ErrPermission) for the caller to weigh.
func (l *FileLock) inspect(path string) (*holder, error) {
	data, fi, err := fsx.ReadSmall(path, fileformat.MaxSize)
	if errors.Is(err, fsx.ErrNotRegular) || errors.Is(err, fsx.ErrTooLarge) {
		return nil, fmt.Errorf("%w: %w", ErrNotLockFile, err)
	}
	if errors.Is(err, fs.ErrPermission) {
		return nil, unreadableError(path, err)
	}
	if err != nil {
		return nil, err
	}
	h := &holder{path: path, fi: fi, data: data, at: time.Now()}
	if h.rec, h.bad = fileformat.Parse(data); h.bad != nil {
		switch {
		case len(data) == 0:
			return h, nil // empty: stale, as a file that names no holder
		case l.readCut(path, data):
			return cutShort(path, l.cut.since.Add(l.cacheTime())), nil
		}
		return nil, notLockFile(path, len(data), h.bad)
	}
	if l.cut.path == path {
		l.cut.path = ""
	}
	h.res = procscan.JudgeExited(h.rec, l.cfg.table, l.exited)
	if h.res.Verdict == procscan.Unknown {
		l.judgeReboot(h)
	}
	return h, nil
}

// readCut reports whether data, read from path and not a record, may be a
// record cut short by this client rather than the file's content: it ends
// without the newline that ends every record, the file system is not known
// to be local, and the first such read of path is less than CacheTime ago.
// A client of a network or FUSE file system may cut a read at the size it
// cached for the file that had the name before: reads through bindfs of a
// file replaced under the same name, by another path to the directory,
// came back cut at the old size, most often while the replacements went
// on. Records are only ever written whole before they are linked or
// renamed into place, so within the cache time such a read is the
// client's, and the file is read again at the next look; past it, the
// content is the file's own. l.mu must be held.
func (l *FileLock) readCut(path string, data []byte) bool {
	if data[len(data)-1] == '\n' || !l.remote() {
		return false
	}
	now := time.Now()
	if l.cut.path != path {
		l.cut.path, l.cut.since = path, now
	}
	return now.Sub(l.cut.since) <= l.cacheTime()
}

// cutShort is the holder we report for a file whose record a read cut
// short (readCut): held, never stale, until the deadline at the latest.
func cutShort(path string, until time.Time) *holder {
	return &holder{path: path, res: procscan.Result{Verdict: procscan.Unknown,
		Reason: fmt.Sprintf("%s was read cut short, as a network or FUSE client may read a file "+
			"replaced under the same name, and is read again until %s", path, until.Format(time.RFC3339Nano))}}
}

// notLockFile is the error for a small regular file at a lock or claim path
// that holds something other than a lock record. It may be a user's data (a
// gofrs/flock user locks the data file itself), so it is never taken over:
// the seed overwrote it, and a later Unlock deleted it.
func notLockFile(path string, size int, why error) error {
	return fmt.Errorf("%w: %s holds %d bytes that are not a lock record (%v); "+
		"it was left untouched: if it is data, lock another path (such as %s.lock); "+
		"if it is a leftover lock file, remove it", ErrNotLockFile, path, size, why, filepath.Base(path))
}

// judgeReboot declares dead a holder that ran on this very machine in an
// earlier boot: same host name, same machine id, another boot id, and a lock
// directory on a local file system, which no other machine can have written
// to. (A container shares the boot id of its host's kernel, so a live one is
// never taken for a rebooted one; a VM sees a host directory only through a
// network or FUSE file system, which does not count as local.) Without this,
// a lock left by a power cut would be held forever.
func (l *FileLock) judgeReboot(h *holder) {
	r, id := h.rec, l.cfg.table.Identity()
	if r.Host != id.Host || r.Machine == "" || r.Machine != id.Machine ||
		r.Boot == "" || r.Boot == id.Boot || !fsx.Local(filepath.Dir(h.path)) {
		return
	}
	h.res = procscan.Result{Verdict: procscan.Dead, Reason: fmt.Sprintf(
		"this machine has rebooted since: the holder ran during boot %s, this is boot %s", r.Boot, id.Boot)}
}

// look is inspect for a lock file or a claim, which a lease may make stale:
// a leased record whose holder cannot be checked from here (verdict unknown)
// is stale once it has gone unrefreshed for its lease plus our margin.
func (l *FileLock) look(path string) (*holder, error) {
	h, err := l.inspect(path)
	if err == nil && h.bad == nil && h.rec.Lease != "" && h.res.Verdict == procscan.Unknown {
		l.judgeLease(h)
	}
	return h, err
}

// lookUnlocked is look for callers that do not hold l.mu.
func (l *FileLock) lookUnlocked(path string) (*holder, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.look(path)
}

// judgeLease turns an unknown verdict into dead when the lease has run out.
// The age is the file system's "now" minus the file's change time, both by
// the file system's clock where it stamps times itself, so machines' clocks
// need not agree. (The change time moves with every refresh, link and unlink
// of the holder's inode, never with a read.) Anything unclear keeps the
// holder held.
func (l *FileLock) judgeLease(h *holder) {
	lease, err := time.ParseDuration(h.rec.Lease)
	if err != nil || lease <= 0 {
		return
	}
	age, ok := l.ageOf(h)
	if !ok || age <= lease+l.cfg.LeaseMargin {
		return
	}
	h.res = procscan.Result{Verdict: procscan.Dead, Reason: fmt.Sprintf(
		"lease expired: not refreshed for %v (lease %v, margin %v), and %s",
		age.Round(time.Millisecond), lease, l.cfg.LeaseMargin, h.res.Reason)}
}

// ageOf returns at least how long ago h's file last changed (its change
// time, as read with h), by the file system's clock. On a network file
// system that change time may come from this client's attribute cache, up
// to the cache time behind the server, so the cache time is taken off.
//
// Asking the server instead (statx with AT_STATX_FORCE_SYNC) would be
// exact, but a GlusterFS client that gets fresh attributes of an inode
// keeps answering lookups of every name it last saw bound to that inode
// from its cache: a lock file released while its holder's token (the same
// inode) lived on stayed held, for a waiter that asked every look, for as
// long as it asked (measured across two mounts: until a 10 s probe gave
// up). Leases and reservations are judged by ages, so they are a cache
// time later to expire on network file systems, and never pin a stale
// name. It returns false when there is no clock.
func (l *FileLock) ageOf(h *holder) (time.Duration, bool) {
	now, err := l.fsNow()
	if err != nil {
		l.debug("cannot read the file system's clock; no age judged", "err", err)
		return 0, false
	}
	return now.Sub(fsx.ChangeTime(h.fi)) - l.cacheTime(), true
}

// fsNow is the file system's current time, read by touching our token; a
// FileLock without a token (it never tried to lock) uses this machine's
// clock, and so relies on the lease margin for skew.
func (l *FileLock) fsNow() (time.Time, error) {
	if l.tok == nil {
		return time.Now(), nil
	}
	return fsx.Now(l.tok.path)
}

// stale reports whether the file may be taken over: its record names a dead
// process, or it is empty (inspect refuses any other content that is not a
// record).
func (h *holder) stale() bool { return h.bad != nil || h.res.Verdict == procscan.Dead }

// sameAs reports whether h and o are the same incarnation of a file, not
// touched in between: the same inode, content and change time. The change
// time matters for leases: a holder that refreshed its lease since we judged
// it expired is not the file we judged.
func (h *holder) sameAs(o *holder) bool {
	return protocol.SameIncarnation(sysFS{},
		protocol.File{Info: h.fi, Data: h.data}, protocol.File{Info: o.fi, Data: o.data})
}

// id names this incarnation for the claim chain. A complete record's nonce is
// unique to the token that wrote it; anything else (a seed record, an empty
// file) is named by a hash of its file identity and content.
func (h *holder) id() string {
	if h.bad == nil && validNonce(h.rec.Nonce) {
		return h.rec.Nonce
	}
	sum := sha256.Sum256(append([]byte(fsx.Key(h.fi)+"\n"), h.data...))
	return hex.EncodeToString(sum[:nonceBytes])
}

// heldBy says in one clause who holds the lock, for errors: "held by pid
// 4242 (backup) on db1, since ...", or, where no record tells (an empty
// file, a file this user may not read, a read cut short), what is known.
func (h *holder) heldBy() string {
	switch {
	case h.fi == nil:
		return h.res.Reason
	case h.bad != nil:
		return fmt.Sprintf("%s is empty: it names no holder", h.path)
	}
	return "held by " + h.String()
}

// String describes the holder for logs and errors.
func (h *holder) String() string {
	switch {
	case h.fi == nil:
		return h.res.Reason
	case h.bad != nil:
		return fmt.Sprintf("%s is empty: it names no holder", h.path)
	}
	r := h.rec
	host := r.Host
	if host == "" {
		host = "an unnamed host"
	}
	return fmt.Sprintf("pid %d (%s) on %s, since %s (%s)", r.PID, r.Name, host,
		fsx.ChangeTime(h.fi).Format(time.DateTime), h.res)
}

// Owner describes the process named in a lock file.
type Owner struct {
	PID  int
	Name string // base name of its argv[0]
	Host string // empty for a seed-format record
	// Started is when the process started, where that can be told from
	// here (same boot on Linux); otherwise zero.
	Started time.Time
	// Since is when the lock file was put in place: its inode change time
	// (its modification time where the OS has no change time).
	Since time.Time
	// Verdict says whether the process is alive, dead (the lock is stale and
	// the next Lock takes it over) or unknown (treated as alive).
	Verdict procscan.Verdict
	// Reason explains the verdict.
	Reason string
	// Denied, for a dead holder's lock file, is why this user may not take
	// it over (wrapping ErrForeignStale): the file is another user's, in a
	// directory with the sticky bit. Nil otherwise.
	Denied error
	// Record is the full record of the lock file.
	Record fileformat.Record
}

// String describes the owner in one line.
func (o Owner) String() string {
	if o.PID == 0 { // no record read (see readCut)
		return fmt.Sprintf("%s: %s", o.Verdict, o.Reason)
	}
	return fmt.Sprintf("pid %d (%s) on %s since %s: %s, %s", o.PID, o.Name, o.Host,
		o.Since.Format(time.DateTime), o.Verdict, o.Reason)
}

// owner is h as Owner reports it. A holder that names nobody (a lock file
// read cut short, see readCut) has only its verdict and reason.
func (h *holder) owner() Owner {
	started, _ := procscan.StartTime(h.rec)
	var since time.Time
	if h.fi != nil {
		since = fsx.ChangeTime(h.fi)
	}
	return Owner{
		PID: h.rec.PID, Name: h.rec.Name, Host: h.rec.Host,
		Started: started, Since: since,
		Verdict: h.res.Verdict, Reason: h.res.Reason, Denied: denied(h), Record: h.rec,
	}
}
