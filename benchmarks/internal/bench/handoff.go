package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// HandoffConfig describes a contended run: Procs processes take turns on
// one lock until Handoffs acquisitions are made.
//
// Every handoff goes to a process that is already waiting: after acquiring,
// a worker waits (on the board, without polling) until all the others are
// inside Lock, stays in the critical section for a random time, uniform in
// [0, 2*Hold] (a fixed one would fall in step with a poller's backoff and
// flatter or punish it by chance), stamps the release time and unlocks; having released, it waits until another process has
// acquired before it calls Lock again, so it cannot take the lock straight
// back. Each release thus has Procs-1 waiters.
type HandoffConfig struct {
	Lib string
	// Dirs are paths to one directory: one path, or the mounts of one
	// network volume (each its own client, as on different hosts). Worker
	// i (from 0) uses Dirs[i % len(Dirs)].
	Dirs     []string
	Procs    int
	Handoffs int
	Hold     time.Duration // mean time in the critical section
	Timeout  time.Duration // bounds the whole run
}

// HandoffResult is what a contended run measured.
type HandoffResult struct {
	// Latencies are release-to-acquire times, one per handoff: from the
	// moment a holder begins to release to the moment a waiting process
	// holds the lock, on CLOCK_MONOTONIC, which both processes read. The
	// run's first acquisition is no handoff: Handoffs-1 of them.
	Latencies []time.Duration
	// Crossed tells, for each latency, whether the releaser and the
	// acquirer used different Dirs (different clients).
	Crossed []bool
	// Acquired counts the acquisitions of each worker, by index (worker i
	// used Dirs[i % len(Dirs)]): Handoffs in all, the first one included.
	Acquired []int
	// Elapsed is the time from the first acquisition to the last counted
	// one, in which the handoffs of Latencies happened.
	Elapsed time.Duration
	// LongestWait is the longest time any worker spent in Lock for one
	// counted acquisition: how long the lock may leave a process out.
	LongestWait time.Duration
	// CPU is the processor time (user and system) the workers used from
	// the start signal to the end of the run (getrusage of each, their
	// start-up excluded): the run's cost.
	CPU time.Duration
}

