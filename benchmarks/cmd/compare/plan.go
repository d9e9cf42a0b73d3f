package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// A plan says how much of each measurement to run.
type plan struct {
	Name string

	Takeovers int // race window: takeovers per mode and per condition (idle, load)
	Block     int // race window: takeovers per block; the modes alternate by block

	// uncontended: rounds, and cycles per library in each, for the mean
	// and (each cycle timed, in a block per library) the median
	UncontendedRounds, UncontendedOps int

	Procs       []int // handoff: numbers of processes (1 holder, the rest waiting)
	FigureProcs int   // handoff: the number the target is stated for
	Handoffs    int   // handoff: acquisitions per run
	// Hold is the mean time in the critical section (uniform in [0,
	// 2*Hold]) unless -hold says otherwise.
	Hold   time.Duration
	Rounds int // handoff: runs per library and number of processes

	CrashTrials  int // per library
	CrashMinWait time.Duration
	CrashMaxWait time.Duration
	// crash, median: trials per library, each killing the holder once the
	// waiter has waited CrashShortWait
	CrashMedianTrials int
	CrashShortWait    time.Duration

	Waiters []int // cost of waiting: numbers of waiting processes
	WaitFor time.Duration
	// shared lock: uncontended RLock+RUnlock rounds and cycles per round;
	// reader throughput by number of reader processes, runs per library
	// and the length of each run
	SharedRounds, SharedOps int
	Readers                 []int
	ReaderRounds            int
	ReadersFor              time.Duration
	ChildTimeout            time.Duration // bounds every wait for a child
}

var plans = map[string]plan{
	// quick: every figure in about 30 seconds, with fewer samples.
	"quick": {
		Name: "quick", Takeovers: 1000, Block: 100,
		UncontendedRounds: 6, UncontendedOps: 5000,
		Procs: []int{2, 4, 8}, FigureProcs: 4, Handoffs: 300, Rounds: 2, Hold: time.Millisecond,
		CrashTrials: 8, CrashMinWait: 10 * time.Millisecond, CrashMaxWait: time.Second,
		CrashMedianTrials: 8, CrashShortWait: 20 * time.Millisecond,
		Waiters: []int{1, 4}, WaitFor: 2 * time.Second,
		SharedRounds: 6, SharedOps: 5000, Readers: []int{1, 4, 16}, ReaderRounds: 2, ReadersFor: time.Second,
		ChildTimeout: 2 * time.Minute,
	},
	// full: the README's table; about 6 minutes on 2 cores.
	"full": {
		Name: "full", Takeovers: 10000, Block: 250,
		UncontendedRounds: 20, UncontendedOps: 20000,
		Procs: []int{2, 3, 4, 5, 8, 9, 17, 33}, FigureProcs: 4, Handoffs: 1000, Rounds: 3, Hold: time.Millisecond,
		CrashTrials: 60, CrashMinWait: 10 * time.Millisecond, CrashMaxWait: time.Second,
		CrashMedianTrials: 20, CrashShortWait: 20 * time.Millisecond,
		Waiters: []int{1, 2, 4, 8, 16, 32}, WaitFor: 10 * time.Second,
		SharedRounds: 20, SharedOps: 20000, Readers: []int{1, 4, 16}, ReaderRounds: 5, ReadersFor: 3 * time.Second,
		ChildTimeout: 5 * time.Minute,
	},
}

// acrossPlans are the plans for several paths to one directory (-dir a,b):
// between clients of a network file system a handoff can take a second (a
// client answers from its cache) and a takeover waits openlock's
// cache_time, so there are fewer samples. Handoff runs with one process per
// mount (every handoff crosses clients) and two (where the acquisitions
// fall tells how fair the lock is between clients). The hold is longer
// (uniform in [0, 100 ms]), so that a waiter on the other mount has asked
// the server and found the lock held before it is released, as a waiter
// of a lock held for a while would have: with the local 0 to 2 ms, the
// release often comes before the waiter's first link reaches the server,
// which then succeeds at once.
var acrossPlans = map[string]plan{
	"quick": {
		Name:              "quick",
		UncontendedRounds: 4, UncontendedOps: 200,
		Procs: []int{2, 4}, Handoffs: 20, Rounds: 1, Hold: 50 * time.Millisecond,
		CrashTrials: 3, CrashMinWait: 10 * time.Millisecond, CrashMaxWait: time.Second,
		CrashMedianTrials: 3, CrashShortWait: 20 * time.Millisecond,
		ChildTimeout: 5 * time.Minute,
	},
	"full": {
		Name:              "full",
		UncontendedRounds: 10, UncontendedOps: 1000,
		Procs: []int{2, 4}, Handoffs: 50, Rounds: 2, Hold: 50 * time.Millisecond,
		CrashTrials: 20, CrashMinWait: 10 * time.Millisecond, CrashMaxWait: time.Second,
		CrashMedianTrials: 20, CrashShortWait: 20 * time.Millisecond,
		ChildTimeout: 5 * time.Minute,
	},
}

// tiny shrinks every count of p to the least that still runs each part of
// it once, for CI: the figures mean nothing then.
func (p plan) tiny() plan {
	p.Name += " (tiny)"
	p.Takeovers, p.Block = 4, 2
	p.UncontendedRounds, p.UncontendedOps = 2, 20
	p.Handoffs, p.Rounds = 6, 1
	p.CrashTrials, p.CrashMinWait, p.CrashMaxWait = 1, time.Millisecond, 5*time.Millisecond
	p.CrashMedianTrials, p.CrashShortWait = 1, time.Millisecond
	p.WaitFor = 100 * time.Millisecond
	p.SharedRounds, p.SharedOps, p.ReaderRounds, p.ReadersFor = 2, 20, 1, 100*time.Millisecond
	return p
}

// planNamed returns the plan of mode name, across several mounts if across.
func planNamed(name string, tiny, across bool) (plan, error) {
	p, ok := plans[name]
	if across {
		p, ok = acrossPlans[name]
	}
	if !ok {
		return plan{}, fmt.Errorf("unknown -mode %q (quick or full)", name)
	}
	if tiny {
		p = p.tiny()
	}
	return p, nil
}

// parseProcs reads -procs: numbers of processes, each at least 2 (a holder
// and a waiter).
func parseProcs(s string) ([]int, error) {
	var ns []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 2 {
			return nil, fmt.Errorf("-procs %q: %q is not a number of processes of at least 2", s, f)
		}
		ns = append(ns, n)
	}
	return ns, nil
}
