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
