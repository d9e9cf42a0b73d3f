// Package protocol holds openlock's file protocol: the decisions that make
// the lock exclusive, taken on the files they read, and nothing else. It
// has no goroutines, never waits and holds no mutex: where the protocol
// must wait (a cache time, a pause before a retry), it says so to its
// caller, whose loop does the waiting. It reaches the file system only
// through FS, so the same code runs on the system calls (package openlock)
// and on a simulated file system (package simfs, for the checker).
//
// # The lock
//
// The lock is a file at the lock path, a hard link of its holder's token:
// a file of the holder's own beside it, whose record names the holder.
// Taking a free lock is link(2) of the token onto the lock path (Take),
// which the file system grants to one process. A lock file is ours iff it
// is our token's inode holding our token's record (Owned).
//
// # Taking over a stale lock, by one-shot claims
//
// The right to replace one incarnation of the lock file (one inode with one
// content) is won by exclusively creating <lock>.break.<id>, a name that
// belongs to that incarnation only: <id> is the nonce of its record, unique
// to the dead holder's token, or a hash of an empty or seed-format file's
// identity and content. The claim is a hard link of our token, so it names
// us (Takeover.Claim).
//
// If the claim exists and its owner lives, we wait like any waiter. If its
// owner is dead too, authority passes down a chain: the next claim is named
// after the dead claimer's nonce, <lock>.break.<its nonce>, and so on.
//
// Holding the claim, we re-read the lock file (Takeover.Reread). If it is
// still the incarnation we judged stale, we replace it atomically by
// renaming our claim over it (Takeover.Replace; the claim is a link of our
// token, and its name must go once the incarnation it names is gone); if
// not, someone finished before us and we start over. Where a network
// client may answer from its cache, we first wait out the cache
// (Takeover.CachePause), and re-read the dead claims we passed as well: a
// stale read may have shown us a stale file that another process had
// already replaced and released its claim on, or a dead claim that its
// live owner had already dropped and another taken anew. While we wait, the
// caller links our token to the lock path now and then: if the stale file
// was only a memory of our cache and the lock is free, the link takes it,
// as any acquisition does.
//
// Why this is safe without any timing assumption: while a dead holder's
// file sits at the lock path, nobody else can change it. A link(2) onto it
// fails, its holder cannot release it, and exactly one live process at a
// time holds the claim at the end of its chain, because each claim name is
// created once and only its live owner removes it. The re-read under the
// claim is what ties the claim to the file: a claim name is free again
// once the incarnation it names was replaced (the winner's claim became
// the lock file), so a late claimer that won the same name and skipped
// the re-read would replace the winner's lock. The one assumption is that
// a Dead verdict is never wrong, which is why package procscan answers
// Unknown (treated as alive) whenever it cannot be sure; the verdict is
// the caller's, passed in with each File.
//
// On a network file system the re-read is safe only when it is made
// CacheTime after the claim: a client that still caches the dead holder's
// inode and content for the lock path would otherwise find the
// incarnation unchanged, and rename its claim over the lock of the process
// that had just taken it over.
//
// The checker (internal/protocol/check) runs this code on simfs with
// several processes, every schedule up to a bound, crashes after any step,
// and keeps both failures above caught as mutations (Faults), and Fischer
// mode's failure under a pause longer than its race delay.
package protocol
