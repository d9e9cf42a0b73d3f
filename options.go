package openlock

import (
	"fmt"
	"io/fs"
	"log/slog"
	"sync"
	"time"

	"github.com/openlock/openlock/procscan"
)

// Takeover selects how a stale lock (its holder is dead) is taken over.
type Takeover int

const (
	// Claims takes a stale lock over by one-shot claims: exclusive creation
	// of a name that exists for that one stale lock file only. It needs no
	// sleep and no assumption about timing. The default.
	Claims Takeover = iota
	// Fischer is the Python openlock algorithm: overwrite the stale file,
	// sleep the race delay, re-read; still ours means acquired. It is only
	// safe if every process writes within the race delay of observing the
	// stale file, and each takeover costs the race delay. It exists for
	// comparison and compatibility. All processes sharing a lock path must
	// use the same takeover mode.
	Fischer
)

func (t Takeover) String() string {
	switch t {
	case Claims:
		return "claims"
	case Fischer:
		return "fischer"
	}
	return fmt.Sprintf("Takeover(%d)", int(t))
}

// Defaults are the settings a new FileLock starts from. The package defaults
// are those of Python openlock: no timeout, RetryPeriod 0.3 s, RaceDelay
// 0.2 s, Tries 2, SlowSystemError false; plus Takeover Claims, FileMode
// 0644 under the umask, no lease (LeaseMargin 1 s), CheckInterval 1 s, no fencing, and
// CacheTime DefaultCacheTime.
type Defaults struct {
	// Timeout bounds Lock when its context has no deadline; 0 means none.
	Timeout time.Duration
	// RetryPeriod is the longest pause between two looks at a held lock.
	// Waiting starts at about a millisecond and backs off up to it. On
	// Linux, a waiter that notification covers fully (on a local file
	// system, with the holder's process, or the waiter ahead in line,
	// watched) looks only every 16 retry periods, as a safety net.
	RetryPeriod time.Duration
	// RaceDelay is the Fischer mode's sleep between writing the lock file
	// and re-reading it. Claims mode never sleeps.
	RaceDelay time.Duration
	// Tries is how many times Fischer mode writes a stale lock file before
	// giving up with ErrInvalidLockFile.
	Tries int
	// SlowSystemError makes a slow write in Fischer mode fail with
	// ErrSlowSystem instead of logging a warning.
	SlowSystemError bool
	// Takeover selects how stale locks are taken over.
	Takeover Takeover
	// FileMode is the permission of the lock file (and this lock's helper
	// files) before the umask, as the mode of open(2) is: with the usual
	// umask 022 they are 0644, with 077 they are 0600. WithFileMode sets a
	// mode that is applied exactly, whatever the umask (see there).
	FileMode fs.FileMode
	// Logger receives a debug record for every change of state, with the
	// reason, and a warning on a slow system. nil means slog.Default().
	Logger *slog.Logger
	// Lease, when positive, makes a holder refresh its lock file every
	// Lease/3, and marks its record as leased: a holder that cannot be
	// checked from where the reader runs (another host, container or boot)
	// and has not refreshed for Lease plus LeaseMargin is stale. 0: no lease.
	Lease time.Duration
	// LeaseMargin is the slack a reader grants a leased holder beyond its
	// lease, for refreshes delayed by load and for clock skew between the
	// machines' and the file server's clocks (see WithLeaseMargin).
	LeaseMargin time.Duration
	// CheckInterval is how often a holder looks whether its lock file is
	// still its own, when it was taken with LockContext (and how often a
	// lease is refreshed at most). One stat per interval; on local file
	// systems a change is also noticed at once through notification.
	CheckInterval time.Duration
	// Fencing makes every acquisition increment a counter kept in
	// <lock>.fence, readable with Fence (see WithFencing).
	Fencing bool
	// CacheTime is how long a client of the lock's file system may answer
	// from its caches after another client changed the directory, where
	// the file system is not known to be local (see WithCacheTime).
	CacheTime time.Duration
}

// DefaultCacheTime is the default CacheTime: it covers a GlusterFS mount
// with default settings (1 s of kernel entry and attribute cache, and 1 s
// of the client's md-cache), with a second to spare, and NFS mounted with
// lookupcache=positive and actimeo=2 or less.
const DefaultCacheTime = 3 * time.Second

var seedDefaults = Defaults{
	RetryPeriod:   300 * time.Millisecond,
	RaceDelay:     200 * time.Millisecond,
	Tries:         2,
	FileMode:      0o644,
	LeaseMargin:   time.Second,
	CheckInterval: time.Second,
	CacheTime:     DefaultCacheTime,
}

