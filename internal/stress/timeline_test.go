package stress

import (
	"strings"
	"testing"
	"time"
)

// The overlap check finds two processes holding at once, and only that.
func TestTimelineOverlaps(t *testing.T) {
	a, b := &Worker{PID: 1}, &Worker{PID: 2}
	var tl timeline
	// a holds [10, 20); b waits from 12 and gets the lock at 25: a handoff.
	tl.released(tl.acquired(a, 5, 10, 0), 20)
	tl.released(tl.acquired(b, 12, 25, 0), 30)
	r := tl.report()
	if len(r.Overlaps) != 0 || len(r.Handoffs) != 1 || r.Handoffs[0] != 5 {
		t.Fatalf("report = %+v; want no overlap and one handoff of 5ns", r)
	}
	// a takes the lock at 28, while b still holds it (until 30).
	tl.released(tl.acquired(a, 26, 28, 0), 35)
	if r := tl.report(); len(r.Overlaps) != 1 || !strings.Contains(r.Overlaps[0], "pid 1 took the lock") {
		t.Fatalf("overlaps = %q; want pid 1 taking the lock while pid 2 held it", r.Overlaps)
	}
}

// A release followed by a kill (of a process that may have taken the lock
// and died before it could say so) and then an acquisition is no handoff:
// the lock was not free all along.
func TestTimelineHandoffNotAcrossKill(t *testing.T) {
	a, b, c := &Worker{PID: 1}, &Worker{PID: 2}, &Worker{PID: 3}
	var tl timeline
	tl.released(tl.acquired(a, 5, 10, 0), 20)
	tl.killed(Kill{Worker: c, At: 22, Reaped: 23})
	tl.released(tl.acquired(b, 12, 3000, 7), 3010)
	if r := tl.report(); len(r.Handoffs) != 0 {
		t.Fatalf("handoffs = %v; want none across the kill", r.Handoffs)
	}
}

// A holder killed at k was alive at k: anyone who took the lock before k
// overlapped it; after k, that is a recovery.
func TestTimelineKills(t *testing.T) {
	a, b, c := &Worker{PID: 1}, &Worker{PID: 2}, &Worker{PID: 3}
	var tl timeline
	a.open, a.holding = tl.acquired(a, 0, 10, 0), true
	tl.killed(Kill{Worker: a, At: 50, Reaped: 52, Holding: true})
	tl.released(tl.acquired(b, 20, 60, 7), 70) // took over 10ns after the kill
	r := tl.report()
	if len(r.Overlaps) != 0 || r.HolderKills != 1 || len(r.Recoveries) != 1 || r.Recoveries[0] != 10 ||
		r.Takeovers != 1 || r.Windows[0] != 7 {
		t.Fatalf("report = %+v; want one recovery of 10ns by a takeover, no overlap", r)
	}
	// c got the lock at 40, before a was killed: an overlap.
	tl.released(tl.acquired(c, 30, 40, 0), 45)
	if r := tl.report(); len(r.Overlaps) != 1 || !strings.Contains(r.Overlaps[0], "pid 3") {
		t.Fatalf("overlaps = %q; want pid 3 inside while pid 1 lived", r.Overlaps)
	}
}

// A recovery counts from the kill, or from the next Lock call if that came
// later; a holder kill no acquisition followed is unrecovered.
func TestTimelineRecovery(t *testing.T) {
	a, b := &Worker{PID: 1}, &Worker{PID: 2}
	var tl timeline
	a.open, a.holding = tl.acquired(a, 0, 10, 0), true
	tl.killed(Kill{Worker: a, At: 50, Reaped: 52, Holding: true})
	if r := tl.report(); r.Unrecovered != 1 {
		t.Fatalf("report = %+v; want one unrecovered kill", r)
	}
	tl.released(tl.acquired(b, 100, 103, 1), 110)
	if r := tl.report(); r.Unrecovered != 0 || len(r.Recoveries) != 1 || r.Recoveries[0] != 3 {
		t.Fatalf("report = %+v; want a recovery of 3ns (from b's Lock call)", r)
	}
}

func TestQuantile(t *testing.T) {
	ds := []time.Duration{5, 1, 4, 2, 3}
	for q, want := range map[float64]time.Duration{0: 1, 0.5: 3, 0.9: 5, 1: 5} {
		if got := Quantile(ds, q); got != want {
			t.Errorf("Quantile(%v, %v) = %v, want %v", ds, q, got, want)
		}
	}
	if Quantile(nil, 0.5) != 0 {
		t.Error("Quantile of nothing is not 0")
	}
}

func TestRange(t *testing.T) {
	var r Range
	for s, want := range map[string]Range{"1ms": {time.Millisecond, time.Millisecond}, "0,2ms": {0, 2 * time.Millisecond}} {
		if err := r.Set(s); err != nil || r != want {
			t.Errorf("Set(%q) = %v, %v; want %v", s, r, err, want)
		}
		if d := r.Draw(); d < r.Min || d > r.Max {
			t.Errorf("%v.Draw() = %v", r, d)
		}
	}
	for _, bad := range []string{"", "x", "2ms,1ms", "-1ms", "1ms,x"} {
		if err := r.Set(bad); err == nil {
			t.Errorf("Set(%q) accepted", bad)
		}
	}
}

// A worker killed after it reported "unl" (about to Unlock) but before
// "rel" released the lock at the unl: another process that takes it
// before the kill does not overlap it. (Reporting the release only after
// Unlock returned made this look like an overlap under load.)
func TestTimelineKilledAfterUnlock(t *testing.T) {
	a, b := &Worker{PID: 1}, &Worker{PID: 2}
	var tl timeline
	a.open, a.holding = tl.acquired(a, 0, 10, 0), true
	tl.released(a.open, 20)
	a.holding = false
	tl.released(tl.acquired(b, 15, 25, 0), 40) // got the lock at 25, after a's unl at 20
	tl.killed(Kill{Worker: a, At: 30, Reaped: 32})
	if r := tl.report(); len(r.Overlaps) != 0 || r.HolderKills != 0 {
		t.Fatalf("report = %+v; want no overlap and no holder killed", r)
	}
}
