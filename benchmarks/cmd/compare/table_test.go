package main

import (
	"strings"
	"testing"
	"time"

	"github.com/openlock/openlock/benchmarks/internal/bench"
)

// The handoff row's count is the one its throughput is computed on: the
// handoffs whose latencies it summarizes (3 runs of 1000 acquisitions are
// 2997 handoffs), in the time from each run's first acquisition to its last.
func TestHandoffRowCountsWhatItsThroughputCounts(t *testing.T) {
	runs := func(each time.Duration) *handoffRuns {
		h := &handoffRuns{elapsed: 3 * time.Second}
		for range 3 * 999 {
			h.latencies = append(h.latencies, each)
		}
		return h
	}
	r := &results{plan: plan{FigureProcs: 4},
		handoffs: map[int]map[string]*handoffRuns{4: {bench.Openlock: runs(2 * time.Millisecond), bench.Flock: runs(time.Millisecond)}}}
	rows := r.handoffRows()
	if len(rows) != 1 {
		t.Fatalf("%d rows, want 1", len(rows))
	}
	x := rows[0]
	if !strings.Contains(x.figure, "(2997 handoffs)") || !strings.Contains(x.openlock, "999/s") || !strings.Contains(x.flock, "999/s") {
		t.Errorf("row %q | %q | %q; want 2997 handoffs at 999/s", x.figure, x.openlock, x.flock)
	}
}

// The median rows report the median of the samples, not their mean, with
// the ratio of the medians judged against the goal of 1.3x: one slow cycle
// (or trial) in ten must not move them.
func TestMedianRows(t *testing.T) {
	samples := func(typical, slow time.Duration) []time.Duration {
		d := []time.Duration{slow}
		for range 9 {
			d = append(d, typical)
		}
		return d
	}
	for _, c := range []struct {
		name           string
		cycle, crash   time.Duration // openlock's typical sample (flock's: 2.7 µs, 520 µs)
		ratioC, ratioK string
		met            string
	}{
		{"over the goal", 3600 * time.Nanosecond, 730 * time.Microsecond, "1.33x", "1.40x", "**no**"},
		{"within the goal", 2900 * time.Nanosecond, 600 * time.Microsecond, "1.07x", "1.15x", "**yes**"},
	} {
		r := &results{plan: plan{CrashShortWait: 20 * time.Millisecond},
			cycleTimes: map[string][]time.Duration{
				bench.Openlock: samples(c.cycle, 100*time.Microsecond), bench.Flock: samples(2700*time.Nanosecond, time.Microsecond)},
			shortCrashes: map[string][]time.Duration{
				bench.Openlock: samples(c.crash, 50*time.Millisecond), bench.Flock: samples(520*time.Microsecond, time.Microsecond)},
		}
		var b strings.Builder
		r.table(&b)
		out := b.String()
		if !strings.HasPrefix(out, "| figure | openlock | flock |") {
			t.Errorf("%s: table starts %q, want the header CI greps for", c.name, out)
		}
		for _, want := range []string{
			"| " + dur(c.cycle) + " | 2.7 µs | " + c.ratioC + " | median ≤ 1.3x flock | " + c.met + " |",
			"| " + dur(c.crash) + " | 520 µs | " + c.ratioK + " | median ≤ 1.3x flock | " + c.met + " |",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("%s: no row ending %q in\n%s", c.name, want, out)
			}
		}
	}
}
