// Package stress runs worker processes that contend for one lock file, kills
// holders with SIGKILL, and measures and verifies what happens: every
// acquisition and release on one clock shared by all processes, overlaps
// (checked two independent ways), handoff and recovery times, and the files
// left behind. "openlock demo" and "openlock selftest" are both built on it.
//
// A worker is the program itself, started again in the role WorkerRole (see
// package reexec).
package stress

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/openlock/openlock"
	"github.com/openlock/openlock/internal/reexec"
)

// Options configure a Pool and its workers.
type Options struct {
	// Lock is the lock file the workers contend for. The pool reads the
	// lock's owner through it.
	Lock string
	// Aliases are more paths to the same lock file, through other mounts
	// of its directory (two mounts of one network volume, as two hosts
	// would mount it). The workers are spread over Lock and Aliases
	// round-robin: worker i, counting from 0 in order of start, uses path
	// i % (1+len(Aliases)), so that the lock is contended across mounts.
	Aliases []string
	// Hold is how long a worker stays inside; Pause how long a cycling
	// worker waits between two turns.
	Hold, Pause Range
	// RetryPeriod is the workers' retry period (0: the library's default).
	RetryPeriod time.Duration
	// CacheTime is the workers' cache time (openlock.WithCacheTime), for
	// network file systems that cache longer than the library's default: 0
	// means that default, a negative value none (WithCacheTime(0)).
	CacheTime time.Duration
	// Patience bounds every wait for a worker (0: one minute): a worker
	// that makes no progress for this long fails the run.
	Patience time.Duration
	// Observe, if set, is called for every event in the order the pool
	// records them, with the pool's lock held: it must not call the
	// pool's methods.
	Observe func(Event)
}

// A Pool starts worker processes and records what they report.
type Pool struct {
	o     Options
	owner *openlock.FileLock // only to read the lock file's owner; never locked

	mu      sync.Mutex
	tick    chan struct{} // closed and replaced at every event
	workers []*Worker
	tl      timeline
	events  []Event // all of them, for Trace
	errs    []error
}

// A Worker is one worker process.
type Worker struct {
	ID   int // 1, 2, ... in order of start
	PID  int
	Role string
	Lock string // its path to the lock file: Options.Lock or an alias
	// Path numbers Lock among the pool's paths when it has aliases (1 for
	// Options.Lock, 2 for the first alias, ...); 0 when it has none.
	Path int

	proc   *reexec.Child
	exited chan struct{} // closed once it has exited, been reaped, and its events are recorded

	// Guarded by the pool's lock.
	ready, gone, killed, failed bool
	holding                     bool  // between its acq and rel
	trying                      bool  // between its try and acq
	open                        int   // index of its open interval while holding
	tryAt                       int64 // its last try
	pending                     int   // commands sent and not yet done
	turns                       int
}

// NewPool returns a pool for o; it starts no process.
func NewPool(o Options) (*Pool, error) {
	if o.Patience <= 0 {
		o.Patience = time.Minute
	}
	owner, err := openlock.New(o.Lock)
	if err != nil {
		return nil, err
	}
	return &Pool{o: o, owner: owner, tick: make(chan struct{})}, nil
}

// Start starts a worker in role (RoleCycle, RoleRacer) and waits until it is
// ready.
func (p *Pool) Start(role string) (*Worker, error) {
	lock, path := p.nextPath()
	// Every worker reaches the marker through Options.Lock's path, whatever
	// its path to the lock: the marker is the instrument, not the thing
	// under test, and one mount's view of it is coherent, whereas another
	// mount's cache could show a marker already removed (a false overlap).
	args := []string{"-lock", lock, "-marker", p.o.Lock + MarkerSuffix, "-role", role,
		"-hold", p.o.Hold.String(), "-pause", p.o.Pause.String(),
		"-timeout", (2 * p.o.Patience).String()}
	if p.o.RetryPeriod > 0 {
		args = append(args, "-retry", p.o.RetryPeriod.String())
	}
	if p.o.CacheTime != 0 {
		args = append(args, "-cache-time", max(p.o.CacheTime, 0).String())
	}
	w := &Worker{Role: role, Lock: lock, Path: path, exited: make(chan struct{})}
	// Its events wait until it is one of the pool's workers, with its ID.
	registered := make(chan struct{})
	var err error
	w.proc, err = reexec.Start(reexec.Command(WorkerRole, args...), reexec.Options{OnLine: func(line string) {
		<-registered
		p.record(eventOf(w, line))
	}})
	if err != nil {
		return nil, fmt.Errorf("starting a worker: %w", err)
	}
	w.PID = w.proc.PID()
	p.mu.Lock()
	p.workers = append(p.workers, w)
	w.ID = len(p.workers)
	p.mu.Unlock()
	close(registered)
	go p.reap(w)
	err = p.WaitFor(fmt.Sprintf("worker %v to start", w), func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return w.ready || w.gone
	})
	p.mu.Lock()
	ready := w.ready
	p.mu.Unlock()
	if err == nil && !ready {
		// Its "fail" line, if it wrote one, is among the pool's errors
		// (Err, Close): not repeated here, with everyone else's.
		err = fmt.Errorf("worker %v exited at start", w)
		if out := strings.TrimSpace(w.proc.Stderr()); out != "" {
			err = fmt.Errorf("%w: %s", err, out)
		}
	}
	return w, err
}

