package main

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/openlock/openlock"
	"github.com/openlock/openlock/internal/stress"
)

// A demoView shows the demo as it happens. Events come from the pool's
// Observe function; each becomes the state of a worker's row and, when it is
// worth telling, a message. Plain, every message is a line. Live (on a
// terminal), the rows, the lock file's holder, the counts and the last
// messages are redrawn in place ten times a second.
type demoView struct {
	*cli
	path     string
	live     bool
	duration time.Duration
	owner    *openlock.FileLock // to read the lock file; never locked
	t0       int64              // stress.Now at the start

	mu       sync.Mutex
	rows     []*demoRow
	notes    []string // the messages so far
	acquired int
	kills    int
	killAt   int64 // when the last holder was killed
	// takenOver says whether the lock of the last holder killed has been
	// taken over; dead is the message of its death while it waits for the
	// takeover's, which the pool may observe later although it happened
	// earlier.
	takenOver bool
	dead      string
	deadAt    int64
	overlaps  int
	drawn     int // lines of the last frame (live)
	stopped   chan struct{}
	wg        sync.WaitGroup
}

type demoRow struct {
	w     *stress.Worker
	state string // "starting", "waiting", "holds the lock", "idle", "killed", "exited"
	since int64
	turns int
}

// How many messages the live view keeps on screen.
const liveNotes = 5

func newDemoView(c *cli, path string, live bool, duration time.Duration) *demoView {
	// New fails only on a bad option or when a relative path cannot be made
	// absolute; the demo's path is absolute and there are no options.
	owner, _ := openlock.New(path)
	return &demoView{cli: c, path: path, live: live, duration: duration, owner: owner,
		t0: stress.Now(), stopped: make(chan struct{})}
}

// start writes the heading and, live, starts redrawing.
func (v *demoView) start(workers int) {
	fmt.Fprintf(v.stdout, "openlock demo: %d processes take turns at one lock file, %s\n", workers, v.path)
	fmt.Fprintf(v.stdout, "Each takes the lock, stays inside %v to %v, releases it and pauses; part way, a holder is killed.\n\n",
		demoHold.Min, demoHold.Max)
	if !v.live {
		return
	}
	v.wg.Add(1)
	go func() {
		defer v.wg.Done()
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				v.draw()
			case <-v.stopped:
				v.draw()
				return
			}
		}
	}()
}

// stop draws the last frame.
func (v *demoView) stop() {
	v.mu.Lock()
	v.flushDead()
	v.mu.Unlock()
	close(v.stopped)
	v.wg.Wait()
	v.owner.Close()
	fmt.Fprintln(v.stdout)
}

// note adds a message.
func (v *demoView) note(msg string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.noteLocked(stress.Now(), msg)
}

func (v *demoView) noteLocked(at int64, msg string) {
	line := fmt.Sprintf("%6.2fs  %s", time.Duration(at-v.t0).Seconds(), msg)
	v.notes = append(v.notes, line)
	if !v.live {
		fmt.Fprintln(v.stdout, line)
	}
}

// event applies a worker's event; the pool calls it, in order.
func (v *demoView) event(e stress.Event) {
	v.mu.Lock()
	defer v.mu.Unlock()
	r := v.row(e.Worker)
	w := e.Worker
	switch e.Kind {
	case stress.Ready:
		r.state, r.since = "idle", stress.Now()
		if !v.live { // live, the rows show it
			v.noteLocked(r.since, fmt.Sprintf("%v started", w))
		}
	case stress.Try:
		r.state, r.since = "waiting", e.T
	case stress.Acquired:
		waited := time.Duration(e.T - r.since)
		r.state, r.since = "holds the lock", e.T
		r.turns++
		v.acquired++
		if e.N > 0 && v.kills == 0 { // a worker died of itself: no kill to time it from
			v.noteLocked(e.T, fmt.Sprintf("%v took over the stale lock of a worker that died (the takeover: %v)",
				w, stress.Round(time.Duration(e.N))))
		} else if e.N > 0 {
			v.noteLocked(e.T, fmt.Sprintf("%v took over the stale lock %v after the kill (the takeover: %v)",
				w, stress.Round(time.Duration(e.T-v.killAt)), stress.Round(time.Duration(e.N))))
			v.takenOver = true
			v.flushDead()
		} else if !v.live {
			v.noteLocked(e.T, fmt.Sprintf("%v holds the lock (turn %d, after waiting %v)", w, r.turns, stress.Round(waited)))
		}
	case stress.Unlocking:
		r.state, r.since = "idle", e.T
	case stress.Killing:
		v.kills++
		v.killAt = e.T
		v.flushDead()
		v.takenOver = false
		r.state, r.since = "killed", e.T
		what := "while it holds the lock"
		if !w.Holding() {
			what = "(it had just released the lock)"
		}
		v.noteLocked(e.T, fmt.Sprintf("SIGKILL to %v %s", w, what))
	case stress.Killed:
		msg := fmt.Sprintf("%v is dead", w)
		if o, held, err := v.owner.Owner(); err == nil && held && o.PID == w.PID {
			msg += fmt.Sprintf("; the lock file still names it: %s: %s", o.Verdict, o.Reason)
		} else if e.N != 0 {
			msg += "; its lock was already taken over"
			if !v.takenOver {
				v.dead, v.deadAt = msg, e.T2 // told once the takeover is
				return
			}
		}
		v.noteLocked(e.T2, msg)
	case stress.Overlap:
		v.overlaps++
		v.noteLocked(stress.Now(), fmt.Sprintf("OVERLAP: %v found live pid %d inside", w, e.N))
	case stress.Fail:
		v.noteLocked(stress.Now(), fmt.Sprintf("%v failed: %s", w, e.Text))
	case stress.Exited:
		if r.state != "killed" {
			r.state, r.since = "exited", e.T
		}
	}
}

