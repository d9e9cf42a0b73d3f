package main

import (
	"errors"
	"os"
	"path/filepath"
	"time"

	"github.com/openlock/openlock"
	"github.com/openlock/openlock/internal/stress"
)

var demoCommand = &command{
	name:     "demo",
	synopsis: "[flags]",
	summary:  "watch processes take turns at one lock, and a holder get killed",
	help: `
Demo shows the lock at work, in a temporary directory it removes afterwards.
Several worker processes (this program, started again) take turns at one
lock file: each takes the lock, stays inside a moment, releases it, pauses,
and again. Part way, the process holding the lock is killed with SIGKILL:
its lock file stays behind, naming a dead process, and the next process to
look takes it over.

Every worker reports when it took and released the lock, on one clock all
processes share; and inside, each creates a marker file exclusively and
checks that no live process is inside. The summary counts acquisitions and
verifies, both ways, that no two processes ever held the lock at once; it
gives the handoff times (a release to the next waiter's acquisition), the
recovery times (a kill to the next acquisition) and what was left behind.

On a terminal the demo draws a live view; elsewhere it writes a line per
event. It takes about --duration. Exit status: 0 when every check passed, 1
when one failed, 2 on error, 64 on bad usage.`,
	examples: `  go run ./cmd/openlock demo
  openlock demo --workers 6 --kills 3 --duration 20s
  openlock demo --plain | tee demo.log`,
	main: demoMain,
}

func demoMain(c *cli, f *flagSet, args []string) int {
	workers := f.Int("workers", 4, "how many worker processes take turns (2 to 16)")
	kills := f.Int("kills", 2, "how many times to kill the holder (0 to workers-1)")
	duration := f.Duration("duration", 12*time.Second, "how long the workers run (1s or more)")
	retry := f.Duration("retry-period", 0, "the workers' retry period: the longest pause between two looks at a busy lock (0: the library's default)")
	plain := f.Bool("plain", false, "write a line per event even on a terminal")
	_, _, code, ok := f.parse(c, args)
	switch {
	case !ok:
		return code
	case *workers < 2 || *workers > 16:
		c.errorf("demo: --workers %d: want 2 to 16", *workers)
		return exitUsage
	case *kills < 0 || *kills >= *workers:
		c.errorf("demo: --kills %d: want 0 to %d", *kills, *workers-1)
		return exitUsage
	case *duration < time.Second:
		c.errorf("demo: --duration %v: want 1s or more", *duration)
		return exitUsage
	case *retry < 0:
		c.errorf("demo: --retry-period %v: want 0 or more", *retry)
		return exitUsage
	}
	if *retry == 0 {
		*retry = openlock.GetDefaults().RetryPeriod
	}
	dir, err := os.MkdirTemp("", "openlock-demo-")
	if err != nil {
		c.errorf("demo: %v", err)
		return exitError
	}
	defer os.RemoveAll(dir)
	d := &demo{cli: c, lock: filepath.Join(dir, "demo.lock"), workers: *workers, kills: *kills,
		duration: *duration, retry: *retry}
	return d.run(!*plain && isTerminal(c.stdout))
}

// A demo is one run of "openlock demo".
type demo struct {
	*cli
	lock            string
	workers, kills  int
	duration, retry time.Duration
	view            *demoView
	pool            *stress.Pool
}

// Each worker holds the lock for a time drawn from demoHold, then pauses for
// one from demoPause: long enough to watch, short enough for a dozen turns
// each.
var (
	demoHold  = stress.Range{Min: 150 * time.Millisecond, Max: 450 * time.Millisecond}
	demoPause = stress.Range{Min: 50 * time.Millisecond, Max: 250 * time.Millisecond}
)

func (d *demo) run(live bool) int {
	d.view = newDemoView(d.cli, d.lock, live, d.duration)
	p, err := stress.NewPool(stress.Options{Lock: d.lock, Hold: demoHold, Pause: demoPause,
		RetryPeriod: d.retry, Observe: d.view.event})
	if err != nil {
		d.errorf("demo: %v", err)
		return exitError
	}
	d.pool = p
	d.view.start(d.workers)
	err = d.play()
	d.view.note("time is up: the workers finish their turns and exit")
	err = errors.Join(err, p.Close())
	left, after, lerr := stress.Leftovers(d.lock, time.Minute)
	d.view.stop()
	if err = errors.Join(err, lerr); err != nil {
		d.errorf("demo: %v", err)
		return exitError
	}
	if !d.summary(p.Report(), left, after) {
		return exitNo
	}
	return exitOK
}

// play starts the workers and kills holders at even intervals.
func (d *demo) play() error {
	for range d.workers {
		if _, err := d.pool.Start(stress.RoleCycle); err != nil {
			return err
		}
	}
	start := time.Now()
	for i := range d.kills {
		time.Sleep(time.Until(start.Add(d.duration * time.Duration(i+1) / time.Duration(d.kills+1))))
		if err := d.killHolder(); err != nil {
			return err
		}
	}
	time.Sleep(time.Until(start.Add(d.duration)))
	return nil
}

// killHolder kills a process part way through its turn: a moment after it
// took the lock. Should the kill find the lock free, or the process just
// done with it, it tries again with the next holder.
func (d *demo) killHolder() error {
	for len(d.pool.Live("")) > 1 {
		n := d.pool.Acquisitions()
		if err := d.pool.WaitFor("a worker to take the lock", func() bool { return d.pool.Acquisitions() > n }); err != nil {
			return err
		}
		time.Sleep(demoHold.Min / 5)
		if k, ok := d.pool.KillHolder(); ok && k.Holding {
			return nil
		}
	}
	return nil
}