// PerSecond is n events in d, per second; 0 if d is not positive.
func PerSecond(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// handoffReport is a worker's result line.
type handoffReport struct {
	Latencies []int64 // ns
	From      []int64 // for each latency, the ID of the releaser
	Acquired  int     // acquisitions counted (up to Spec.Handoffs in all)
	MaxWait   int64   // ns: the longest Lock of a counted acquisition
	CPU       int64   // ns: processor time used from the start signal to the end
}

// Handoff runs the contended measurement.
func Handoff(cfg HandoffConfig) (HandoffResult, error) {
	dirs, err := SharedDir(cfg.Dirs, "handoff-")
	if err != nil {
		return HandoffResult{}, err
	}
	defer os.RemoveAll(dirs[0])
	// The board stays on a local disk, out of reach of the caches of the
	// file system under test.
	local, err := os.MkdirTemp("", "openlock-board-")
	if err != nil {
		return HandoffResult{}, err
	}
	defer os.RemoveAll(local)
	boardPath := filepath.Join(local, "board")
	b, err := MapBoard(boardPath, true)
	if err != nil {
		return HandoffResult{}, err
	}
	spec := Spec{Lib: cfg.Lib, Board: boardPath,
		Procs: cfg.Procs, Handoffs: cfg.Handoffs, Hold: cfg.Hold, Limit: cfg.Timeout}
	var g group
	defer func() { g.stop() }()
	for i := range cfg.Procs {
		spec.ID = int64(i + 1)
		spec.Lock = filepath.Join(pathOf(dirs, i), "handoff.lock")
		c, err := start("handoff", spec)
		if err != nil {
			return HandoffResult{}, err
		}
		g = append(g, c)
	}
	for _, c := range g {
		if _, err := c.expect("ready", cfg.Timeout); err != nil {
			return HandoffResult{}, err
		}
	}
	b.Run.Store(runRunning)
	Wake(&b.Run)
	var res HandoffResult
	for _, c := range g {
		var r handoffReport
		if err := c.result(&r, cfg.Timeout); err != nil {
			return HandoffResult{}, err
		}
		res.Latencies = append(res.Latencies, Nanos(r.Latencies)...)
		res.Acquired = append(res.Acquired, r.Acquired)
		res.LongestWait = max(res.LongestWait, time.Duration(r.MaxWait))
		res.CPU += time.Duration(r.CPU)
		for _, from := range r.From {
			// IDs are 1 + the worker's index.
			res.Crossed = append(res.Crossed, pathOf(dirs, int(from-1)) != pathOf(dirs, len(res.Acquired)-1))
		}
	}
	for _, c := range g {
		if err := c.Wait(cfg.Timeout); err != nil {
			return HandoffResult{}, err
		}
	}
	res.Elapsed = time.Duration(b.Stopped.Load() - b.First.Load())
	return res, nil
}

// roleHandoff is one worker of Handoff.
func roleHandoff(s Spec) error {
	b, err := MapBoard(s.Board, false)
	if err != nil {
		return err
	}
	return withMutex(s, func(ctx context.Context, m Mutex) error { return handoffLoop(ctx, s, b, m) })
}

// handoffLoop takes turns with the other workers until the run stops.
func handoffLoop(ctx context.Context, s Spec, b *Board, m Mutex) error {
	deadline, _ := ctx.Deadline()
	fmt.Println("ready")
	if !Await(&b.Run, func(v uint32) bool { return v != runWaiting }, deadline) {
		return fmt.Errorf("no start signal")
	}
	others := uint32(s.Procs - 1)
	var r handoffReport
	cpu0 := cpuTime()
	for b.Run.Load() == runRunning {
		b.Waiting.Add(1)
		Wake(&b.Waiting)
		called := Mono()
		if err := m.Lock(ctx); err != nil {
			return err
		}
		t := Mono()
		b.Waiting.Add(^uint32(0))
		prev := b.Holder.Swap(s.ID)
		released := b.Released.Load()
		g := b.Gen.Add(1)
		Wake(&b.Gen)
		if g == 1 {
			b.First.Store(t)
		}
		if int(g) <= s.Handoffs {
			r.Acquired++
			r.MaxWait = max(r.MaxWait, t-called)
			if prev != 0 && prev != s.ID {
				r.Latencies = append(r.Latencies, t-released)
				r.From = append(r.From, prev)
			}
		}
		if int(g) == s.Handoffs {
			b.Stopped.Store(t)
			b.Run.Store(runStopping)
			Wake(&b.Run)
			Wake(&b.Waiting)
			Wake(&b.Gen)
		}
		stopping := func() bool { return b.Run.Load() != runRunning }
		if !stopping() {
			// Hand over only to a full queue of waiters.
			if !Await(&b.Waiting, func(v uint32) bool { return v >= others || stopping() }, deadline) {
				return fmt.Errorf("the other workers did not all come to wait")
			}
			sleepPrecisely(rand.N(2*s.Hold + 1))
		}
		b.Released.Store(Mono())
		if err := m.Unlock(); err != nil {
			return err
		}
		// Do not take the lock straight back: wait until another has it.
		if !Await(&b.Gen, func(v uint32) bool { return v != g || stopping() }, deadline) {
			return fmt.Errorf("nobody took the lock after us")
		}
	}
	r.CPU = int64(cpuTime() - cpu0)
	return printResult(r)
}

// sleepPrecisely sleeps d in the kernel (nanosleep), blocking this thread:
// Go's timers wake on a millisecond grid here (time.Sleep of 50 µs takes
// about 1.07 ms), which would put every hold in step with a poller's
// backoff.
func sleepPrecisely(d time.Duration) {
	ts := unix.NsecToTimespec(int64(d))
	for unix.Nanosleep(&ts, &ts) == unix.EINTR {
	}
}
