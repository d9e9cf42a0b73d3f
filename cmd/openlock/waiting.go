package main

import (
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/openlock/openlock"
	"github.com/openlock/openlock/procscan"
)

// A waitDisplay tells the user whom "run" is waiting for. On a terminal
// (live) it keeps one status line up to date and erases it at the end; with
// verbose it writes a line for each holder it waits for.
type waitDisplay struct {
	*cli
	lock          *openlock.FileLock
	start         time.Time
	live, verbose bool
}

// Pauses of the display: nothing shows before firstLook, so that a lock
// taken at once draws nothing.
const (
	firstLook   = 200 * time.Millisecond
	redrawEvery = 250 * time.Millisecond
)

// run updates the display until done is closed.
func (d *waitDisplay) run(done <-chan struct{}) {
	if !d.live && !d.verbose {
		return
	}
	timer := time.NewTimer(firstLook)
	defer timer.Stop()
	drawn, last := false, ""
	for {
		select {
		case <-done:
			if drawn {
				fmt.Fprint(d.stderr, "\r\x1b[K")
			}
			return
		case <-timer.C:
		}
		o, held, err := d.lock.Owner()
		holder := holderOf(o, held, err)
		if err == nil && !held {
			holder += "; taking it"
		}
		if d.live {
			line := fmt.Sprintf("openlock: waiting %v for %s: %s", time.Since(d.start).Round(time.Second), d.lock.Path(), holder)
			fmt.Fprintf(d.stderr, "\r\x1b[K%s", clip(line, termWidth(d.stderr)-1))
			drawn = true
		} else if who := fmt.Sprint(o.PID, o.Host, o.Since, err); held && who != last {
			last = who
			d.errorf("run: waiting for %s: %s", d.lock.Path(), holder)
		}
		timer.Reset(redrawEvery)
	}
}

// holderOf describes who holds a lock, from what Owner returned: "held by
// pid 4242 (backup) ...", "free", or why that cannot be told. A lock file
// this user may not read counts as held, and is said to be unreadable.
func holderOf(o openlock.Owner, held bool, err error) string {
	switch {
	case errors.Is(err, fs.ErrPermission):
		return "the lock file is unreadable: " + cause(err)
	case err != nil:
		return describe(err)
	case held:
		return "held by " + ownerLine(o)
	}
	return "free"
}

// ownerLine describes a lock's holder in one line: "pid 4242 (backup) on
// host db1 for 3m2s", with what is known of its liveness.
func ownerLine(o openlock.Owner) string {
	s := fmt.Sprintf("pid %d (%s)", o.PID, o.Name)
	if o.Host != "" {
		s += " on " + o.Host
	}
	if !o.Since.IsZero() {
		s += " for " + roughly(time.Since(o.Since))
	}
	switch o.Verdict {
	case procscan.Dead:
		s += ", which is dead: the lock is stale"
	case procscan.Unknown:
		s += ", which cannot be checked from here (" + o.Reason + ")"
	}
	return s
}

// roughly formats a duration to the second, or to the tenth below a minute.
func roughly(d time.Duration) string {
	if d < time.Minute {
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}