// defaults holds the package defaults. The package's other mutable state is
// the in-process registry of lock paths (queue.go) and the shared
// file-change watcher (notify.go), both reference-counted.
var defaults = struct {
	sync.Mutex
	d         Defaults
	exactMode bool // SetDefaults(WithFileMode(...)): see config.exactMode
}{d: seedDefaults}

// defaultConfig is the configuration a FileLock starts from, before its
// options.
func defaultConfig() config {
	defaults.Lock()
	defer defaults.Unlock()
	return config{Defaults: defaults.d, exactMode: defaults.exactMode}
}

// GetDefaults returns the package defaults.
func GetDefaults() Defaults {
	defaults.Lock()
	defer defaults.Unlock()
	return defaults.d
}

// SetDefaults changes the package defaults for FileLocks created afterwards.
// Either every option is valid and all apply, or none does and the error
// (wrapping ErrInvalidOption) names the first bad one.
func SetDefaults(opts ...Option) error {
	defaults.Lock()
	defer defaults.Unlock()
	c := config{Defaults: defaults.d, exactMode: defaults.exactMode}
	if err := c.apply(opts); err != nil {
		return fmt.Errorf("openlock: SetDefaults: %w", err)
	}
	defaults.d, defaults.exactMode = c.Defaults, c.exactMode
	return nil
}

// An Option changes one setting of a FileLock (with New) or of the package
// defaults (with SetDefaults).
type Option struct {
	f func(*config) error
}

// config is what New resolves: the Defaults and the trace, which users set,
// and the settings only tests change (testhooks.go).
type config struct {
	Defaults
	trace func(Event)    // WithTrace
	table procscan.Table // the process table that judges holders: procscan.System(), or test.table
	test  testHooks
	// exactMode: FileMode was set with WithFileMode, and is applied
	// exactly, whatever the umask; otherwise the umask applies.
	exactMode bool
}

func (c *config) apply(opts []Option) error {
	for _, o := range opts {
		if o.f == nil {
			return fmt.Errorf("zero Option: %w", ErrInvalidOption)
		}
		if err := o.f(c); err != nil {
			return err
		}
	}
	return nil
}

// invalid is the error of a bad option value. It has no "openlock: " prefix:
// New wraps it in an *Error, and SetDefaults adds the prefix itself.
func invalid(format string, a ...any) error {
	return fmt.Errorf(format+": %w", append(a, ErrInvalidOption)...)
}

// WithTimeout sets the default timeout of Lock, used when its context has no
// deadline. 0 means wait as long as the context allows; negative is invalid.
func WithTimeout(d time.Duration) Option {
	return Option{func(c *config) error {
		if d < 0 {
			return invalid("WithTimeout(%v): must not be negative", d)
		}
		c.Timeout = d
		return nil
	}}
}

// WithRetryPeriod sets the longest pause between two looks at a held lock.
// It must be positive.
func WithRetryPeriod(d time.Duration) Option {
	return Option{func(c *config) error {
		if d <= 0 {
			return invalid("WithRetryPeriod(%v): must be positive", d)
		}
		c.RetryPeriod = d
		return nil
	}}
}

// WithRaceDelay sets the race delay of Fischer mode. It must be positive.
func WithRaceDelay(d time.Duration) Option {
	return Option{func(c *config) error {
		if d <= 0 {
			return invalid("WithRaceDelay(%v): must be positive", d)
		}
		c.RaceDelay = d
		return nil
	}}
}

// WithTries sets how many times Fischer mode writes a stale lock file before
// giving up. It must be at least 1.
func WithTries(n int) Option {
	return Option{func(c *config) error {
		if n < 1 {
			return invalid("WithTries(%d): must be at least 1", n)
		}
		c.Tries = n
		return nil
	}}
}

// WithSlowSystemError makes a slow write in Fischer mode an ErrSlowSystem
// error (true) or a logged warning (false, the default).
func WithSlowSystemError(fail bool) Option {
	return Option{func(c *config) error {
		c.SlowSystemError = fail
		return nil
	}}
}

// WithTakeover selects how stale locks are taken over: Claims (the default)
// or Fischer.
func WithTakeover(t Takeover) Option {
	return Option{func(c *config) error {
		if t != Claims && t != Fischer {
			return invalid("WithTakeover(%v): unknown mode", t)
		}
		c.Takeover = t
		return nil
	}}
}

// WithFileMode sets the permission bits of the lock file (and of this
// lock's helper files: its token, the fence), applied exactly, whatever the
// umask. The owner must be able to read and write it; only permission bits
// (0o777) are allowed.
//
// Without it, lock files are created with mode 0644 under the process's
// umask, as any file is: 0644 with the usual umask 022, 0600 with 077. The
// record in a lock file names its holder's host, machine id and boot id,
// which a umask of 077 keeps from other users. But other users must read
// the lock file to judge whether its holder lives: one they cannot read
// counts as held for them, never as stale, so that if its holder dies, they
// wait until the holder's user (or root) removes it, or for ever. Where
// several users share a lock, give them read access (0644, or 0640 and a
// common group); where one user locks alone, 0600 is enough.
func WithFileMode(mode fs.FileMode) Option {
	return Option{func(c *config) error {
		if mode&^fs.ModePerm != 0 || mode&0o600 != 0o600 {
			return invalid("WithFileMode(%v): must be permission bits including 0600", mode)
		}
		c.FileMode, c.exactMode = mode, true
		return nil
	}}
}

