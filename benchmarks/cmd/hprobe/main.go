package main

import (
	"flag"
	"fmt"
	"slices"
	"syscall"
	"time"

	"github.com/openlock/openlock/benchmarks/internal/bench"
	"github.com/openlock/openlock/internal/reexec"
)

func main() {
	reexec.Main(bench.Roles)
	lib := flag.String("lib", "openlock", "")
	procs := flag.Int("procs", 33, "")
	n := flag.Int("n", 1000, "")
	flag.Parse()
	var ru0, ru1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru0)
	res, err := bench.Handoff(bench.HandoffConfig{Lib: *lib, Procs: *procs, Handoffs: *n, Hold: time.Millisecond, Timeout: 5 * time.Minute})
	if err != nil {
		panic(err)
	}
	syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru1)
	l := slices.Clone(res.Latencies)
	slices.Sort(l)
	q := func(f float64) time.Duration { return l[int(f*float64(len(l)-1))] }
	var sum time.Duration
	for _, x := range l {
		sum += x
	}
	cpu := time.Duration((ru1.Utime.Nano() - ru0.Utime.Nano()) + (ru1.Stime.Nano() - ru0.Stime.Nano()))
	fmt.Printf("%s procs=%d p50=%v p90=%v p99=%v max=%v mean=%v thr=%.0f/s elapsed=%v cpu=%v cpu/acq=%v acq=%v\n", *lib, *procs, q(.5), q(.9), q(.99), l[len(l)-1], sum/time.Duration(len(l)), bench.PerSecond(len(l), res.Elapsed), res.Elapsed, cpu, cpu/time.Duration(*n), res.Acquired)
}
