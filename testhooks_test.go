package openlock

import (
	"time"

	"github.com/openlock/openlock/procscan"
)

// The options that set the test hooks (testhooks.go). They exist in tests
// only: a user cannot reach them.

// withTable injects a process table.
func withTable(t procscan.Table) Option {
	return Option{func(c *config) error {
		c.test.table = t
		return nil
	}}
}

// withFirstPause sets the first backoff pause, so that a test can make
// polling far too slow to explain what it observes.
func withFirstPause(d time.Duration) Option {
	return Option{func(c *config) error {
		c.test.firstPause = d
		return nil
	}}
}

// withoutNotify turns file-change notification off: polling alone serves.
func withoutNotify() Option {
	return Option{func(c *config) error {
		c.test.noNotify = true
		return nil
	}}
}

// withRemote makes a FileLock on a local file system behave as on a network
// one: takeovers wait out the cache time, claims are swept after it.
func withRemote(cacheTime time.Duration) Option {
	return Option{func(c *config) error {
		c.test.assumeRemote = true
		c.CacheTime = cacheTime
		return nil
	}}
}

// withYielded has f called where a release yields its processor to the
// waiter it woke (Linux).
func withYielded(f func()) Option {
	return Option{func(c *config) error {
		c.test.yielded = f
		return nil
	}}
}

// withLink has f stand for the file system's link(2) of the FileLock's
// token (see testHooks.link).
func withLink(f func(oldname, newname string) error) Option {
	return Option{func(c *config) error {
		c.test.link = f
		return nil
	}}
}

// withRegistering has f called as a reader is about to link its
// registration (see testHooks.registering).
func withRegistering(f func(dir string)) Option {
	return Option{func(c *config) error {
		c.test.registering = f
		return nil
	}}
}
