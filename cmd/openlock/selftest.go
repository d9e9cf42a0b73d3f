package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/openlock/openlock"
	"github.com/openlock/openlock/internal/fsprobe"
	"github.com/openlock/openlock/internal/stress"
)

var selftestCommand = &command{
	name:     "selftest",
	synopsis: "[flags] DIR [DIR...]",
	params:   []string{"DIR", "[DIR...]"},
	summary:  "torture the lock on a file system: kills, races, checks",
	help: `
Selftest proves the lock on the file system of DIR (a local disk, tmpfs, an
NFS, SMB or FUSE mount): it works in a new directory inside DIR, which it
removes afterwards when everything passed.

First it reports what the file system supports: exclusive create (O_EXCL),
hard links (and that a link onto an existing name is refused), rename over an
existing file. Without hard links (or where a link reports another file
than its source, as on sshfs) openlock cannot work there: selftest shows the
library's error and exits 3, running no lock cycles.

Then it runs rounds of two phases:
  churn  -n processes take the lock --cycles times each, holding it for --hold
         and pausing for --pause; at --kills random moments, the process the
         lock file names is killed with SIGKILL (holding, just releasing or
         just taking the lock again) and replaced.
  races  --races times, a process takes the lock and is killed holding it,
         then -n racers go for the stale lock at once; in every second race,
         one racer is killed a moment later, perhaps in mid-takeover.

Every acquisition and release is reported on one clock all processes share;
inside, each process creates a marker file exclusively and checks that no
live process is inside. The verdict line gives cycles, kills, recoveries and
their times (a kill to the next acquisition, p50 and max), takeovers,
handoffs (a release to the next acquisition by a process that was waiting,
with no kill in between: the max is the longest wait on a free lock), overlaps (two processes holding
the lock at once, found either way) and debris (files left once one more
lock has swept and cleaned what killed processes left). It passes when
overlaps and debris are 0 and every killed holder's lock was recovered.

On a network file system (NFS, SMB, FUSE), the lock waits --cache-time
before it replaces a stale lock, for the clients' caches to expire (the
library's WithCacheTime): give the mounts' own cache time, if longer than
the default. A handoff between mounts takes up to the client's cache time.

--soak DURATION repeats rounds for that long with 8 processes (unless -n is
given), printing about ten progress lines on the way.

Several DIRs are paths to one directory, each through a mount of its own:
two mounts of one network volume, say. The processes take them in turn
(process i uses path i modulo their number; overlaps and errors name each
process's path), so that every acquisition, release and takeover made
through one mount must be seen through the others. All reach the marker
file through the first path, whose view of it is coherent. The verdict
says "across N paths". Before anything runs, selftest checks that the
paths are one directory (a file created through the first must appear
through each other within 30 s) and exits 2 if not.

To check a cluster of machines that share a volume, mount the volume twice
on one of them, each mount made the way the hosts mount it (same type,
options, cache and attribute timeouts), and pass both mount points: each
mount is a client with caches of its own, as each host is. (Two NFS mounts
of one export share one cache unless mounted with nosharecache.) What it
cannot check: all processes run on this machine, under one clock and one
process table, so a killed holder is always seen dead here, whereas a
holder on another host is respected until it releases the lock or its
lease (WithLease) runs out, and leases depend on the hosts' clocks. The
library's tests cover those, not a mount.

Every phase ends by a deadline, so that a verdict always comes: a phase that
does not finish (a mount that never answers) fails, naming the phase.

Exit status: 0 passed, 1 failed, 2 error (DIR not writable, the DIRs not
one directory), 3 the file system has no hard links, 64 bad usage.`,
	examples: `  openlock selftest /tmp
  openlock selftest /mnt/nfs/shared            # a network file system
  openlock selftest -n 8 --cycles 500 --kills 40 /dev/shm
  openlock selftest --soak 10m /mnt/nfs/shared # minutes, 8 processes
  openlock selftest /mnt/vol-a /mnt/vol-b      # two mounts of one volume`,
	main: selftestMain,
}

