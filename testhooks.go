package openlock

import (
	"time"

	"github.com/openlock/openlock/procscan"
)

// testHooks are the settings of a FileLock that only tests change. Their zero
// value is what every user gets: no Option of the API sets them. Tests set
// them with Options defined in testhooks_test.go (withTable, withFirstPause,
// withoutNotify, withRemote, withLink), which are not part of the package
// outside its tests.
type testHooks struct {
	// table replaces the process table holders are judged by
	// (procscan.System()), so that a test can make a holder alive, dead or
	// unknown at will.
	table procscan.Table
	// firstPause is the first pause of a waiter's backoff (0: the constant
	// firstPause), so that a test can make polling far too slow to explain
	// what it observes.
	firstPause time.Duration
	// noNotify turns file-change notification off: polling alone must
	// serve, as for a waiter on another machine.
	noNotify bool
	// assumeRemote makes a lock on a local file system behave as on a
	// network one (network.go): takeovers wait out the cache time, claims
	// are swept after it.
	assumeRemote bool
	// yielded, if set, is called where a release yields its processor to
	// the waiter it woke (yieldToNext, Linux).
	yielded func()
	// link, if set, stands for the file system's link(2) of our token to a
	// name (FileLock.link), so that a test can make it answer as a
	// misbehaving file system would. A token made while it is set takes no
	// raw system call of the uncontended path (fastpath_linux.go): every
	// link of the lock goes through it.
	link func(oldname, newname string) error
	// registering, if set, is called as a reader is about to link its
	// registration into the readers' directory dir, having judged it, so
	// that a test can change what is at that name in between, as another
	// user may.
	registering func(dir string)
}

// linkOr returns the link(2) a test injected, or def.
func (h testHooks) linkOr(def func(oldname, newname string) error) func(oldname, newname string) error {
	if h.link != nil {
		return h.link
	}
	return def
}

// tableOr returns the process table a test injected, or def.
func (h testHooks) tableOr(def procscan.Table) procscan.Table {
	if h.table != nil {
		return h.table
	}
	return def
}