// nextPath returns the path to the lock for the next worker to start, and
// its number for Worker.Path.
func (p *Pool) nextPath() (string, int) {
	if len(p.o.Aliases) == 0 {
		return p.o.Lock, 0
	}
	p.mu.Lock()
	i := len(p.workers) % (1 + len(p.o.Aliases))
	p.mu.Unlock()
	if i == 0 {
		return p.o.Lock, 1
	}
	return p.o.Aliases[i-1], i + 1
}

// eventOf parses a line that w wrote.
func eventOf(w *Worker, line string) Event {
	e, err := parseEvent(line)
	if err != nil {
		e = Event{Kind: Fail, Text: err.Error()}
	}
	e.Worker = w
	return e
}

// reap records w's exit, once its events are recorded.
func (p *Pool) reap(w *Worker) {
	<-w.proc.Done()
	p.mu.Lock()
	killed := w.killed
	p.mu.Unlock()
	if !killed {
		text := ""
		if err := w.proc.Wait(0); err != nil {
			text = err.Error()
		}
		p.record(Event{Worker: w, Kind: Exited, T: Now(), Text: text})
	}
	close(w.exited)
}

// record applies an event to the pool's state and tells the observer.
func (p *Pool) record(e Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e.At = Now()
	if len(p.events) == maxTrace {
		p.events = append(p.events[:0], p.events[maxTrace/2:]...) // keep the later half
	}
	p.events = append(p.events, e)
	w := e.Worker
	switch e.Kind {
	case Ready:
		w.ready = true
	case Try:
		w.tryAt, w.trying = e.T, true
	case Done:
		w.trying = false
	case Acquired:
		w.holding, w.trying, w.open = true, false, p.tl.acquired(w, w.tryAt, e.T, e.N)
		w.turns++
	case Unlocking:
		if w.holding {
			p.tl.released(w.open, e.T)
		}
		w.holding = false
	case Released:
		w.pending = max(w.pending-1, 0)
	case Overlap:
		p.tl.overlap(fmt.Sprintf("%v found live pid %d inside (marker file)", w, e.N))
	case Fail:
		w.failed = true
		p.errs = append(p.errs, fmt.Errorf("worker %v: %s", w, e.Text))
	case Killed:
		w.gone = true
		p.tl.killed(*e.kill)
		w.holding, w.trying = false, false
	case Exited:
		w.gone = true
		if e.Text != "" && !w.failed {
			p.errs = append(p.errs, fmt.Errorf("worker %v: %s", w, e.Text))
		}
		if w.holding {
			p.errs = append(p.errs, fmt.Errorf("worker %v exited while holding the lock", w))
		}
	}
	if p.o.Observe != nil {
		p.o.Observe(e)
	}
	close(p.tick)
	p.tick = make(chan struct{})
}

// WaitFor waits until cond returns true; it is called again after each
// event. It gives up with an error after the pool's patience, naming what it
// waited for and who holds the lock.
func (p *Pool) WaitFor(what string, cond func() bool) error {
	deadline := time.NewTimer(p.o.Patience)
	defer deadline.Stop()
	for {
		p.mu.Lock()
		tick := p.tick
		p.mu.Unlock()
		if cond() {
			return nil
		}
		select {
		case <-tick:
		case <-deadline.C:
			return fmt.Errorf("gave up waiting for %s after %v; the lock file: %s", what, p.o.Patience, p.OwnerText())
		}
	}
}

// OwnerText describes who the lock file names, for messages.
func (p *Pool) OwnerText() string {
	o, held, err := p.owner.Owner()
	switch {
	case err != nil:
		return err.Error()
	case !held:
		return "none"
	}
	return o.String()
}

// Owner reads the lock file's owner (false: no lock file).
func (p *Pool) Owner() (openlock.Owner, bool, error) { return p.owner.Owner() }

// Send writes a command line to a racer.
func (p *Pool) Send(w *Worker, command string) error {
	p.mu.Lock()
	w.pending++
	p.mu.Unlock()
	return w.proc.Send(command)
}

// Kill kills w with SIGKILL and waits until it is reaped. The kill counts as
// a kill of a holder when w had reported the lock and not its release, or
// when the lock file still names w once it is dead.
func (p *Pool) Kill(w *Worker) Kill {
	p.mu.Lock()
	w.killed = true
	p.mu.Unlock()
	k := Kill{Worker: w, At: Now()}
	p.record(Event{Worker: w, Kind: Killing, T: k.At})
	w.proc.Kill()
	<-w.exited
	k.Reaped = Now()
	p.mu.Lock()
	k.Holding, k.Taking = w.holding, w.trying
	p.mu.Unlock()
	if o, held, err := p.owner.Owner(); !k.Holding && err == nil && held && o.PID == w.PID {
		k.Holding = true
	}
	holding := int64(0)
	if k.Holding {
		holding = 1
	}
	p.record(Event{Worker: w, Kind: Killed, T: k.At, T2: k.Reaped, N: holding, kill: &k})
	return k
}

