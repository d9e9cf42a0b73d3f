// Command compare runs the multi-process benchmarks of openlock against
// github.com/gofrs/flock (and, uncontended, github.com/nightlyone/lockfile)
// and prints one markdown table, with ratios against flock from interleaved
// runs (A B A B ...), so that noise of the machine falls on both alike.
//
// Usage (from the benchmarks directory):
//
//	go run ./cmd/compare                      # quick mode: about 30 seconds
//	go run ./cmd/compare -mode full -charts charts
//	go run ./cmd/compare -mode full -only handoff,crash
//	go run ./cmd/compare -mode full -only uncontended,shared
//	go run ./cmd/compare -mode full -dir /mnt/a,/mnt/b   # across two mounts of one volume
//
// It measures the race window of openlock's takeovers, idle and under load
// (a CPU hog per core plus an fsync-heavy writer); the uncontended
// Lock+Unlock cycle (its mean, and the median of single cycles of one lock
// object in a loop); the release-to-acquire latency and throughput of
// contended handoffs between processes; the time from a holder's SIGKILL to
// the next acquisition (and its median when the waiter has waited a short
// fixed time); the CPU a process uses while it waits; and the
// shared lock (RLock, against flock's LOCK_SH): the uncontended
// RLock+RUnlock and the throughput of 1, 4 and 16 reader processes. Given
// several paths to one directory (-dir /mnt/a,/mnt/b: two mounts of one
// network volume, each its own client, as two hosts would have), it
// measures across them instead: the uncontended cycle through one mount,
// handoffs between processes on different mounts (and how the acquisitions
// fall between the clients), and the recovery of a waiter on one mount
// from a holder killed on another. The workers are this program,
// re-executed in a role.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/openlock/openlock"
	"github.com/openlock/openlock/benchmarks/internal/bench"
	"github.com/openlock/openlock/internal/reexec"
)

// The measurements, in the order they run and appear.
var measures = []string{"racewindow", "uncontended", "handoff", "crash", "waitcost", "shared"}

// acrossMeasures are those that run across several paths to one directory.
var acrossMeasures = []string{"uncontended", "handoff", "crash"}

func main() {
	reexec.Main(bench.Roles)
	mode := flag.String("mode", "quick", "quick (about 30 seconds) or full (the README's table, about 6 minutes)")
	tiny := flag.Bool("tiny", false, "shrink every count to a token one (for CI: checks that everything runs; the figures mean nothing)")
	charts := flag.String("charts", "", "write charts into this directory")
	chartFormat := flag.String("chart-format", "svg", "format of the charts: svg or png")
	dir := flag.String("dir", "", "directory for the lock files (default: the system's temporary directory); or several paths to one directory, comma-separated (mounts of one network volume, each its own client), to measure across them")
	only := flag.String("only", "", "comma-separated measurements to run (default: all: "+strings.Join(measures, ",")+
		"; across several -dir paths: "+strings.Join(acrossMeasures, ",")+")")
	procs := flag.String("procs", "", "handoff: comma-separated numbers of processes to run (default: the mode's, e.g. 2,3,4,5,8,9,17,33 in full)")
	hold := flag.Duration("hold", 0, "handoff: mean time each holder stays in the critical section (uniform in [0, 2*hold]; default 1ms, across several -dir paths 50ms)")
	flag.Parse()

	dirs := strings.FieldsFunc(*dir, func(c rune) bool { return c == ',' })
	across := len(dirs) > 1
	p, err := planNamed(*mode, *tiny, across)
	if err != nil {
		fatal(err)
	}
	if *chartFormat != "svg" && *chartFormat != "png" {
		fatal(fmt.Errorf("unknown -chart-format %q (svg or png)", *chartFormat))
	}
	avail := measures
	if across {
		avail = acrossMeasures
	}
	sel := avail
	if *only != "" {
		sel = strings.Split(*only, ",")
	}
	for _, m := range sel {
		if !slices.Contains(avail, m) {
			fatal(fmt.Errorf("unknown measurement %q in -only (known with %d -dir paths: %s)", m, max(len(dirs), 1), strings.Join(avail, ",")))
		}
	}
	work, err := bench.SharedDir(dirs, "openlock-compare-")
	if err != nil {
		fatal(err)
	}
	defer os.RemoveAll(work[0])

	if *hold > 0 {
		p.Hold = *hold
	}
	if *procs != "" {
		if p.Procs, err = parseProcs(*procs); err != nil {
			fatal(err)
		}
	}
	r := &results{plan: p, started: time.Now(), loadBefore: loadAverage()}
	if across {
		r.mounts = dirs
	}
	run := map[string]func(*results, []string) error{
		"racewindow":  measureRaceWindow,
		"uncontended": measureUncontended,
		"handoff":     measureHandoff,
		"crash":       measureCrash,
		"waitcost":    measureWaitCost,
		"shared":      measureShared,
	}
	for _, m := range measures {
		if !slices.Contains(sel, m) {
			continue
		}
		t0 := time.Now()
		progress("%s ...", m)
		if err := run[m](r, work); err != nil {
			os.RemoveAll(work[0])
			fatal(fmt.Errorf("%s: %w", m, err))
		}
		progress("%s done in %v", m, time.Since(t0).Round(100*time.Millisecond))
	}
	r.loadAfter = loadAverage()
	fmt.Printf("_%s_\n\n", r.caption())
	r.table(os.Stdout)
	if *charts != "" {
		files, err := writeCharts(r, *charts, *chartFormat)
		if err != nil {
			os.RemoveAll(work[0])
			fatal(err)
		}
		for _, f := range files {
			progress("wrote %s", f)
		}
	}
}

func (r *results) caption() string {
	s := fmt.Sprintf("compare -mode %s, %s, %s/%s, %d CPUs, %s; handoff hold uniform in [0, %v]; load average %s before, %s after",
		r.plan.Name, r.started.UTC().Format("2006-01-02 15:04 MST"), runtime.GOOS, runtime.GOARCH,
		runtime.NumCPU(), runtime.Version(), 2*r.plan.Hold, r.loadBefore, r.loadAfter)
	if r.across() {
		var m []string
		for i, d := range r.mounts {
			m = append(m, mountName(i)+" = "+d)
		}
		s += fmt.Sprintf("; one directory through %d mounts (clients): %s; openlock's cache_time %s",
			len(r.mounts), strings.Join(m, ", "), dur(openlock.GetDefaults().CacheTime))
	}
	return s
}

// across reports whether the lock directory is seen through several mounts.
func (r *results) across() bool { return len(r.mounts) > 1 }

// mountName names the i-th -dir path (from 0) in the table: A, B, ...
func mountName(i int) string { return string(rune('A' + i)) }

// loadAverage returns the 1-minute load average of the machine, which tells
// how much else ran beside the benchmark.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "?"
}

func progress(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "compare: "+format+"\n", a...)
}

func fatal(err error) {
	fmt.Fprintf(os.Stderr, "compare: %v\n", err)
	os.Exit(1)
}
