package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/openlock/openlock"
	"github.com/openlock/openlock/benchmarks/internal/bench"
)

// results gathers the samples of every measurement that ran.
type results struct {
	plan    plan
	started time.Time

	loadBefore, loadAfter string // the machine's load average

	// mounts are the -dir paths to one directory, when there are several
	mounts []string

	// race window: by condition ("idle", "load"), then by mode
	windows map[string]map[openlock.Takeover][]time.Duration
	// uncontended: per-round mean cycle time, by library; and the time of
	// each cycle of one lock object, by library (openlock and flock)
	cycles     map[string][]time.Duration
	cycleTimes map[string][]time.Duration
	// handoff: by number of processes, then library
	handoffs map[int]map[string]*handoffRuns
	// handoff across mounts: the floor that the clients' caches set
	// (bench.Visibility)
	floor []time.Duration
	// crash recovery, by library: after a wait in [CrashMinWait,
	// CrashMaxWait]; and after CrashShortWait (for the median)
	crashes, shortCrashes map[string][]time.Duration
	// cost of waiting: by number of waiters, then library
	waits map[int]map[string][]bench.WaitUsage
	// shared lock: per-round mean RLock+RUnlock time, by library; reader
	// acquisitions per second, by number of readers, then library, per run
	rcycles map[string][]time.Duration
	rrates  map[int]map[string][]float64
}

// handoffRuns pools the runs of one library at one number of processes.
type handoffRuns struct {
	latencies []time.Duration
	crossed   []bool        // for each latency: between processes on different mounts
	acquired  [][]int       // per run, per process (process i on mount i mod the number of mounts)
	elapsed   time.Duration // the runs' time from first to last acquisition, summed
	longest   time.Duration // the longest wait of a process for one acquisition
	cpu       time.Duration // the workers' processor time, summed over the runs
}

// cpuPerAcquisition is the processor time of all the processes of a run
// per acquisition, from the start signal to the end of the run.
func (h *handoffRuns) cpuPerAcquisition() time.Duration {
	n := 0
	for _, a := range h.acquired {
		for _, k := range a {
			n += k
		}
	}
	if n == 0 {
		return 0
	}
	return h.cpu / time.Duration(n)
}

// spread is the fewest and most acquisitions of one process in one run.
func (h *handoffRuns) spread() (fewest, most int) {
	for i, a := range h.acquired {
		if i == 0 {
			fewest, most = slices.Min(a), slices.Max(a)
		}
		fewest, most = min(fewest, slices.Min(a)), max(most, slices.Max(a))
	}
	return fewest, most
}

// perSecond is the throughput: the handoffs whose latencies are pooled, in
// the time they took.
func (h *handoffRuns) perSecond() float64 { return bench.PerSecond(len(h.latencies), h.elapsed) }

// conditions of the race window, in order.
var conditions = []string{"idle", "load"}

var modes = []openlock.Takeover{openlock.Claims, openlock.Fischer}

// measureRaceWindow samples takeovers in both modes, idle and under load,
// in blocks that take turns: a block of each mode idle, then (the load
// resumed) a block of each mode under load, and so on, so that whatever
// else runs on the machine falls on all four alike.
func measureRaceWindow(r *results, work []string) error {
	stale, err := bench.NewStale()
	if err != nil {
		return err
	}
	load, err := bench.StartLoad(work[0], time.Hour)
	if err != nil {
		return err
	}
	defer load.Stop()
	if err := load.Pause(); err != nil {
		return err
	}
	ts := make(map[string]map[openlock.Takeover]*bench.Takeovers)
	for _, cond := range conditions {
		dir := filepath.Join(work[0], "racewindow-"+cond)
		if err := os.Mkdir(dir, 0o755); err != nil {
			return err
		}
		ts[cond] = make(map[openlock.Takeover]*bench.Takeovers)
		for _, m := range modes {
			t, err := bench.NewTakeovers(dir, m, stale)
			if err != nil {
				return err
			}
			defer t.Close()
			ts[cond][m] = t
		}
	}
	for done := 0; done < r.plan.Takeovers; done += r.plan.Block {
		for _, cond := range conditions {
			if cond == "load" {
				if err := load.Resume(); err != nil {
					return err
				}
				time.Sleep(20 * time.Millisecond) // let the hogs take the cores again
			}
			for _, m := range modes {
				for range min(r.plan.Block, r.plan.Takeovers-done) {
					if err := ts[cond][m].Take(); err != nil {
						return err
					}
				}
			}
			if cond == "load" {
				if err := load.Pause(); err != nil {
					return err
				}
			}
		}
	}
	r.windows = make(map[string]map[openlock.Takeover][]time.Duration)
	for _, cond := range conditions {
		r.windows[cond] = make(map[openlock.Takeover][]time.Duration)
		for _, m := range modes {
			r.windows[cond][m] = ts[cond][m].Windows
		}
	}
	return nil
}