// WithLogger sets the logger; nil means slog.Default() at the time of use.
func WithLogger(l *slog.Logger) Option {
	return Option{func(c *config) error {
		c.Logger = l
		return nil
	}}
}

// WithLease makes the holder refresh its lock file every d/3 and marks its
// record as leased, so that if it cannot be checked from where another
// process runs (another host, container or boot) and it stops refreshing for
// d (plus the reader's lease margin, and on a network file system the cache
// time, as the age is read through the client's cache: see WithCacheTime),
// its lock is stale there. A crashed
// container or host then no longer blocks the lock forever.
//
// A holder that can be checked (same host, boot and PID namespace) is judged
// by its process, never by its lease: a paused but live local holder keeps
// its lock. Leased and unleased FileLocks may share a lock path: readers
// honour the lease written in each record.
//
// A lease rests on time: a holder on another machine that is paused (or cut
// off) for longer than d loses its lock without knowing until its next
// check (see LockContext) or Unlock (ErrLockLost). Use WithFencing where that
// matters. d must be at least a second; 0 turns leases off.
func WithLease(d time.Duration) Option {
	return Option{func(c *config) error {
		if d != 0 && d < time.Second {
			return invalid("WithLease(%v): must be 0 (off) or at least 1s", d)
		}
		c.Lease = d
		return nil
	}}
}

// WithLeaseMargin sets the slack granted to a leased holder beyond its
// lease before its lock is stale (default 1 s). Ages are measured against
// the file system's own clock (this process touches a file of its own and
// reads the time back), so the clocks of the machines sharing the directory
// may differ freely on file systems that stamp times with the server's clock
// (local file systems, NFS). Where the client's clock stamps the times
// (SMB, some FUSE file systems), the margin must cover the skew between the
// holder's and the reader's clocks. Negative is invalid.
func WithLeaseMargin(d time.Duration) Option {
	return Option{func(c *config) error {
		if d < 0 {
			return invalid("WithLeaseMargin(%v): must not be negative", d)
		}
		c.LeaseMargin = d
		return nil
	}}
}

// WithCacheTime sets how long a client of the lock's file system may answer
// lookups (stat, open) and reads from its caches after another client
// changed the lock directory (default DefaultCacheTime). It applies only
// where the lock directory is not on a local file system (ext4, xfs, btrfs,
// tmpfs and the like, whose kernel cache is the truth): on NFS, SMB and
// FUSE mounts, a takeover of a stale lock waits this long after it claimed
// the lock, so that the file it checks before replacing it is the server's
// and not a cached memory of it. Set it to at least the longer of the
// mount's entry and attribute cache times plus the client's own cache
// (GlusterFS: entry-timeout or attribute-timeout, plus
// performance.md-cache-timeout; NFS:
// acdirmax with the default lookupcache=all, or actimeo with
// lookupcache=positive). 0 trusts every lookup, which is right only for a
// file system whose clients never cache names (NFS with lookupcache=none
// and noac). Mutual exclusion across machines rests on this bound; see the
// README's "How it works". Negative is invalid.
func WithCacheTime(d time.Duration) Option {
	return Option{func(c *config) error {
		if d < 0 {
			return invalid("WithCacheTime(%v): must not be negative", d)
		}
		c.CacheTime = d
		return nil
	}}
}

// WithCheckInterval sets how often a holder that took the lock with
// LockContext checks that its lock file is still its own (default 1 s); each
// check costs one stat. It must be positive.
func WithCheckInterval(d time.Duration) Option {
	return Option{func(c *config) error {
		if d <= 0 {
			return invalid("WithCheckInterval(%v): must be positive", d)
		}
		c.CheckInterval = d
		return nil
	}}
}

// WithFencing makes every acquisition increment a counter kept beside the
// lock file, in <lock>.fence, and Fence return it. Downstream code that
// remembers the highest value it has seen can refuse work from a holder
// whose lock was taken over (a lease expired, a live holder judged dead by
// an operator's hand): its value is lower. It costs a file write per
// acquisition, and on a network file system a wait of CacheTime too (see
// WithCacheTime): a client may otherwise read the counter as it was before
// a holder on another machine raised it.
func WithFencing(on bool) Option {
	return Option{func(c *config) error {
		c.Fencing = on
		return nil
	}}
}
