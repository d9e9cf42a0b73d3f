package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// writeCharts writes a chart of each distribution measured into dir, in
// format ext ("svg" or "png"), and returns the files written.
func writeCharts(r *results, dir, ext string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var files []string
	save := func(p *plot.Plot, name string) error {
		f := filepath.Join(dir, name+"."+ext)
		if err := p.Save(7*vg.Inch, 4.5*vg.Inch, f); err != nil {
			return err
		}
		files = append(files, f)
		return nil
	}
	if r.windows != nil {
		if err := save(r.raceWindowChart(), "race-window"); err != nil {
			return files, err
		}
	}
	if r.handoffs != nil && r.across() {
		// Beside the local charts, not over them.
		return files, save(r.handoffChart(), "handoff-across-mounts")
	}
	if r.handoffs != nil {
		if err := save(r.handoffChart(), "handoff"); err != nil {
			return files, err
		}
		if len(r.handoffs) > 1 {
			if err := save(r.scalingChart(), "handoff-scaling"); err != nil {
				return files, err
			}
		}
	}
	return files, nil
}

// raceWindowChart plots, for each mode and condition, the fraction of
// takeovers whose race window is at least x, on log-log axes so that the
// tail shows, with Fischer mode's limit.
func (r *results) raceWindowChart() *plot.Plot {
	p := logPlot("Race window of stale-lock takeovers (observation → completed write)",
		"race window (µs)", "fraction of takeovers with a window ≥ x", true)
	i := 0
	lo := 1.0
	for _, cond := range conditions {
		for _, m := range modes {
			d, ok := r.windows[cond][m]
			if !ok || len(d) == 0 {
				continue
			}
			pts := survival(d, time.Microsecond)
			lo = min(lo, pts[len(pts)-1].Y)
			addLine(p, fmt.Sprintf("%v, %s", m, cond), pts, i)
			i++
		}
	}
	x := float64(fischerLimit()) / float64(time.Microsecond)
	addLine(p, fmt.Sprintf("1%% of race_delay (%s): Fischer's target for p99.9", dur(fischerLimit())),
		plotter.XYs{{X: x, Y: lo}, {X: x, Y: 1}}, i)
	// The curves fall from the top left: room for the legend below them.
	p.Y.Min, p.Y.Max = lo/30, 1
	p.Legend.Top, p.Legend.Left = false, true
	return p
}

// handoffChart plots the distribution of release-to-acquire latencies of
// openlock and flock, for 2, 4 and 8 processes (for every number measured,
// when there are three or fewer).
func (r *results) handoffChart() *plot.Plot {
	what := "Contended handoff between processes"
	if r.across() {
		what = fmt.Sprintf("Handoff between processes on %d mounts of one volume", len(r.mounts))
	}
	p := logPlot(fmt.Sprintf("%s (hold uniform in [0, %v])", what, 2*r.plan.Hold),
		"release → acquire (ms)", "fraction of handoffs ≤ x", false)
	i := 0
	for _, procs := range sortedKeys(r.handoffs) {
		if procs != 2 && procs != 4 && procs != 8 && len(r.handoffs) > 3 {
			continue
		}
		for _, lib := range contendedLibs {
			d := r.handoffs[procs][lib].latencies
			if len(d) == 0 {
				continue
			}
			addLine(p, fmt.Sprintf("%s, %d processes", lib, procs), cdf(d, time.Millisecond), i)
			i++
		}
	}
	// The curves rise to the right: room for the legend at the bottom right.
	p.X.Max *= 30
	p.Legend.Top = false
	return p
}

// scalingChart plots the median and p99 handoff latency against the number
// of waiting processes.
func (r *results) scalingChart() *plot.Plot {
	p := logPlot("Handoff latency as waiters grow", "waiting processes", "release → acquire (ms)", true)
	var ticks []plot.Tick
	for _, procs := range sortedKeys(r.handoffs) {
		ticks = append(ticks, plot.Tick{Value: float64(procs - 1), Label: fmt.Sprint(procs - 1)})
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	i := 0
	for _, lib := range contendedLibs {
		for _, q := range []float64{0.5, 0.99} {
			var pts plotter.XYs
			for _, procs := range sortedKeys(r.handoffs) {
				s := summary(r.handoffs[procs][lib].latencies)
				v := s.P50
				if q == 0.99 {
					v = s.P99
				}
				pts = append(pts, plotter.XY{X: float64(procs - 1), Y: float64(v) / float64(time.Millisecond)})
			}
			addLine(p, fmt.Sprintf("%s p%g", lib, 100*q), pts, i)
			i++
		}
	}
	p.Y.Max *= 10 // room for the legend above the curves
	return p
}

// logPlot is a plot with a logarithmic x axis, and y axis if logY.
func logPlot(title, x, y string, logY bool) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = x
	p.Y.Label.Text = y
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	if logY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	}
	p.Legend.Top = true
	p.Add(plotter.NewGrid())
	return p
}

func addLine(p *plot.Plot, name string, pts plotter.XYs, i int) {
	l, err := plotter.NewLine(pts)
	if err != nil {
		panic(err) // only NaN or infinite points fail; ours are finite
	}
	l.Color = plotutil.Color(i)
	l.Dashes = plotutil.Dashes(i)
	l.Width = vg.Points(1.5)
	p.Add(l)
	p.Legend.Add(name, l)
}

// survival returns the points (x, fraction of samples ≥ x) of d, in units
// of unit, thinned to a few hundred points while keeping the whole tail.
func survival(d []time.Duration, unit time.Duration) plotter.XYs {
	s := slices.Sorted(slices.Values(d))
	n := float64(len(s))
	var pts plotter.XYs
	for _, i := range thin(len(s)) {
		pts = append(pts, plotter.XY{X: max(float64(s[i])/float64(unit), 1e-3), Y: (n - float64(i)) / n})
	}
	return pts
}

// cdf returns the points (x, fraction of samples ≤ x) of d, in units of
// unit, thinned likewise.
func cdf(d []time.Duration, unit time.Duration) plotter.XYs {
	s := slices.Sorted(slices.Values(d))
	n := float64(len(s))
	var pts plotter.XYs
	for _, i := range thin(len(s)) {
		pts = append(pts, plotter.XY{X: max(float64(s[i])/float64(unit), 1e-6), Y: float64(i+1) / n})
	}
	return pts
}

// thin picks the indexes of n sorted samples to plot: every one of the last
// 200, and about 400 spread evenly over the rest.
func thin(n int) []int {
	var idx []int
	body := max(n-200, 0)
	step := max(body/400, 1)
	for i := 0; i < body; i += step {
		idx = append(idx, i)
	}
	for i := body; i < n; i++ {
		idx = append(idx, i)
	}
	return idx
}
