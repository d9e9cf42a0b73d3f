package stress

import (
	"cmp"
	"fmt"
	"slices"
	"time"
)

// The timeline: every holding of the lock as the workers reported it, on the
// clock all processes share (Now), and every kill.
//
// An interval runs from the moment Lock returned to the moment the worker
// was about to call Unlock, so the real holding contains it: two intervals
// that intersect are two processes holding the lock at once. The interval of
// a holder killed while holding ends when SIGKILL was sent: it was alive
// then, and had not begun to release the lock.

type interval struct {
	w        *Worker
	try, acq int64 // Lock called, Lock returned
	rel      int64 // about to call Unlock; 0 while not released
	killed   int64 // SIGKILL sent while it held; 0 if not
	window   int64 // race window of a takeover (ns); 0 when the lock was free
}

// end returns when the interval ended, or false when that is unknown (still
// open, or its worker exited while holding).
func (iv interval) end() (int64, bool) {
	switch {
	case iv.rel != 0:
		return iv.rel, true
	case iv.killed != 0:
		return iv.killed, true
	}
	return 0, false
}

// A Kill is one SIGKILL of a worker.
type Kill struct {
	Worker     *Worker
	At, Reaped int64 // SIGKILL sent; the process reaped (Now readings)
	// Holding: the worker held the lock when it died, so the lock file
	// was left stale for another process to take over.
	Holding bool
	// Taking: the worker was in Lock (waiting, or taking over a stale
	// lock) when it died.
	Taking bool
}

type timeline struct {
	intervals []interval
	kills     []Kill
	overlaps  []string // seen by the workers themselves (the marker file)
}

func (t *timeline) acquired(w *Worker, try, acq, window int64) int {
	t.intervals = append(t.intervals, interval{w: w, try: try, acq: acq, window: window})
	return len(t.intervals) - 1
}

func (t *timeline) released(i int, rel int64) { t.intervals[i].rel = rel }

func (t *timeline) killed(k Kill) {
	if k.Worker.holding {
		t.intervals[k.Worker.open].killed = k.At
	}
	t.kills = append(t.kills, k)
}

func (t *timeline) overlap(what string) { t.overlaps = append(t.overlaps, what) }

// A Report is what a run measured.
type Report struct {
	// Acquisitions counts the times a worker took the lock; Takeovers those
	// that replaced a stale lock file, with their race windows in Windows.
	Acquisitions, Takeovers int
	Windows                 []time.Duration
	// Overlaps describes every overlap found: intervals of two processes
	// that intersect on the shared clock, and live processes found inside
	// by the marker file. A correct lock has none.
	Overlaps []string
	// Handoffs are the times from a holder's Unlock to the next Lock
	// returning, where that worker was already waiting and no worker was
	// killed in between: the victim may have taken the lock and died
	// before it could report it, so the lock was not free all along.
	Handoffs []time.Duration
	// Kills counts SIGKILLs; HolderKills those of a process that held the
	// lock, TakerKills those of a process in Lock (waiting, or taking
	// over a stale lock). Recoveries has, for each holder kill followed by an
	// acquisition, the time from the kill (or from the next worker's Lock
	// call, if later) to that acquisition. Unrecovered counts holder
	// kills no acquisition followed.
	Kills, HolderKills, TakerKills int
	Recoveries                     []time.Duration
	Unrecovered                    int
	// Unclosed counts intervals whose end is unknown: a worker that exited
	// while it held the lock. A clean run has none.
	Unclosed int
}

// killedBetween reports whether a worker was killed between from and to.
func (t *timeline) killedBetween(from, to int64) bool {
	return slices.ContainsFunc(t.kills, func(k Kill) bool { return k.At > from && k.At < to })
}

func (t *timeline) report() Report {
	r := Report{Acquisitions: len(t.intervals), Kills: len(t.kills), Overlaps: slices.Clone(t.overlaps)}
	ivs := slices.Clone(t.intervals)
	slices.SortFunc(ivs, func(a, b interval) int { return cmp.Compare(a.acq, b.acq) })
	t0 := int64(0)
	if len(ivs) > 0 {
		t0 = ivs[0].try
	}
	var last *interval // of the intervals before, the one that ends last
	var lastEnd int64
	for i := range ivs {
		iv := &ivs[i]
		if iv.window > 0 {
			r.Takeovers++
			r.Windows = append(r.Windows, time.Duration(iv.window))
		}
		if last != nil && iv.acq < lastEnd {
			how := "released"
			if last.rel == 0 {
				how = "killed"
			}
			r.Overlaps = append(r.Overlaps, fmt.Sprintf("%v took the lock at +%v while %v held it (from +%v until %s at +%v)",
				iv.w, rel(iv.acq, t0), last.w, rel(last.acq, t0), how, rel(lastEnd, t0)))
		}
		if i > 0 {
			if prev := ivs[i-1]; prev.rel != 0 && prev.w != iv.w && iv.try < prev.rel && !t.killedBetween(prev.rel, iv.acq) {
				r.Handoffs = append(r.Handoffs, time.Duration(iv.acq-prev.rel))
			}
		}
		end, known := iv.end()
		if !known {
			r.Unclosed++
		} else if last == nil || end > lastEnd {
			last, lastEnd = iv, end
		}
	}
	for _, k := range t.kills {
		if k.Taking {
			r.TakerKills++
		}
		if !k.Holding {
			continue
		}
		r.HolderKills++
		// The first acquisition after the kill.
		i, _ := slices.BinarySearchFunc(ivs, k.At+1, func(iv interval, t int64) int { return cmp.Compare(iv.acq, t) })
		if i == len(ivs) {
			r.Unrecovered++
			continue
		}
		r.Recoveries = append(r.Recoveries, time.Duration(ivs[i].acq-max(k.At, ivs[i].try)))
	}
	return r
}

// rel formats a time on the shared clock relative to t0.
func rel(t, t0 int64) time.Duration { return time.Duration(t - t0).Round(time.Microsecond) }