// Exit status of selftest when the file system cannot hold the lock.
const exitUnsupported = 3

func selftestMain(c *cli, f *flagSet, args []string) int {
	cfg := stress.TortureConfig{
		Options: stress.Options{Hold: stress.Range{Max: time.Millisecond}, Pause: stress.Range{Max: time.Millisecond}},
	}
	f.IntVar(&cfg.Procs, "n", 4, "how many processes contend at a time (`N`, 2 to 64)")
	f.alias("n", "procs")
	f.IntVar(&cfg.Cycles, "cycles", 250, "churn: how many times each process takes the lock per round")
	f.IntVar(&cfg.Kills, "kills", 20, "churn: how many holders are killed per round")
	f.IntVar(&cfg.Races, "races", 20, "how many stale-lock races per round")
	f.Var(&cfg.Hold, "hold", "how long a process stays inside: a `DURATION`, or MIN,MAX to draw from")
	f.Var(&cfg.Pause, "pause", "churn: how long a process pauses between turns: a `DURATION`, or MIN,MAX")
	f.DurationVar(&cfg.RetryPeriod, "retry-period", 10*time.Millisecond, "the processes' retry period: the longest pause between two looks at a busy lock")
	cacheTime := f.Duration("cache-time", openlock.DefaultCacheTime,
		"on a network or FUSE file system: how long a client may answer from its caches (the library's WithCacheTime); "+
			"set it to what the mounts cache, or 0 for one FUSE mount that nothing else changes")
	f.DurationVar(&cfg.Duration, "soak", 0, "repeat rounds for `DURATION` (minutes, say) with 8 processes unless -n is given")
	f.DurationVar(&cfg.Patience, "patience", time.Minute, "fail when no process makes progress for this long")
	pos, _, code, ok := f.parse(c, args)
	switch {
	case !ok:
		return code
	case cfg.Cycles < 1 || cfg.Kills < 0 || cfg.Races < 0 || cfg.RetryPeriod <= 0 || cfg.Duration < 0 || cfg.Patience <= 0 || *cacheTime < 0:
		c.errorf("selftest: --cycles must be at least 1; --kills, --races, --soak and --cache-time not negative; --retry-period and --patience positive")
		return exitUsage
	}
	cfg.CacheTime = *cacheTime
	if cfg.CacheTime == 0 {
		cfg.CacheTime = -1 // none, for the pool (its 0 is the library's default)
	}
	if cfg.Duration > 0 && !f.isSet("n") {
		cfg.Procs = 8
	}
	if cfg.Procs < 2 || cfg.Procs > 64 {
		c.errorf("selftest: -n %d: want 2 to 64 processes", cfg.Procs)
		return exitUsage
	}
	return newSelftest(c, cfg, pos).run()
}

// isSet reports whether the flag (or its alias) was given.
func (f *flagSet) isSet(name string) bool {
	set := false
	f.Visit(func(fl *flag.Flag) {
		if fl.Name == name || f.aliases[fl.Name] == name {
			set = true
		}
	})
	return set
}

// A selftest is one run of "openlock selftest".
type selftest struct {
	*cli
	cfg  stress.TortureConfig
	dirs []string         // the paths to the directory under test
	fs   []fsprobe.Result // what the probe found through each path
	// probeDir finds out what the file system does in a directory, and
	// lockOnce takes the lock at a path once, within ctx, and releases it:
	// fsprobe.Probe and the library, unless a test puts fakes in their
	// place.
	probeDir func(dir string) (fsprobe.Result, error)
	lockOnce func(ctx context.Context, lock string) error
}

func newSelftest(c *cli, cfg stress.TortureConfig, dirs []string) *selftest {
	return &selftest{cli: c, cfg: cfg, dirs: dirs, probeDir: fsprobe.Probe, lockOnce: lockOnce}
}

