package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/openlock/openlock"
	"github.com/openlock/openlock/benchmarks/internal/bench"
)

// row is one line of the table.
type row struct{ figure, openlock, flock, ratio, target, met string }

const none = "—"

// table prints the results as one markdown table: openlock, flock, their
// ratio, the target and whether it is met.
func (r *results) table(w io.Writer) {
	fmt.Fprintln(w, "| figure | openlock | flock | openlock ÷ flock | target | met |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|")
	var rows []row
	rows = append(rows, r.raceWindowRows()...)
	rows = append(rows, r.uncontendedRows()...)
	rows = append(rows, r.cycleMedianRows()...)
	rows = append(rows, r.floorRows()...)
	rows = append(rows, r.handoffRows()...)
	rows = append(rows, r.lockFloorRows()...)
	rows = append(rows, r.fairnessRows()...)
	rows = append(rows, r.crashRows()...)
	rows = append(rows, r.crashMedianRows()...)
	rows = append(rows, r.waitRows()...)
	rows = append(rows, r.sharedRows()...)
	for _, x := range rows {
		if r.across() {
			// The targets are stated for a local file system.
			x.target, x.met = "none across clients", none
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", x.figure, x.openlock, x.flock, x.ratio, x.target, x.met)
	}
}

func raceDelay() time.Duration { return openlock.GetDefaults().RaceDelay }

// fischerLimit is the target for Fischer mode's race window: 1% of the
// default race delay.
func fischerLimit() time.Duration { return raceDelay() / 100 }

func (r *results) raceWindowRows() []row {
	var rows []row
	for _, cond := range conditions {
		for _, m := range modes {
			d, ok := r.windows[cond][m]
			if !ok {
				continue
			}
			s := bench.Summarize(append([]time.Duration(nil), d...))
			x := row{
				figure: fmt.Sprintf("race window, %v mode, %s (%d takeovers)", m, cond, s.N),
				openlock: fmt.Sprintf("p50 %s · p99 %s · p99.9 %s · max %s; p99.9 = %s of race_delay",
					dur(s.P50), dur(s.P99), dur(s.P999), dur(s.Max), pct(s.P999.Seconds()/raceDelay().Seconds())),
				flock: "no takeover", ratio: none,
			}
			if m == openlock.Fischer {
				x.target = fmt.Sprintf("p99.9 ≤ 1%% of race_delay (%s)", dur(fischerLimit()))
				x.met = yesNo(s.P999 <= fischerLimit())
			} else {
				x.target, x.met = "none: nothing depends on it", none
			}
			rows = append(rows, x)
		}
	}
	return rows
}

func (r *results) uncontendedRows() []row {
	o, f, n := r.cycles[bench.Openlock], r.cycles[bench.Flock], r.cycles[bench.Nightlyone]
	if len(o) == 0 {
		return nil
	}
	// Ratios are taken round by round (the libraries ran side by side in
	// each), then the median of them.
	var vsFlock, vsNightly []float64
	for i := range o {
		vsFlock = append(vsFlock, float64(o[i])/float64(f[i]))
		vsNightly = append(vsNightly, float64(n[i])/float64(o[i]))
	}
	rf, rn := medianOf(vsFlock), medianOf(vsNightly)
	return []row{{
		figure:   fmt.Sprintf("uncontended Lock+Unlock%s (median of %d rounds)", r.throughA(), len(o)),
		openlock: dur(median(o)), flock: dur(median(f)), ratio: fmt.Sprintf("%.2fx", rf),
		target: "≤ 1.3x flock", met: yesNo(rf <= 1.3),
	}, {
		figure:   "uncontended, against nightlyone/lockfile TryLock+Unlock" + r.throughA(),
		openlock: dur(median(o)), flock: "nightlyone: " + dur(median(n)),
		ratio:  fmt.Sprintf("nightlyone ÷ openlock = %.1fx", rn),
		target: "nightlyone ≥ 5x slower", met: yesNo(rn >= 5),
	}}
}

// goalMedian is issue 21's goal for the medians a user feels: the
// uncontended cycle of one lock object in a loop, and the recovery from a
// holder's SIGKILL, each at most 1.3x flock's.
const goalMedian = 1.3

// medianRow is a row of a median figure: openlock's and flock's medians of
// their samples, their ratio, judged against goalMedian.
func medianRow(figure string, o, f []time.Duration) row {
	mo, mf := median(o), median(f)
	return row{figure: figure, openlock: dur(mo), flock: dur(mf), ratio: fmt.Sprintf("%.2fx", ratio(mo, mf)),
		target: fmt.Sprintf("median ≤ %.1fx flock", goalMedian), met: yesNo(ratio(mo, mf) <= goalMedian)}
}

// cycleMedianRows report the median of the times of single uncontended
// cycles of one lock object in a loop, beside the means of uncontendedRows.
func (r *results) cycleMedianRows() []row {
	o, f := r.cycleTimes[bench.Openlock], r.cycleTimes[bench.Flock]
	if len(o) == 0 || len(f) == 0 {
		return nil
	}
	return []row{medianRow(fmt.Sprintf("uncontended Lock+Unlock of one lock object in a loop%s, each cycle timed: median (%d cycles each, in blocks taking turns with flock's)",
		r.throughA(), len(o)), o, f)}
}

// crashMedianRows report the median recovery from a holder's SIGKILL when
// the waiter has waited a fixed short time, beside crashRows' random waits.
func (r *results) crashMedianRows() []row {
	o, f := r.shortCrashes[bench.Openlock], r.shortCrashes[bench.Flock]
	if len(o) == 0 || len(f) == 0 {
		return nil
	}
	return []row{medianRow(fmt.Sprintf("%s that has waited %s: median (%d trials each, taking turns with flock's)",
		r.crashWhat(), dur(r.plan.CrashShortWait), len(o)), o, f)}
}

// crashWhat names the crash measurement: who is killed and who acquires,
// on which mounts.
func (r *results) crashWhat() string {
	if r.across() {
		return fmt.Sprintf("holder on mount A SIGKILLed → next acquisition by a waiter on mount %s", mountName(len(r.mounts)-1))
	}
	return "holder SIGKILLed → next acquisition by a waiter"
}

// The goals of issue 10 (contended performance), against flock in the
// same run: handoff p50 with FigureProcs processes, and p99 and throughput
// with the most processes of the plan (33: 32 waiting).
const (
	goalHandoffP50   = 1.3
	goalManyP99      = 2.0
	goalManyThroughp = 0.9
)

func (r *results) handoffRows() []row {
	var rows []row
	keys := sortedKeys(r.handoffs)
	for _, procs := range keys {
		o, f := r.handoffs[procs][bench.Openlock], r.handoffs[procs][bench.Flock]
		so, sf := summary(o.latencies), summary(f.latencies)
		what := fmt.Sprintf("handoff, %d processes (%d waiting)", procs, procs-1)
		if r.across() {
			what = fmt.Sprintf("handoff, %d processes on %d mounts (%d waiting)", procs, len(r.mounts), procs-1)
			if procs == len(r.mounts) {
				what += ", each handoff to another mount"
			}
		}
		x := row{
			figure:   fmt.Sprintf("%s: release → acquire p50 · p90 · p99; throughput (%d handoffs); CPU of all the processes per acquisition (from the start signal); fewest–most acquisitions of a process in a run", what, so.N),
			openlock: runsCell(so, o),
			flock:    runsCell(sf, f),
			ratio: fmt.Sprintf("p50 %.2fx · p90 %.2fx · p99 %.2fx; throughput %.2fx",
				ratio(so.P50, sf.P50), ratio(so.P90, sf.P90), ratio(so.P99, sf.P99), o.perSecond()/f.perSecond()),
			target: "(scaling)", met: none,
		}
		switch {
		case procs == r.plan.FigureProcs:
			x.target = fmt.Sprintf("p50 ≤ %.1fx flock", goalHandoffP50)
			x.met = yesNo(ratio(so.P50, sf.P50) <= goalHandoffP50)
		case procs == keys[len(keys)-1] && procs > r.plan.FigureProcs:
			x.target = fmt.Sprintf("p99 ≤ %.0fx flock; throughput ≥ %.1fx flock", goalManyP99, goalManyThroughp)
			x.met = fmt.Sprintf("p99 %s; throughput %s", yesNo(ratio(so.P99, sf.P99) <= goalManyP99),
				yesNo(o.perSecond()/f.perSecond() >= goalManyThroughp))
		}
		rows = append(rows, x)
	}
	return rows
}

// lockFloorRows show, for each number of processes, the floor lock
// (bench.Floor: a bare link, unlink and inotify wake-up, with no crash
// safety) beside flock, and openlock against it: how much of openlock's
// handoff the kernel's path through the file system sets, and how much is
// openlock's own.
func (r *results) lockFloorRows() []row {
	var rows []row
	for _, procs := range sortedKeys(r.handoffs) {
		fl, ok := r.handoffs[procs][bench.Floor]
		if !ok {
			continue
		}
		o, f := r.handoffs[procs][bench.Openlock], r.handoffs[procs][bench.Flock]
		sl, so, sf := summary(fl.latencies), summary(o.latencies), summary(f.latencies)
		rows = append(rows, row{
			figure:   fmt.Sprintf("floor of a lock made of a name, %d processes: link, unlink, a wake-up by inotify and nothing else (no crash safety, every waiter woken), run beside the handoff above; same columns", procs),
			openlock: "floor: " + runsCell(sl, fl), flock: runsCell(sf, f),
			ratio: fmt.Sprintf("floor ÷ flock: p50 %.2fx, p99 %.2fx; openlock ÷ floor: p50 %.2fx, p99 %.2fx",
				ratio(sl.P50, sf.P50), ratio(sl.P99, sf.P99), ratio(so.P50, sl.P50), ratio(so.P99, sl.P99)),
			target: none, met: none,
		})
	}
	return rows
}

func handoffCell(s bench.Summary, perSecond float64) string {
	rate := fmt.Sprintf("%.0f/s", perSecond)
	if perSecond < 10 {
		rate = fmt.Sprintf("%.2f/s", perSecond)
	}
	return fmt.Sprintf("%s · %s · %s; %s", dur(s.P50), dur(s.P90), dur(s.P99), rate)
}

// runsCell is handoffCell with the CPU per acquisition and the spread of
// acquisitions between processes, where the runs measured them.
func runsCell(s bench.Summary, h *handoffRuns) string {
	c := handoffCell(s, h.perSecond())
	if h.cpu > 0 {
		c += "; CPU " + dur(h.cpuPerAcquisition())
	}
	if len(h.acquired) > 0 {
		fewest, most := h.spread()
		c += fmt.Sprintf("; %d–%d", fewest, most)
	}
	return c
}

// throughA names the mount the uncontended cycle ran through, when there
// are several.
func (r *results) throughA() string {
	if !r.across() {
		return ""
	}
	return fmt.Sprintf(", through mount A of %d", len(r.mounts))
}

// floorRows tell, across mounts, how long after a release through one client
// another can take the name at the earliest: what its cache allows.
func (r *results) floorRows() []row {
	if len(r.floor) == 0 {
		return nil
	}
	s := summary(r.floor)
	return []row{{
		figure: fmt.Sprintf("floor of a handoff between clients: a name removed through mount A (after a hold uniform in [0, %v]), then a link onto it through mount B, one a millisecond, succeeds after p50 · p90 · max (%d trials): what B's cache allows any lock made of names",
			2*r.plan.Hold, s.N),
		openlock: dur(s.P50) + " · " + dur(s.P90) + " · " + dur(s.Max),
		flock:    "n/a: the server keeps flock's locks", ratio: none,
	}}
}

// fairnessRows tell, across mounts, how the acquisitions fell between the
// clients where each had several processes (with one process per mount, the
// harness makes them alternate).
func (r *results) fairnessRows() []row {
	if !r.across() {
		return nil
	}
	var rows []row
	for _, procs := range sortedKeys(r.handoffs) {
		if procs <= len(r.mounts) {
			continue
		}
		o, f := r.handoffs[procs][bench.Openlock], r.handoffs[procs][bench.Flock]
		rows = append(rows, row{
			figure: fmt.Sprintf("fairness between clients, %d processes on %d mounts: acquisitions per mount (%s) in each run, fewest–most per process in a run; handoffs that crossed mounts, their p50; the longest wait of a process for one acquisition (%d runs of %d acquisitions)",
				procs, len(r.mounts), r.mountNames(), len(o.acquired), r.plan.Handoffs),
			openlock: r.fairnessCell(o), flock: r.fairnessCell(f), ratio: none,
		})
	}
	return rows
}

func (r *results) mountNames() string {
	var n []string
	for i := range r.mounts {
		n = append(n, mountName(i))
	}
	return strings.Join(n, " · ")
}

func (r *results) fairnessCell(h *handoffRuns) string {
	var runs []string
	for _, acquired := range h.acquired {
		perMount := make([]string, len(r.mounts))
		for m := range r.mounts {
			n := 0
			for i := m; i < len(acquired); i += len(r.mounts) { // process i used mount i mod the number of mounts
				n += acquired[i]
			}
			perMount[m] = fmt.Sprint(n)
		}
		runs = append(runs, strings.Join(perMount, " · "))
	}
	fewest, most := h.spread()
	var cross []time.Duration
	for i, c := range h.crossed {
		if c {
			cross = append(cross, h.latencies[i])
		}
	}
	s := fmt.Sprintf("%s; %d–%d; %d of %d crossed", strings.Join(runs, ", "), fewest, most, len(cross), len(h.crossed))
	if len(cross) > 0 {
		s += ", p50 " + dur(median(cross))
	}
	return s + "; longest wait " + dur(h.longest)
}

func (r *results) crashRows() []row {
	o, f := r.crashes[bench.Openlock], r.crashes[bench.Flock]
	if len(o) == 0 {
		return nil
	}
	so, sf := summary(o), summary(f)
	limit := openlock.GetDefaults().RetryPeriod + 10*time.Millisecond
	what := r.crashWhat()
	if r.across() {
		what += fmt.Sprintf(" (same host; openlock's takeover waits cache_time, %s)", dur(openlock.GetDefaults().CacheTime))
	}
	return []row{{
		figure: fmt.Sprintf("%s, p50 · max (%d trials; waited %s to %s before the kill)",
			what, so.N, dur(r.plan.CrashMinWait), dur(r.plan.CrashMaxWait)),
		openlock: dur(so.P50) + " · " + dur(so.Max), flock: dur(sf.P50) + " · " + dur(sf.Max),
		ratio:  fmt.Sprintf("p50 %.2fx · max %.2fx", ratio(so.P50, sf.P50), ratio(so.Max, sf.Max)),
		target: fmt.Sprintf("p50 ≤ 1.3x flock; max ≤ retry_period + 10 ms (%s)", dur(limit)),
		met:    fmt.Sprintf("p50 %s; max %s", yesNo(ratio(so.P50, sf.P50) <= 1.3), yesNo(so.Max <= limit)),
	}}
}

func (r *results) waitRows() []row {
	var rows []row
	for _, n := range sortedKeys(r.waits) {
		o, f := r.waits[n][bench.Openlock], r.waits[n][bench.Flock]
		mo, xo := shares(o)
		mf, xf := shares(f)
		rows = append(rows, row{
			figure:   fmt.Sprintf("CPU of a process waiting %s on a held lock, %d waiting (user+sys, mean · worst waiter)", dur(r.plan.WaitFor), n),
			openlock: pct(mo) + " · " + pct(xo) + " of a core",
			flock:    pct(mf) + " · " + pct(xf) + " of a core",
			ratio:    "n/a (flock sleeps in the kernel)",
			target:   "≤ 0.1% of a core per waiter", met: yesNo(xo <= 0.001),
		})
	}
	return rows
}

// shares returns the mean and the largest CPU share of the waiters.
func shares(u []bench.WaitUsage) (mean, worst float64) {
	for _, x := range u {
		mean += x.Share()
		worst = max(worst, x.Share())
	}
	return mean / float64(max(len(u), 1)), worst
}

func summary(d []time.Duration) bench.Summary {
	return bench.Summarize(append([]time.Duration(nil), d...))
}

func ratio(a, b time.Duration) float64 { return float64(a) / float64(b) }

func medianOf(x []float64) float64 {
	s := slices.Clone(x)
	slices.Sort(s)
	return s[(len(s)-1)/2]
}

func sortedKeys[V any](m map[int]V) []int {
	var k []int
	for n := range m {
		k = append(k, n)
	}
	slices.Sort(k)
	return k
}

func yesNo(ok bool) string {
	if ok {
		return "**yes**"
	}
	return "**no**"
}

// dur formats a duration with three significant digits or so.
func dur(d time.Duration) string {
	switch {
	case d < 10*time.Microsecond:
		return fmt.Sprintf("%.1f µs", float64(d)/1e3)
	case d < time.Millisecond:
		return fmt.Sprintf("%.0f µs", float64(d)/1e3)
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.2f ms", float64(d)/1e6)
	case d < time.Second:
		return fmt.Sprintf("%.1f ms", float64(d)/1e6)
	}
	return fmt.Sprintf("%.2f s", d.Seconds())
}

// pct formats a fraction as a percentage.
func pct(f float64) string {
	s := fmt.Sprintf("%.2f%%", 100*f)
	if f < 0.001 {
		s = fmt.Sprintf("%.3f%%", 100*f)
	}
	return strings.Replace(s, "0.000%", "0%", 1)
}

// sharedRows are the shared lock's: the uncontended RLock+RUnlock (ratio
// per round, then the median) and reader throughput (median of the runs).
func (r *results) sharedRows() []row {
	o, f := r.rcycles[bench.Openlock], r.rcycles[bench.Flock]
	if len(o) == 0 {
		return nil
	}
	var vs []float64
	for i := range o {
		vs = append(vs, float64(o[i])/float64(f[i]))
	}
	rows := []row{{
		figure:   fmt.Sprintf("uncontended RLock+RUnlock (median of %d rounds)", len(o)),
		openlock: dur(median(o)), flock: dur(median(f)) + " (RLock, LOCK_SH)", ratio: fmt.Sprintf("%.2fx", medianOf(vs)),
		target: "(shared lock)", met: none,
	}}
	for _, n := range sortedKeys(r.rrates) {
		ro, rf := medianOf(r.rrates[n][bench.Openlock]), medianOf(r.rrates[n][bench.Flock])
		rows = append(rows, row{
			figure:   fmt.Sprintf("reader throughput, %d reader processes: RLock+RUnlock per second, all together (median of %d runs)", n, len(r.rrates[n][bench.Openlock])),
			openlock: fmt.Sprintf("%.0f/s", ro), flock: fmt.Sprintf("%.0f/s", rf), ratio: fmt.Sprintf("%.2fx", ro/rf),
			target: "(shared lock)", met: none,
		})
	}
	return rows
}