// KillHolder kills the worker that the lock file names, if it is one of
// this pool's and alive. It reports false when the lock is free or held by
// another process.
func (p *Pool) KillHolder() (Kill, bool) {
	o, held, err := p.owner.Owner()
	if err != nil || !held {
		return Kill{}, false
	}
	p.mu.Lock()
	var victim *Worker
	for _, w := range p.workers {
		if w.PID == o.PID && !w.gone && !w.killed {
			victim = w
		}
	}
	p.mu.Unlock()
	if victim == nil {
		return Kill{}, false
	}
	return p.Kill(victim), true
}

// Stop ends the input of the live workers in role ("" for all), which makes
// each finish its turn (a waiting Lock is cancelled) and exit, and waits for
// them. A worker that does not exit within the pool's patience is killed and
// reported.
func (p *Pool) Stop(role string) error {
	live := p.Live(role)
	for _, w := range live {
		w.proc.CloseStdin()
	}
	var errs []error
	deadline := time.After(p.o.Patience)
	for _, w := range live {
		select {
		case <-w.exited:
		case <-deadline:
			errs = append(errs, fmt.Errorf("worker %v did not stop within %v", w, p.o.Patience))
			p.Kill(w)
		}
	}
	return errors.Join(errs...)
}

// Close stops every worker and returns the errors workers reported during
// the run.
func (p *Pool) Close() error {
	err := p.Stop("")
	p.owner.Close()
	return errors.Join(p.Err(), err)
}

// Err returns the errors workers reported so far.
func (p *Pool) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return errors.Join(p.errs...)
}

// Live returns the workers in role ("" for all) that have not exited.
func (p *Pool) Live(role string) []*Worker {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.liveLocked(role)
}

func (p *Pool) liveLocked(role string) []*Worker {
	var live []*Worker
	for _, w := range p.workers {
		if !w.gone && (role == "" || w.Role == role) {
			live = append(live, w)
		}
	}
	return live
}

// Acquisitions returns how many times the lock was reported taken.
func (p *Pool) Acquisitions() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.tl.intervals)
}

// Idle reports whether every live racer has finished its commands.
func (p *Pool) Idle() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, w := range p.liveLocked(RoleRacer) {
		if w.pending > 0 {
			return false
		}
	}
	return true
}

// Report measures the run so far.
func (p *Pool) Report() Report {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.tl.report()
}

// Gone reports whether the worker has exited or was killed.
func (w *Worker) Gone() bool {
	select {
	case <-w.exited:
		return true
	default:
		return false
	}
}

// Holding reports whether w has reported taking the lock and not yet its
// release.
func (p *Pool) Holding(w *Worker) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return w.holding
}

// Holding is Pool.Holding for an Observe function, which runs with the
// pool's lock held.
func (w *Worker) Holding() bool { return w.holding }

// Turns returns how many times the worker took the lock. Call it only from
// an Observe function.
func (w *Worker) Turns() int { return w.turns }

// String names the worker by its pid and, when the pool has aliases, the
// number of the path it uses ("pid 42 (path 2)"): which mount each side of
// an overlap went through is the first thing to know.
func (w *Worker) String() string {
	if w.Path > 0 {
		return "pid " + strconv.Itoa(w.PID) + " (path " + strconv.Itoa(w.Path) + ")"
	}
	return "pid " + strconv.Itoa(w.PID)
}

// maxTrace bounds the events a pool keeps for Trace: a soak runs for hours.
const maxTrace = 200_000

// Trace writes the events recorded so far (the last maxTrace/2 at least), one a line, in the order the
// pool recorded them: when it was recorded and, for events that carry one,
// the worker's own time, both relative to the first event; the worker; and
// what happened. It is for finding out what went wrong in a failed run.
func (p *Pool) Trace(out io.Writer) error {
	p.mu.Lock()
	events := slices.Clone(p.events)
	p.mu.Unlock()
	if len(events) == 0 {
		return nil
	}
	t0 := events[0].At
	bw := bufio.NewWriter(out)
	for _, e := range events {
		at := ""
		if e.T != 0 {
			at = fmt.Sprintf(" t=%+.6fs", time.Duration(e.T-t0).Seconds())
		}
		if e.T2 != 0 {
			at += fmt.Sprintf(" t2=%+.6fs", time.Duration(e.T2-t0).Seconds())
		}
		fmt.Fprintf(bw, "%+.6fs %-7s %-6s %-7s%s n=%d %s\n", time.Duration(e.At-t0).Seconds(),
			e.Worker, e.Worker.Role, e.Kind, at, e.N, e.Text)
	}
	return bw.Flush()
}
