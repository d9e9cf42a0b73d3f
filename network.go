package openlock

import (
	"context"
	"path/filepath"
	"time"

	"github.com/openlock/openlock/internal/fsx"
)

// Network file systems: what a client's caches do to the lock, and why the
// lock stays safe.
//
// A client of a network file system (NFS, GlusterFS, SMB, ...) answers a
// lookup of a name (stat, open), the attributes of a file and even its
// content from its own caches for a while after another client changed
// them: the kernel's entry and attribute caches (seconds; NFS: acdirmax, 60
// s by default) and the client's own (GlusterFS: md-cache and quick-read, 1
// s). A name replaced or removed elsewhere may still lead here to the file
// it held before, or give ESTALE; a failed exclusive create may be the
// client's answer from its cache too. Directory listings are no better: a
// GlusterFS listing was seen to name, for minutes, the file a rename had
// replaced. What a client cannot answer alone is an exclusive create that
// succeeds (link, O_EXCL), a rename or an unlink: the server decides those.
//
// So, where the lock directory is not known to be local (fsx.Local), the
// lock rests on this property of the file system: after CacheTime
// (WithCacheTime), a client no longer answers from a cache filled before
// that time. Each decision is safe with a stale read, or is taken on a read
// made CacheTime after the step that made the decision ours:
//
//   - Taking a free lock is link(2): the server grants it to one client.
//   - A holder is judged from the record in the file that its name led to.
//     A file's record never changes, so the verdict is right for that file,
//     though the file may no longer be at the lock path: a stale judgement
//     only starts a takeover, and the takeover checks again.
//   - A takeover, holding its claim, waits CacheTime before it re-reads the
//     lock file and each dead claim it passed, so that what it reads is
//     what the server held after the claim was created; from then on
//     nothing else can change them (their owners are dead, and the last
//     claim is ours; see internal/protocol). Without the wait, a client that
//     still caches a dead holder's file would replace the lock of the
//     process that had just taken it over.
//   - Tokens are written to the server (fsync) before their name appears,
//     so that no client reads a live holder's lock file as empty, and so
//     stale, because the content was still on its way.
//   - A sweep removes a dead process's token or temporary link at once: such
//     a name only ever held that process's files. A dead claim, whose name
//     other claimers reuse, is removed by the takeover that passed it (and
//     re-read it after its wait), by Clean, which waits out the cache
//     between judging and removing, or by a sweep once the claim is older
//     than CacheTime by the file system's clock, when a read of its chain
//     can no longer be older than the claim (the argument: sweep.go). A
//     sweep lists the directory only
//     while its FileLock holds the lock, when the lock path cannot change:
//     a GlusterFS 10.3 server whose listing raced a rename of a name kept
//     naming the replaced file there, for minutes, to every client that
//     listed or looked it up (see sweep.go).
//   - A link of our token is checked to have made our token's file: a
//     GlusterFS client was seen to send the server a stale name of the
//     token's file (another of its links) as the source (see token.go).
//   - A lease's or a reservation's age is read from the attribute cache
//     and counted a cache time short (ageOf): asking the server for fresh
//     attributes of an inode makes a GlusterFS client keep every name it
//     last saw bound to that inode, a released lock file included.
//   - A writer judges that no reader of the shared lock is in on a mkdir or
//     a rmdir of the readers' directory that succeeds, never on a lookup or
//     a listing; readers take the lock file to register (rlock.go).
//   - ESTALE means the name changed under us: look again (fsx.Restale).
//   - Waiters on other machines see a release a cache time late; a
//     reservation of the next turn keeps the lock from staying with the
//     releasing machine (turn.go). It is advice, never a safety step.
//
// What the cache time does not cover: a leased holder whose lease expired
// while it was cut off may see its lock as its own for up to CacheTime
// after another host took it over, and so remove the new holder's lock file
// if it unlocks in that time. Leases across machines rest on time anyway;
// LockContext tells such a holder of the loss.

// remote reports whether the lock's directory is not known to be local, so
// that other machines' clients may change it while ours answers from its
// cache. l.mu must be held.
func (l *FileLock) remote() bool {
	if l.tok != nil {
		return l.tok.remote
	}
	return l.cfg.test.assumeRemote || !fsx.Local(filepath.Dir(l.abs))
}

// cacheTime is how long a read here may lag behind the server: 0 on a
// local file system. l.mu must be held.
func (l *FileLock) cacheTime() time.Duration {
	if !l.remote() {
		return 0
	}
	return l.cfg.CacheTime
}

// outwaitCache waits until the caches of this client hold nothing older
// than now, with l.mu released (see sleepUnlocked). l.mu must be held.
func (l *FileLock) outwaitCache(ctx context.Context) error {
	d := l.cacheTime()
	if d <= 0 {
		return nil
	}
	l.debug("waiting out the file system's cache before checking again", "cache_time", d)
	return l.sleepUnlocked(ctx, d)
}
