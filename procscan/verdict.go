// Package procscan decides whether the process a lock record names is alive.
//
// The answer is a [Verdict]: [Alive], [Dead] or [Unknown], with a reason for
// logs and for "openlock status". A lock whose holder is Dead may be taken
// over, so Dead is answered only when it is certain; whenever a check cannot
// be made from here (another host, another boot, another PID namespace, an
// error reading the process table) the verdict is Unknown, which callers
// treat as held.
//
// The process table is behind the [Table] interface so tests can inject any
// table, including one with reused PIDs. [System] returns the real one: /proc
// on Linux (exact start times in clock ticks), gopsutil elsewhere.
package procscan

import (
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	"github.com/openlock/openlock/fileformat"
)

// Verdict is what can be said about the holder named by a record.
type Verdict int

const (
	// Unknown: the holder cannot be checked from here. Treated as held.
	Unknown Verdict = iota
	// Alive: the holder is a running process.
	Alive
	// Dead: certainly no such process runs; its lock may be taken over.
	Dead
)

// String returns "unknown", "alive" or "dead".
func (v Verdict) String() string {
	switch v {
	case Alive:
		return "alive"
	case Dead:
		return "dead"
	}
	return "unknown"
}

// Result is a verdict with the reason it was reached.
type Result struct {
	Verdict Verdict
	Reason  string
}

func (r Result) String() string { return r.Verdict.String() + ": " + r.Reason }

// Identity names the scope in which a PID means something: a host, one boot
// of it, and (on Linux) a PID namespace. Records carry the writer's Identity.
type Identity struct {
	Host    string
	Machine string // the OS installation's id (/etc/machine-id); may be ""
	Boot    string
	PIDNS   string
}

// Process is what a Table knows of one running process.
type Process struct {
	PID int
	// Start is the process start time in the OS's own exact unit, formatted
	// as records hold it (Linux: clock ticks since boot; elsewhere:
	// milliseconds since the Unix epoch).
	Start string
	// Zombie reports that the process has exited and no thread of it runs.
	Zombie bool
}

// ErrNoProcess is returned by a Table when it is certain that no process has
// the PID asked for.
var ErrNoProcess = errors.New("no such process")

// A Table looks up processes. Implementations must return an error wrapping
// ErrNoProcess only when the process certainly does not exist, and an error
// wrapping fs.ErrPermission when it exists but may not be inspected.
type Table interface {
	// Identity returns the scope of this table's PIDs.
	Identity() Identity
	// Process returns the process with the given PID.
	Process(pid int) (Process, error)
	// Names returns the words the process is known by: its command line,
	// its executable path and its short name, in any order.
	Names(pid int) ([]string, error)
}

// Judge returns the verdict on the holder named by r, as seen through t.
//
// A record in the seed format (no start time) is judged by the seed's rule:
// alive when its PID runs a process whose command line or executable
// contains the recorded name. That rule cannot see PID reuse by a process of
// the same name, nor a holder on another host.
func Judge(r fileformat.Record, t Table) Result { return JudgeExited(r, t, Process{}) }

// JudgeExited is Judge for a caller that has seen the process exited exit:
// a pidfd of it, opened for its PID and start time, became readable. A
// record in t's scope that names exited by PID and start time is judged
// dead without a look at t. That holds even if the pidfd was opened after
// the PID had passed to another process: exited had exited by then. The
// zero Process names no process.
func JudgeExited(r fileformat.Record, t Table, exited Process) Result {
	if r.Seed() {
		return judgeSeed(r, t)
	}
	here := t.Identity()
	switch {
	case r.Host != here.Host:
		return unknown("held on host %q; this is host %q", r.Host, here.Host)
	case !sameBoot(r.Boot, here.Boot):
		return unknown("held during boot %q of host %q; this is boot %q", r.Boot, r.Host, here.Boot)
	case r.PIDNS != here.PIDNS:
		return unknown("held in PID namespace %q; this process sees PID namespace %q", r.PIDNS, here.PIDNS)
	case r.Start == "":
		return unknown("record of pid %d has no start time", r.PID)
	case r.PID == exited.PID && r.Start == exited.Start:
		return dead("pid %d has exited (its pidfd said so)", r.PID)
	}
	p, res, ok := lookup(t, r.PID)
	if !ok {
		return res
	}
	if p.Start != r.Start {
		return dead("pid %d was reused: it started at %s, the holder at %s", r.PID, p.Start, r.Start)
	}
	if p.Zombie {
		return dead("pid %d has exited (zombie)", r.PID)
	}
	return alive("pid %d is running and started at %s, as recorded", r.PID, r.Start)
}

func judgeSeed(r fileformat.Record, t Table) Result {
	if _, res, ok := lookup(t, r.PID); !ok {
		return res
	}
	names, err := t.Names(r.PID)
	if err != nil {
		return fromError(r.PID, err)
	}
	if !matchName(r.Name, names) {
		return dead("pid %d runs %q, not %q (seed-format record; pid reused)", r.PID, strings.Join(names, " "), r.Name)
	}
	return alive("pid %d runs %q (seed-format record: matched by name only)", r.PID, r.Name)
}

// lookup returns the process, or ok == false and the verdict that follows
// from the lookup's failure or from the process being a zombie.
func lookup(t Table, pid int) (Process, Result, bool) {
	p, err := t.Process(pid)
	if err != nil {
		return p, fromError(pid, err), false
	}
	if p.Zombie {
		return p, dead("pid %d has exited (zombie)", pid), false
	}
	return p, Result{}, true
}

func fromError(pid int, err error) Result {
	switch {
	case errors.Is(err, ErrNoProcess):
		return dead("no process %d", pid)
	case errors.Is(err, fs.ErrPermission):
		return alive("pid %d exists but may not be inspected (%v)", pid, err)
	}
	return unknown("cannot check pid %d: %v", pid, err)
}

// matchName reports whether name occurs, case-insensitively, in any of the
// words a process is known by: the seed's own test, minus its "python".
func matchName(name string, words []string) bool {
	name = strings.ToLower(name)
	for _, w := range words {
		if strings.Contains(strings.ToLower(w), name) {
			return true
		}
	}
	return false
}

// sameBoot compares boot ids. Where the OS gives only a boot time in seconds
// (computed from the uptime, so two readings may differ by a second), two
// times within bootSlack seconds are the same boot.
func sameBoot(a, b string) bool {
	if a == b {
		return true
	}
	x, errA := strconv.ParseInt(a, 10, 64)
	y, errB := strconv.ParseInt(b, 10, 64)
	return errA == nil && errB == nil && x-y <= bootSlack && y-x <= bootSlack
}

const bootSlack = 2

func alive(f string, a ...any) Result   { return Result{Alive, fmt.Sprintf(f, a...)} }
func dead(f string, a ...any) Result    { return Result{Dead, fmt.Sprintf(f, a...)} }
func unknown(f string, a ...any) Result { return Result{Unknown, fmt.Sprintf(f, a...)} }
