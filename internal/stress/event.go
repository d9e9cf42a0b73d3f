package stress

import (
	"fmt"
	"strconv"
	"strings"
)

// The line protocol between a worker process and the coordinator. A worker
// writes one line per event to its stdout; times are Now readings.
//
//	ready               set up (a racer: its token exists)
//	try <t>             about to call Lock
//	acq <t> <window>    Lock returned at t; window is the race window of the
//	                    takeover in ns (0: the lock was free)
//	unl <t>             about to call Unlock: the holding ends no earlier
//	rel <t>             Unlock returned
//	overlap <pid>       inside, it found live process pid inside too
//	done <n>            finished after n acquisitions
//	fail <message>      an error; the worker exits with status 1
//
// The coordinator writes commands to a racer's stdin: "go" (take the lock
// once), "hold" (take it and keep it); end of input means stop.

// A Kind names an event.
type Kind string

// The events of a worker, and those the coordinator adds (Killing, Killed, Exited).
const (
	Ready     Kind = "ready"
	Try       Kind = "try"
	Acquired  Kind = "acq"
	Unlocking Kind = "unl"
	Released  Kind = "rel"
	Overlap   Kind = "overlap"
	Done      Kind = "done"
	Fail      Kind = "fail"
	Killing   Kind = "killing" // the coordinator is about to send SIGKILL, at T
	Killed    Kind = "killed"  // the coordinator killed it: T sent SIGKILL, T2 reaped; N is 1 if it held the lock
	Exited    Kind = "exited"  // it exited by itself; Text holds the error, if any
)

// An Event is one line of a worker, or something the coordinator did to it.
type Event struct {
	Worker *Worker
	Kind   Kind
	T, T2  int64
	N      int64 // Acquired: race window (ns); Overlap: the other pid; Done: acquisitions
	Text   string
	At     int64 // when the pool recorded it
	kill   *Kill // Killed: what the pool found
}

// parseEvent reads one line of the protocol.
func parseEvent(line string) (Event, error) {
	kind, rest, _ := strings.Cut(line, " ")
	e := Event{Kind: Kind(kind)}
	var ints []*int64
	switch e.Kind {
	case Ready:
	case Try, Unlocking, Released:
		ints = []*int64{&e.T}
	case Acquired:
		ints = []*int64{&e.T, &e.N}
	case Overlap, Done:
		ints = []*int64{&e.N}
	case Fail:
		e.Text = rest
		return e, nil
	default:
		return e, fmt.Errorf("unknown event %q", line)
	}
	fields := strings.Fields(rest)
	if len(fields) != len(ints) {
		return e, fmt.Errorf("event %q: want %d numbers", line, len(ints))
	}
	for i, f := range fields {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return e, fmt.Errorf("event %q: %w", line, err)
		}
		*ints[i] = n
	}
	return e, nil
}
