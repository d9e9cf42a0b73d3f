// Package handover lets the openlock command take a lock on behalf of another
// process and release it later from a third ("openlock lock --pid $$" and
// "openlock unlock --pid $$" in a shell script). It holds hooks that package
// openlock sets when it is initialised, so that this stays out of the
// library's API: no other module can import an internal package.
//
// Why hooks: the hand-over needs the FileLock's unexported state (its token,
// whether it holds the lock, its place in the in-process queue), and Go lets
// no other package reach that except through exported names, which would be
// API. Package openlock therefore imports this one and fills in the hooks in
// init, as golang.org/x/tools/go/packages fills in its internal
// packagesinternal. The alternative that needs no hook, the command doing the
// hand-over itself through the public API, would check ownership by the
// record alone (not by the token's inode) and rebuild the record's fields
// beside token.go: weaker and duplicated.
package handover

// The hooks, set by package openlock. l is an *openlock.FileLock.
var (
	// To hands the lock l holds to the live process pid: the lock file is
	// replaced, in one rename, by one that names pid and its start time,
	// and l no longer holds the lock. The lock is then held while pid
	// lives, stale once it has exited, and released by Release.
	To func(l any, pid int) error
	// Release removes l's lock file if it names the live process pid, as To
	// wrote it; otherwise it returns an error wrapping openlock.ErrNotHeld
	// and removes nothing.
	Release func(l any, pid int) error
)