// flushDead tells the death of a killed holder held back for its takeover's
// message, if any.
func (v *demoView) flushDead() {
	if v.dead != "" {
		v.noteLocked(v.deadAt, v.dead)
		v.dead = ""
	}
}

// row returns the row of w, adding it on first sight.
func (v *demoView) row(w *stress.Worker) *demoRow {
	for _, r := range v.rows {
		if r.w == w {
			return r
		}
	}
	r := &demoRow{w: w, state: "starting", since: stress.Now()}
	v.rows = append(v.rows, r)
	return r
}

// draw redraws the live view in place.
func (v *demoView) draw() {
	now := stress.Now()
	holder := "none"
	if o, held, err := v.owner.Owner(); err != nil {
		holder = describe(err)
	} else if held {
		holder = fmt.Sprintf("pid %d (%s), %s", o.PID, o.Name, o.Verdict)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	var lines []string
	for _, r := range v.rows {
		bar := "      "
		switch r.state {
		case "holds the lock":
			bar = "██████"
		case "waiting":
			bar = "  ··  "
		case "killed":
			bar = "  ✗   "
		}
		state := fmt.Sprintf("%-15s %6v", r.state, time.Duration(now-r.since).Round(100*time.Millisecond))
		if r.state == "killed" {
			state = fmt.Sprintf("killed at %.1fs", time.Duration(r.since-v.t0).Seconds())
		}
		lines = append(lines, fmt.Sprintf("  %-10v %s %-22s  turns %3d", r.w, bar, state, r.turns))
	}
	elapsed := min(time.Duration(now-v.t0), v.duration+time.Hour)
	lines = append(lines, "",
		"  lock file: "+holder,
		fmt.Sprintf("  %.1fs of %v   acquisitions %d   kills %d   overlaps seen %d",
			elapsed.Seconds(), v.duration, v.acquired, v.kills, v.overlaps), "")
	lines = append(lines, v.notes[max(0, len(v.notes)-liveNotes):]...)
	width := termWidth(v.stdout) - 1
	var b strings.Builder
	if v.drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", v.drawn)
	}
	for _, l := range lines {
		b.WriteString("\r\x1b[K" + clip(l, width) + "\n")
	}
	for range v.drawn - len(lines) { // a shorter frame: clear what is left below
		b.WriteString("\r\x1b[K\n")
	}
	v.drawn = max(v.drawn, len(lines))
	fmt.Fprint(v.stdout, b.String())
}

// summary writes the verdict of the demo and reports whether every check
// passed.
func (d *demo) summary(r stress.Report, left, after []string) bool {
	w := d.stdout
	ok := true
	fmt.Fprintf(w, "Summary: %d processes, %v\n", d.workers, d.duration)
	fmt.Fprintf(w, "  acquisitions  %d%s\n", r.Acquisitions, perWorker(d.view))
	if len(r.Overlaps) == 0 {
		fmt.Fprintf(w, "  overlaps      0, checked two ways: the %d holding times, taken on one clock all\n"+
			"                processes share, never intersect; and no process ever found another\n"+
			"                live one inside (a marker file each creates with O_EXCL)\n", r.Acquisitions)
	} else {
		ok = false
		fmt.Fprintf(w, "  overlaps      %d: THE LOCK FAILED\n", len(r.Overlaps))
		for _, o := range r.Overlaps {
			fmt.Fprintf(w, "                %s\n", o)
		}
	}
	if len(r.Handoffs) > 0 {
		fmt.Fprintf(w, "  handoffs      %d, from a release to the next waiter holding the lock: median %v, max %v\n"+
			"                (waiters are woken when the lock file is removed, or when its holder's\n"+
			"                process exits; else they look again after a pause that backs off\n"+
			"                from 1 ms to the retry period, %v)\n",
			len(r.Handoffs), stress.Round(stress.Quantile(r.Handoffs, 0.5)), stress.Round(stress.Quantile(r.Handoffs, 1)), d.retry)
	}
	fmt.Fprintf(w, "  kills         %d with SIGKILL, %d of them holding the lock\n", r.Kills, r.HolderKills)
	if r.HolderKills > 0 {
		var rec, win []string
		for _, x := range r.Recoveries {
			rec = append(rec, stress.Round(x).String())
		}
		for _, x := range r.Windows {
			win = append(win, stress.Round(x).String())
		}
		fmt.Fprintf(w, "  recoveries    %d of %d: the next holder had the lock %s after the kill;\n"+
			"                the takeovers themselves took %s\n", len(r.Recoveries), r.HolderKills,
			strings.Join(rec, ", "), strings.Join(win, ", "))
		if r.Unrecovered > 0 {
			ok = false
		}
	}
	switch {
	case len(after) > 0:
		ok = false
		fmt.Fprintf(w, "  left behind   %s, even after the next lock swept: DEBRIS\n", strings.Join(after, " "))
	case len(left) > 0:
		fmt.Fprintf(w, "  left behind   nothing: %d file(s) of killed processes were swept by the next lock\n", len(left))
	default:
		fmt.Fprintf(w, "  left behind   nothing (the takeovers swept the killed holders' files)\n")
	}
	if ok {
		fmt.Fprintf(w, "All checks passed.\n")
	} else {
		fmt.Fprintf(w, "A CHECK FAILED.\n")
	}
	return ok
}

// perWorker lists the turns of each worker: " (pid 1: 9, pid 2: 11)".
func perWorker(v *demoView) string {
	v.mu.Lock()
	defer v.mu.Unlock()
	var parts []string
	for _, r := range v.rows {
		parts = append(parts, fmt.Sprintf("%v: %d", r.w, r.turns))
	}
	slices.Sort(parts)
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}