var uncontendedLibs = []string{bench.Openlock, bench.Flock, bench.Nightlyone}

// measureUncontended times the uncontended cycle of each library in rounds,
// the libraries taking turns (their order rotating) within each round: its
// mean over each round's cycles, on a new lock object per round; then, on
// one lock object per library kept for all rounds, as a loop would use it,
// each cycle of a block, openlock's and flock's blocks taking turns.
func measureUncontended(r *results, work []string) error {
	ms := make(map[string]bench.Mutex)
	for _, lib := range contendedLibs {
		m, err := bench.OpenWarm(lib, filepath.Join(work[0], "cycles-"+lib+".lock"))
		if err != nil {
			return err
		}
		defer m.Close()
		ms[lib] = m
	}
	r.cycles = make(map[string][]time.Duration)
	r.cycleTimes = make(map[string][]time.Duration)
	for round := range r.plan.UncontendedRounds {
		if err := meanCycles(r, work[0], round); err != nil {
			return err
		}
		for i := range contendedLibs {
			lib := contendedLibs[(round+i)%len(contendedLibs)]
			d, err := bench.CycleTimes(ms[lib], r.plan.UncontendedOps)
			if err != nil {
				return fmt.Errorf("%s: %w", lib, err)
			}
			r.cycleTimes[lib] = append(r.cycleTimes[lib], d...)
		}
	}
	return nil
}

// meanCycles runs one round of the mean uncontended cycle of every library
// in uncontendedLibs, in an order that rotates with the round.
func meanCycles(r *results, dir string, round int) error {
	for i := range uncontendedLibs {
		lib := uncontendedLibs[(round+i)%len(uncontendedLibs)]
		ops := r.plan.UncontendedOps
		if lib == bench.Nightlyone {
			ops = max(ops/20, 10) // several times slower (7x in the README's run): keep its rounds short
		}
		d, err := bench.Uncontended(lib, dir, ops)
		if err != nil {
			return err
		}
		r.cycles[lib] = append(r.cycles[lib], d)
	}
	return nil
}

var contendedLibs = []string{bench.Openlock, bench.Flock}

// measureHandoff runs the contended handoff for each number of processes,
// openlock and flock taking turns, run by run, and on a local directory the
// floor lock (bench.Floor) too; across mounts, it measures first the floor
// that the clients' caches set.
func measureHandoff(r *results, work []string) error {
	if r.across() {
		floor, err := bench.Visibility(work, r.plan.Hold, r.plan.Handoffs)
		if err != nil {
			return err
		}
		r.floor = floor
		progress("  floor between clients: p50 %v", median(floor))
	}
	libs := contendedLibs
	if !r.across() {
		libs = append(libs[:len(libs):len(libs)], bench.Floor)
	}
	r.handoffs = make(map[int]map[string]*handoffRuns)
	for _, procs := range r.plan.Procs {
		r.handoffs[procs] = make(map[string]*handoffRuns)
		for _, lib := range libs {
			r.handoffs[procs][lib] = &handoffRuns{}
		}
		for range r.plan.Rounds {
			for _, lib := range libs {
				res, err := bench.Handoff(bench.HandoffConfig{Lib: lib, Dirs: work, Procs: procs,
					Handoffs: r.plan.Handoffs, Hold: r.plan.Hold, Timeout: r.plan.ChildTimeout})
				if err != nil {
					return fmt.Errorf("%s, %d processes: %w", lib, procs, err)
				}
				h := r.handoffs[procs][lib]
				h.latencies = append(h.latencies, res.Latencies...)
				h.crossed = append(h.crossed, res.Crossed...)
				h.acquired = append(h.acquired, res.Acquired)
				h.elapsed += res.Elapsed
				h.longest = max(h.longest, res.LongestWait)
				h.cpu += res.CPU
			}
		}
		progress("  handoff, %d processes: openlock p50 %v, flock p50 %v", procs,
			median(r.handoffs[procs][bench.Openlock].latencies), median(r.handoffs[procs][bench.Flock].latencies))
	}
	return nil
}

