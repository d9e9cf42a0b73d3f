package openlock

// The line: processes waiting for one lock queue in order, so that a
// release wakes one of them, not all (Linux; elsewhere every waiter
// watches the lock file through the shared watcher, notify.go).
//
// A waiter that finds the lock held by a live holder H joins the line: it
// exclusively links its token to <lock>.<H's nonce>.after ("I wait right
// after H"). If that name exists, it reads the record there (the waiter W1
// already after H) and tries <lock>.<W1's nonce>.after, and so on to the
// end of the line, as an MCS lock's waiter swaps itself in at the tail.
//
// Each waiter watches one inode with inotify: the token of the one it waits
// right behind (through that waiter's entry, or, right behind the holder,
// through the lock file), for a change of its link count (IN_ATTRIB), and
// that process with a pidfd. Every name a process gives its token (the
// lock file, its entry) is a hard link of it, so its token's link count
// changes exactly when it releases the lock, joins the line or leaves it:
// the kernel rings the next waiter, and only it, with no file or system
// call of ours. A release (the lock file's unlink) thus wakes the one
// waiter behind the releaser, which takes the free lock by renaming its
// entry onto the lock path (renameat2 with RENAME_NOREPLACE; a bare
// link(2) where the file system lacks it). The rename moves a name of its
// token rather than adding one, so its link count stays, and the waiter
// behind it sleeps on: it is woken by the release, not by the take (a
// link would wake it for both, and make it re-arm in between). A waiter that
// gives up leaves the line by removing its entry, which wakes the waiter
// behind it. A waiter that finds the waiter ahead gone from the line (its
// entry removed, or moved onto the lock path) waits right behind the
// holder, watching the lock file. A waiter that joins behind W checks,
// once its entry is made, that W's entry is still there: if not, W left
// (or took the lock) before the watch began, and the joiner waits right
// behind the holder. A waiter whose waiter ahead dies (holding the lock or
// not) is woken by the pidfd and looks at the lock file, and takes over a
// lock its holder left stale. So a dead waiter is skipped, never waited
// for.
//
// A waiter behind another waiter looks at the lock file only as a net for
// a turn that does not come (a waiter ahead stopped by SIGSTOP), every two
// retry periods for each waiter that was ahead of it when it joined, up to
// 16: the line as a whole looks about every two retry periods. While the
// lock file is the one it judged last, that look is one statx, and the
// waiter then watches the holder's token too and sleeps until the holder's
// release (up to 16 retry periods): no turn is due before it. The first
// in line, while notification covers its wait, looks every 16 retry
// periods (waiter.pause). A newcomer that queues behind a waiter whose
// entry is still there once the watch is on does not look (settle): its
// watch misses nothing, and a bare link would take a lock just freed for
// the waiter ahead.
//
// The line is advice for wake-ups and order, never what mutual exclusion
// rests on. A waiter, however it was woken, takes the lock only by an
// exclusive creation of the lock path as a name of its token (link(2), or
// the rename of its entry, which fails as link does if the name exists,
// and whose result is checked: see takeFromLine), or by a takeover of a
// stale lock file through a claim (takeover.go); nothing in the line
// grants or blocks that.
// A process that never joined the line (a TryLock, a newcomer, a waiter on
// another machine) competes as before, and may take a free lock before the
// first in line: a flock(2) newcomer may too. The worst the line can do is
// fail to wake someone (a dead waiter's entry swept while another process
// reused its name): then the polls, which every waiter keeps, find the
// free lock within a retry period. Several waiters may wait right behind
// the holder at once (a line that formed behind a holder that lost the
// race to a newcomer, waiters behind one that gave up): then a release
// wakes those few.
//
// A holder that did not wait (the uncontended Lock) has no place in the
// line and looks for no waiter: the first in line watches its token. So
// the uncontended Lock and Unlock make no extra system call.
//
// Not on a network file system: another client's waiters see no change of
// a link count made through another client (turn.go). Files: the entries
// are links of live tokens, judged like any token by sweep.