// lockOnce takes the lock at path, within ctx, and releases it.
func lockOnce(ctx context.Context, path string) error {
	l, err := openlock.New(path)
	if err != nil {
		return err
	}
	if err := l.Lock(ctx); err != nil {
		l.Close()
		return err
	}
	return l.Close()
}

// sameDirWait bounds how long a file created through the first of several
// paths may take to appear through the others. A network file system's
// client may answer from its cache for a while (GlusterFS's for 1 s by
// default, or its mount's entry timeout), but a path that shows nothing for
// this long does not lead to the directory.
const sameDirWait = 30 * time.Second

// refusalWait bounds the one Lock on a file system without hard links (or
// the patience, if shorter). The library refuses it at once
// (ErrNoHardLinks); a Lock still busy after this long would wait for ever.
const refusalWait = 10 * time.Second

// Every phase of a selftest ends by a deadline, so that it gives a verdict
// whatever the file system (or a bug of the library) does: the checks of
// the DIRs, the probe, the refusal and the debris check run within (a
// phase that does not finish is the verdict), and each wait of the torture
// for its worker processes ends after --patience.

// grace is how long a phase may run past its deadline.
func (t *selftest) grace() time.Duration { return t.cfg.RetryPeriod + phaseGrace }

func (t *selftest) run() int {
	work, err := within("check of the DIRs", 2*sameDirWait, t.grace(), func(context.Context) (string, error) { return t.workDir() })
	if errors.Is(err, errPhaseUnfinished) {
		return t.unfinished(err, "")
	}
	if err != nil {
		t.errorf("selftest: %v", err)
		return exitError
	}
	// The work directory, and the lock in it, through each path.
	works, locks := make([]string, len(t.dirs)), make([]string, len(t.dirs))
	for k, dir := range t.dirs {
		works[k] = filepath.Join(dir, filepath.Base(work))
		locks[k] = filepath.Join(works[k], "selftest.lock")
	}
	if err := t.probe(works); err != nil {
		if errors.Is(err, errPhaseUnfinished) {
			return t.unfinished(err, work)
		}
		os.Remove(work)
		t.errorf("selftest: %v", err)
		return exitError
	}
	for k, fs := range t.fs {
		if fs.Link != nil {
			return t.noHardLinks(works[k], locks[k], fs)
		}
	}
	start := time.Now()
	t.cfg.Lock, t.cfg.Aliases = locks[0], locks[1:]
	t.cfg.Progress = t.progress(start)
	var trace bytes.Buffer
	t.cfg.Trace = &trace
	r, runErr := stress.Torture(t.cfg)
	left, after, leftErr := t.leftovers(locks[0])
	if errors.Is(leftErr, errPhaseUnfinished) {
		return t.unfinished(leftErr, work)
	}
	took := time.Since(start).Round(100 * time.Millisecond)
	pass := runErr == nil && leftErr == nil && len(r.Overlaps) == 0 && len(after) == 0 && r.Unrecovered == 0
	verdict := "PASS"
	if !pass {
		verdict = "FAIL"
	}
	notes := ""
	if n := len(left) - len(after); n > 0 {
		notes = fmt.Sprintf(" (%d left by killed processes, swept by the next lock)", n)
	}
	errs := append(flatten(runErr), flatten(leftErr)...)
	if len(errs) > 0 {
		// The verdict line alone (CI's summary) must say why it failed.
		notes += fmt.Sprintf(", errors %d", len(errs))
	}
	fmt.Fprintf(t.stdout, "selftest %s on %s (%s): %d processes, %s, debris %d%s, %v\n",
		verdict, strings.Join(t.dirs, " "), t.types(), t.cfg.Procs, figures(r), len(after), notes, took)
	for _, o := range r.Overlaps {
		fmt.Fprintf(t.stdout, "  overlap: %s\n", o)
	}
	if len(after) > 0 {
		fmt.Fprintf(t.stdout, "  debris in %s: %s\n", work, strings.Join(after, " "))
	}
	if r.Unrecovered > 0 {
		fmt.Fprintf(t.stdout, "  %d killed holders' locks were never taken again\n", r.Unrecovered)
	}
	for _, err := range errs {
		fmt.Fprintf(t.stdout, "  error: %v\n", err)
	}
	if !pass {
		fmt.Fprintf(t.stdout, "  the files are kept for inspection in %s\n", work)
		if trace.Len() > 0 {
			events := filepath.Join(work, "events.log")
			os.WriteFile(events, trace.Bytes(), 0o644)
			fmt.Fprintf(t.stdout, "  what the processes reported, event by event: %s\n", events)
		}
		return exitNo
	}
	os.RemoveAll(work)
	return exitOK
}