// measureCrash kills holders, trial by trial, openlock and flock taking
// turns: once the waiter has waited a random time in [CrashMinWait,
// CrashMaxWait], and (the trials for the median) once it has waited
// CrashShortWait.
func measureCrash(r *results, work []string) error {
	r.crashes = make(map[string][]time.Duration)
	r.shortCrashes = make(map[string][]time.Duration)
	for i := range max(r.plan.CrashTrials, r.plan.CrashMedianTrials) {
		if i < r.plan.CrashTrials {
			if err := crashRound(r, work, r.plan.CrashMinWait, r.plan.CrashMaxWait, r.crashes); err != nil {
				return err
			}
		}
		if i < r.plan.CrashMedianTrials {
			if err := crashRound(r, work, r.plan.CrashShortWait, r.plan.CrashShortWait, r.shortCrashes); err != nil {
				return err
			}
		}
	}
	return nil
}

// crashRound runs one trial of each library in turn: it kills the holder
// once the waiter has waited a time in [minWait, maxWait], and adds the
// time to the next acquisition to to[lib].
func crashRound(r *results, work []string, minWait, maxWait time.Duration, to map[string][]time.Duration) error {
	for _, lib := range contendedLibs {
		d, err := bench.Crash(bench.CrashConfig{Lib: lib, Dirs: work, Trials: 1,
			MinWait: minWait, MaxWait: maxWait, Timeout: r.plan.ChildTimeout})
		if err != nil {
			return fmt.Errorf("%s: %w", lib, err)
		}
		to[lib] = append(to[lib], d...)
	}
	return nil
}

// measureWaitCost has 1 to 32 processes wait on a held lock, openlock and
// flock taking turns.
func measureWaitCost(r *results, work []string) error {
	r.waits = make(map[int]map[string][]bench.WaitUsage)
	for _, n := range r.plan.Waiters {
		r.waits[n] = make(map[string][]bench.WaitUsage)
		for _, lib := range contendedLibs {
			u, err := bench.WaitCost(bench.WaitConfig{Lib: lib, Dir: work[0], Waiters: n,
				Wait: r.plan.WaitFor, Timeout: r.plan.ChildTimeout})
			if err != nil {
				return fmt.Errorf("%s, %d waiters: %w", lib, n, err)
			}
			r.waits[n][lib] = u
		}
		progress("  cost of waiting, %d waiters", n)
	}
	return nil
}

// median returns the median of d (sorting a copy).
func median(d []time.Duration) time.Duration {
	return bench.Summarize(append([]time.Duration(nil), d...)).P50
}

// measureShared times the uncontended RLock+RUnlock and the throughput of
// reader processes, openlock and flock (LOCK_SH) taking turns.
func measureShared(r *results, work []string) error {
	r.rcycles = make(map[string][]time.Duration)
	for round := range r.plan.SharedRounds {
		for i := range contendedLibs {
			lib := contendedLibs[(round+i)%len(contendedLibs)]
			d, err := bench.UncontendedShared(lib, work[0], r.plan.SharedOps)
			if err != nil {
				return err
			}
			r.rcycles[lib] = append(r.rcycles[lib], d)
		}
	}
	r.rrates = make(map[int]map[string][]float64)
	for _, n := range r.plan.Readers {
		r.rrates[n] = make(map[string][]float64)
		for range r.plan.ReaderRounds {
			for _, lib := range contendedLibs {
				rate, err := bench.Readers(bench.ReadersConfig{Lib: lib, Dir: work[0], Procs: n,
					For: r.plan.ReadersFor, Timeout: r.plan.ChildTimeout})
				if err != nil {
					return fmt.Errorf("%s, %d readers: %w", lib, n, err)
				}
				r.rrates[n][lib] = append(r.rrates[n][lib], rate)
			}
		}
		progress("  readers, %d processes: openlock %.0f/s, flock %.0f/s", n,
			medianOf(r.rrates[n][bench.Openlock]), medianOf(r.rrates[n][bench.Flock]))
	}
	return nil
}
