// Package openlock is a cross-process lock that uses no inter-process locking
// primitive of the operating system (no flock, fcntl or LockFileEx). The lock
// is a file whose content names its holder; a lock whose holder is gone is
// stale and is taken over safely.
//
// Use it where kernel locks are unreliable or absent (network and FUSE file
// systems, WSL network drives, some container volumes), where an operator
// should be able to see who holds a lock and since when, or where a crashed
// holder's lock must be recovered without anyone's help.
//
//	l, err := openlock.New("/var/lock/myjob.lock")
//	if err != nil { ... }
//	defer l.Close()
//	if err := l.Lock(ctx); err != nil { ... } // honours ctx's deadline
//	defer l.Unlock()
//
// # Contract
//
//   - Mutual exclusion: at most one FileLock, in all processes on all hosts
//     that share the lock directory, holds the lock at a time, provided every
//     process uses this package (or this protocol) on that path, and nobody
//     removes the lock file by hand.
//   - A lock whose holder is dead is taken over at the next attempt, in
//     microseconds to milliseconds, with no sleep and no timing assumption
//     (see Claims). "Dead" is decided only when certain: same host, same boot,
//     same PID namespace, and either no process with the holder's PID or one
//     that started at another time (PID reuse), or a zombie. A holder that
//     cannot be checked from here (another host or container) is respected
//     for as long as the lock file exists.
//   - Goroutines of one process that use one lock path queue in-process and
//     never poll; they see each other's memory writes as with a sync.Mutex,
//     and the race detector agrees. A process waiting for another polls with
//     backoff, and is woken at once by file-change notification when the
//     lock file is removed (where the file system delivers it). On Linux,
//     processes waiting for one lock queue in a line of hard links beside
//     it, each watching the token of the one ahead, so that a release wakes
//     the next waiter only (see docs/protocol.md); the line is advice,
//     never what exclusion rests on.
//   - Lock honours its context in every phase; a cancelled Lock leaves nothing
//     of its own behind. Unlock deletes the lock file only if it is still
//     this FileLock's, and reports ErrLockLost otherwise.
//   - Bad input never panics and never loses data: a lock path that is a
//     directory, symlink, device, a file over 4 KiB or a file that holds
//     anything but a lock record (a user's data file) is ErrNotLockFile and
//     left untouched; only an empty file is taken over as stale. (Python
//     openlock overwrites any file it cannot parse, and then removes it.)
//
// # How it works
//
// Each FileLock creates, once, a token file beside the lock file: <lock>.<nonce>.token,
// holding its record (PID, name, host, boot id, exact start time, PID
// namespace, nonce; the format of package fileformat). Taking the lock is a
// hard link of the token to the lock path, which the file system grants to
// one process only; releasing it is removing the link. A stale lock file is
// replaced by the one process that exclusively creates the claim
// <lock>.break.<id> for that incarnation of the file. The argument that this
// is safe without any timing assumption has one home, docs/protocol.md in
// the module's repository; the one bound on time that network file systems
// add (WithCacheTime), the cache model, has its own, docs/network.md.
//
// # Beyond the seed
//
//   - LockContext returns a context that ends when the lock is released or
//     lost (removed, replaced, taken over), for errgroup.WithContext.
//   - WithLease makes a holder refresh its lock file, so that a holder that
//     cannot be checked (another host or container) and stops refreshing is
//     stale after the lease; ages are read from the file system's own clock.
//   - WithFencing numbers the acquisitions (Fence), for downstream systems
//     that must refuse a former holder.
//
// # Process-wide state
//
// Besides the defaults (SetDefaults), the package keeps two process-wide
// registries, both reference-counted so that they hold nothing once unused:
// the in-process queue of each lock path, and one shared file-change watcher
// (closed after a few idle seconds; on Linux only LockContext's and
// WithLease's keepers use it, as a waiter there waits on descriptors of its
// own).
//
// # Limits
//
//   - The directory must support hard links (ErrNoHardLinks otherwise).
//   - A holder on another host or in another PID namespace is never judged
//     dead, so its lock stays until it releases it, its lease runs out
//     (WithLease) or an operator removes it. One from an earlier boot of
//     this machine is dead only when the lock directory is on a local file
//     system.
//   - Removing a lock file by hand, or sharing a lock path with Python
//     openlock (which judges a Go holder dead), breaks mutual exclusion.
//   - A lock is a lock, not a fence: a holder paused for a long time is still
//     the holder, and one whose lock file was removed learns it after the
//     fact (LockContext, or ErrLockLost at Unlock). WithFencing gives
//     downstream systems the means to refuse it.
package openlock