// workDir checks the DIRs, that several are one directory, and makes the
// directory to work in inside the first.
func (t *selftest) workDir() (string, error) {
	for _, dir := range t.dirs {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			if err == nil {
				err = errors.New("not a directory")
			}
			return "", fmt.Errorf("%s: %v", dir, err)
		}
	}
	if len(t.dirs) > 1 {
		if err := fsprobe.SameDir(t.dirs, sameDirWait); err != nil {
			return "", err
		}
	}
	work, err := os.MkdirTemp(t.dirs[0], "openlock-selftest-")
	if err != nil {
		return "", fmt.Errorf("cannot work in %s: %v", t.dirs[0], err)
	}
	return work, nil
}

// probe finds out what the file system does through each path (works[k] is
// the work directory through t.dirs[k]), and reports it.
func (t *selftest) probe(works []string) error {
	for k, work := range works {
		fs, err := within("probe of "+t.dirs[k], t.cfg.Patience, t.grace(), func(context.Context) (fsprobe.Result, error) {
			return t.probeDir(work)
		})
		if err != nil {
			return err
		}
		t.fs = append(t.fs, fs)
		fmt.Fprintf(t.stdout, "file system of %s: %s\n  %s\n", t.dirs[k], fs.Where(), fs.Summary())
	}
	if len(works) > 1 {
		// The numbers that name the paths in overlaps and errors.
		var paths []string
		for k, dir := range t.dirs {
			paths = append(paths, fmt.Sprintf("path %d: %s", k+1, dir))
		}
		fmt.Fprintf(t.stdout, "the %d paths lead to one directory; the processes take them in turn (%s)\n", len(works), strings.Join(paths, ", "))
	}
	return nil
}

// leftovers is stress.Leftovers on lock, within the patience for its Lock
// and the cache time for its Clean.
func (t *selftest) leftovers(lock string) (left, after []string, err error) {
	type files struct{ left, after []string }
	cacheTime := max(t.cfg.CacheTime, 0)
	fs, err := within("debris check", t.cfg.Patience+cacheTime, t.grace(), func(context.Context) (files, error) {
		left, after, err := stress.Leftovers(lock, t.cfg.Patience, openlock.WithCacheTime(cacheTime))
		return files{left, after}, err
	})
	return fs.left, fs.after, err
}

// unfinished gives the verdict of a selftest one phase of which did not
// finish (err says which), keeping its files, if any, for inspection.
func (t *selftest) unfinished(err error, work string) int {
	on := strings.Join(t.dirs, " ")
	if types := t.types(); types != "" {
		on += " (" + types + ")"
	}
	fmt.Fprintf(t.stdout, "selftest FAIL on %s: %v: a file-system call that never returned, or a bug of the library\n", on, err)
	if work != "" {
		fmt.Fprintf(t.stdout, "  the files are kept for inspection in %s\n", work)
	}
	return exitNo
}

// types names the file system types for the verdict, and the number of
// paths when there are several: "ext4", "fuse.glusterfs, across 2 paths".
func (t *selftest) types() string {
	var types []string
	for _, fs := range t.fs {
		if !slices.Contains(types, fs.Type) {
			types = append(types, fs.Type)
		}
	}
	if len(t.dirs) > 1 {
		types = append(types, fmt.Sprintf("across %d paths", len(t.dirs)))
	}
	return strings.Join(types, ", ")
}

// progress returns the progress function of a soak (nil otherwise): about
// ten progress lines, each 5 s to a minute apart.
func (t *selftest) progress(start time.Time) func(int, stress.Report) {
	if t.cfg.Duration <= 0 {
		return nil
	}
	every := min(max(t.cfg.Duration/10, 5*time.Second), time.Minute)
	last := start
	return func(round int, r stress.Report) {
		if time.Since(last) >= every {
			last = time.Now()
			fmt.Fprintf(t.stdout, "  %v: round %d, %s\n", time.Since(start).Round(time.Second), round, figures(r))
		}
	}
}

// flatten lists the errors that err joins (one per failed worker, say), or
// err itself.
func flatten(err error) []error {
	if err == nil {
		return nil
	}
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return []error{err}
	}
	var errs []error
	for _, e := range joined.Unwrap() {
		errs = append(errs, flatten(e)...)
	}
	return errs
}

// figures formats the measures of a report for the verdict line.
func figures(r stress.Report) string {
	return fmt.Sprintf("%d cycles, %d kills (%d holding the lock, %d in Lock), %d recoveries (p50 %v, max %v), "+
		"%d takeovers (p50 %v), handoffs p50 %v max %v, overlaps %d",
		r.Acquisitions, r.Kills, r.HolderKills, r.TakerKills, len(r.Recoveries),
		stress.Round(stress.Quantile(r.Recoveries, 0.5)), stress.Round(stress.Quantile(r.Recoveries, 1)),
		r.Takeovers, stress.Round(stress.Quantile(r.Windows, 0.5)),
		stress.Round(stress.Quantile(r.Handoffs, 0.5)), stress.Round(stress.Quantile(r.Handoffs, 1)), len(r.Overlaps))
}

// noHardLinks shows what the library does on a file system without hard
// links (the probe found none through the path to work): a clear error, at
// once, and nothing left behind. It runs no lock cycles.
func (t *selftest) noHardLinks(work, lock string, fs fsprobe.Result) int {
	_, err := within("refusal of the lock on a file system without hard links", min(refusalWait, t.cfg.Patience), t.grace(), func(ctx context.Context) (struct{}, error) {
		return struct{}{}, t.lockOnce(ctx, lock)
	})
	if errors.Is(err, errPhaseUnfinished) {
		return t.unfinished(err, work)
	}
	left, _ := os.ReadDir(work)
	os.RemoveAll(work)
	on := fmt.Sprintf("%s (%s)", strings.Join(t.dirs, " "), t.types())
	switch {
	case errors.Is(err, openlock.ErrNoHardLinks) && len(left) == 0:
		fmt.Fprintf(t.stdout, "selftest UNSUPPORTED on %s: no hard links (%s); the lock refuses with ErrNoHardLinks and leaves nothing behind\n  %s\n",
			on, linkReason(fs.Link), describe(err))
		return exitUnsupported
	case err == nil:
		fmt.Fprintf(t.stdout, "selftest FAIL on %s: the probe found no hard links (%s), yet the lock was taken\n", on, linkReason(fs.Link))
	default:
		fmt.Fprintf(t.stdout, "selftest FAIL on %s: without hard links (%s), Lock said %q (want ErrNoHardLinks) and left %d files\n", on, linkReason(fs.Link), describe(err), len(left))
	}
	return exitNo
}

// linkReason is the probe's reason why hard links fail, without the names
// of its files: "link: operation not permitted".
func linkReason(err error) string {
	if le, ok := err.(*os.LinkError); ok {
		return le.Op + ": " + le.Err.Error()
	}
	return err.Error()
}
