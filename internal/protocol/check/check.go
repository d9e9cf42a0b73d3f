// Package check is the protocol's checker: it runs the real code of
// package protocol (take by link, the decision after it, claims, the
// re-read, the rename over, release) in 2 to 3 simulated processes on
// package simfs, and a scheduler picks which process takes its next
// file-system step; any process may crash before any step. Explore tries
// every schedule up to a bound (of preemptions and crashes); Random tries
// seeded random schedules, each reproducible from its seed.
//
// The invariants: never two live exclusive holders; no process spins
// (every path reaches a pause or its return within a bound of steps); in a
// schedule without crashes, the dead holder's lock is taken over.
//
// Each process runs in a goroutine of its own, but only one runs at a
// time: it parks before each file-system call until the scheduler lets it
// make that call. A crash makes the parked process unwind (a panic that
// its goroutine recovers) and leaves its files as they are.
package check

import (
	"fmt"
	"hash/fnv"
	"math/rand"
	"slices"
	"strings"
	"time"

	"github.com/openlock/openlock/internal/protocol"
	"github.com/openlock/openlock/internal/protocol/simfs"
)

// Config is one world to check.
type Config struct {
	Procs          int           // processes: 2 or 3
	Clients        int           // machines; process i runs on client i % Clients
	CacheTime      time.Duration // every client's (0: a local file system)
	MaxCrashes     int           // crashes per schedule
	MaxPreemptions int           // Explore: switches away from a process that could go on
	// MaxTicks is how often per schedule the scheduler may let Tick of
	// time pass while processes could go on: the processes that go on
	// after it were that much slower than those before (caches age).
	MaxTicks int
	Tick     time.Duration
	Attempts int           // per process: attempts at the lock before it gives up
	Hold     time.Duration // how long a process holds the lock before it releases it
	// Faults is injected into every process's takeovers (see
	// protocol.Faults): the mutations the checker must catch.
	Faults protocol.Faults
	// Fischer: take over by Fischer mode (protocol.Overwrite) instead of
	// claims, pausing RaceDelay before the look that decides.
	Fischer   bool
	RaceDelay time.Duration
	// Stall is how long process 0 pauses between its look at the stale
	// lock file and its overwrite, in Fischer mode: Fischer's assumption
	// is that this is shorter than RaceDelay.
	Stall time.Duration
}

const (
	lock        = "L"
	retryPeriod = 10 * time.Millisecond
	pacedPause  = time.Millisecond
	pacedTries  = 3 // retries of a vanished lock file or claim, per attempt
	// maxSteps bounds a process's file-system steps between two pauses
	// (and to its return): more is a spin.
	maxSteps  = 60
	deadNonce = "D" // the holder of the lock file at the start, dead
)

// A Choice is one decision of the scheduler: which process makes its next
// step, or crashes, or that a Tick of time passes.
type Choice struct {
	Proc  int
	Crash bool
	Tick  bool
}

// String names the choice as a schedule prints it: P0, crash P1, tick.
func (c Choice) String() string {
	if c.Tick {
		return "tick"
	}
	if c.Crash {
		return fmt.Sprintf("crash P%d", c.Proc)
	}
	return fmt.Sprintf("P%d", c.Proc)
}

// A Violation is a schedule that breaks an invariant.
type Violation struct {
	What     string
	Seed     int64 // Random's seed of the schedule; 0 for Explore
	Schedule []Choice
	Trace    []string // each step, as taken
}

// String is the violation, its seed and schedule, and its trace, step by
// step.
func (v *Violation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\nseed %d, schedule %v\n", v.What, v.Seed, v.Schedule)
	for _, t := range v.Trace {
		fmt.Fprintf(&b, "  %s\n", t)
	}
	return b.String()
}

// Stats counts what an exploration covered.
type Stats struct {
	Schedules int // schedules run to their end
	States    int // distinct states seen after a step (server names, clock, each process's position)
	Steps     int // steps taken, over all schedules
	// StaleReads counts the lookups that a client answered from its cache
	// with another file than the server held, or none (simfs).
	StaleReads int
}

// A chooser picks one of n alternatives at a step of a schedule.
type chooser func(n int, alts []Choice) int

// Explore runs every schedule within cfg's bounds, up to max schedules
// (0: no limit), and returns the first violation found, if any.
func Explore(cfg Config, max int) (Stats, *Violation) {
	var st Stats
	seen := make(map[uint64]bool)
	var stack []frame
	for {
		depth := 0
		choose := func(n int, _ []Choice) int {
			if depth < len(stack) {
				c := stack[depth].choice
				depth++
				return c
			}
			stack = append(stack, frame{0, n})
			depth++
			return 0
		}
		v := runOne(cfg, choose, seen, &st)
		st.Schedules++
		if v != nil {
			st.States = len(seen)
			return st, v
		}
		for len(stack) > 0 && stack[len(stack)-1].choice+1 >= stack[len(stack)-1].n {
			stack = stack[:len(stack)-1]
		}
		if len(stack) == 0 || (max > 0 && st.Schedules >= max) {
			st.States = len(seen)
			return st, nil
		}
		stack[len(stack)-1].choice++
	}
}

type frame struct{ choice, n int }

// Random runs n schedules, the i-th chosen at random from seed+i, and
// returns the first violation found, if any. A crash or a tick is chosen
// at a step with probability 1/20 while cfg allows one more.
func Random(cfg Config, seed int64, n int) (Stats, *Violation) {
	var st Stats
	seen := make(map[uint64]bool)
	for i := range n {
		s := seed + int64(i)
		r := rand.New(rand.NewSource(s))
		choose := func(n int, alts []Choice) int {
			var runs, rare []int
			for i, a := range alts {
				if a.Crash || a.Tick {
					rare = append(rare, i)
				} else {
					runs = append(runs, i)
				}
			}
			if len(rare) > 0 && (len(runs) == 0 || r.Intn(20) == 0) {
				return rare[r.Intn(len(rare))]
			}
			return runs[r.Intn(len(runs))]
		}
		v := runOne(cfg, choose, seen, &st)
		st.Schedules++
		if v != nil {
			v.Seed = s
			st.States = len(seen)
			return st, v
		}
	}
	st.States = len(seen)
	return st, nil
}

// A world is the state of one schedule's run.
type world struct {
	cfg      Config
	clock    *simfs.Clock
	srv      *simfs.Server
	procs    []*proc
	clients  []*simfs.Client
	dead     map[string]bool // nonces of dead processes
	trace    []string
	schedule []Choice
	failure  string
	// acquisitions counts the holds; a schedule without crashes must
	// have one.
	acquisitions int
}

// runOne runs one schedule, choosing with choose, and reports a violation.
func runOne(cfg Config, choose chooser, seen map[uint64]bool, st *Stats) *Violation {
	w := newWorld(cfg)
	defer w.stop()
	defer func() {
		for _, c := range w.clients {
			st.StaleReads += c.StaleAnswers()
		}
	}()
	crashes, preemptions, ticks, last := 0, 0, 0, -1
	for w.failure == "" {
		alts := w.alternatives(crashes < cfg.MaxCrashes, preemptions < cfg.MaxPreemptions || cfg.MaxPreemptions < 0, last)
		if ticks < cfg.MaxTicks && len(alts) > 0 {
			alts = append(alts, Choice{Tick: true})
		}
		if len(alts) == 0 {
			if !w.advanceClock() {
				break // every process returned or crashed
			}
			continue
		}
		c := alts[choose(len(alts), alts)]
		w.schedule = append(w.schedule, c)
		st.Steps++
		if c.Tick {
			ticks++
			w.clock.Advance(cfg.Tick)
			w.trace = append(w.trace, fmt.Sprintf("tick: %v passes", cfg.Tick))
		} else if c.Crash {
			crashes++
			w.crash(w.procs[c.Proc])
		} else {
			if last >= 0 && c.Proc != last && w.runnable(w.procs[last]) {
				preemptions++
			}
			last = c.Proc
			w.step(w.procs[c.Proc])
		}
		seen[w.hash()] = true
	}
	if w.failure == "" && crashes == 0 && w.acquisitions == 0 {
		w.fail("no process took over the dead holder's lock, and none crashed")
	}
	if w.failure == "" {
		return nil
	}
	return &Violation{What: w.failure, Schedule: w.schedule, Trace: w.trace}
}

// alternatives lists the choices at this point: the last process first
// (going on is no preemption), then the others if a preemption is allowed
// or the last cannot go on, then the crashes.
func (w *world) alternatives(crash, preempt bool, last int) []Choice {
	var alts []Choice
	lastGoesOn := last >= 0 && w.runnable(w.procs[last])
	if lastGoesOn {
		alts = append(alts, Choice{Proc: last})
	}
	if preempt || !lastGoesOn {
		for _, p := range w.procs {
			if p.id != last && w.runnable(p) {
				alts = append(alts, Choice{Proc: p.id})
			}
		}
	}
	if crash {
		for _, p := range w.procs {
			if !p.done && !p.crashed && len(alts) > 0 {
				alts = append(alts, Choice{Proc: p.id, Crash: true})
			}
		}
	}
	return alts
}

func (w *world) runnable(p *proc) bool {
	return !p.done && !p.crashed && !p.wake.After(w.clock.Now())
}

// advanceClock moves the clock to the earliest wake of a pausing process;
// false when no process is left.
func (w *world) advanceClock() bool {
	var next time.Time
	for _, p := range w.procs {
		if !p.done && !p.crashed && (next.IsZero() || p.wake.Before(next)) {
			next = p.wake
		}
	}
	if next.IsZero() {
		return false
	}
	w.clock.Advance(next.Sub(w.clock.Now()))
	return true
}

// hash names the state after a step: the server's names, the clock, and
// each process's next step and standing.
func (w *world) hash() uint64 {
	h := fnv.New64a()
	names := w.srv.Names()
	keys := make([]string, 0, len(names))
	for n := range names {
		keys = append(keys, n)
	}
	slices.Sort(keys)
	for _, n := range keys {
		fmt.Fprintf(h, "%s=%d;", n, names[n])
	}
	fmt.Fprintf(h, "t=%d;", w.clock.Now().UnixNano())
	for _, p := range w.procs {
		fmt.Fprintf(h, "%d:%s:%v%v%v%d;", p.id, p.next, p.done, p.crashed, p.holding, p.wake.UnixNano())
	}
	return h.Sum64()
}

// newWorld is cfg's world at the start: a dead holder's lock file, each
// process's token, and the processes started, parked before their first
// step.
func newWorld(cfg Config) *world {
	clock := simfs.NewClock()
	w := &world{cfg: cfg, clock: clock, srv: simfs.NewServer(clock), dead: map[string]bool{deadNonce: true}}
	clients := make([]*simfs.Client, max(cfg.Clients, 1))
	for i := range clients {
		clients[i] = simfs.NewClient(w.srv, cfg.CacheTime)
	}
	w.clients = clients
	must(w.srv.Create(tokenName(deadNonce), record(deadNonce)))
	for i := range cfg.Procs {
		nonce := fmt.Sprintf("P%d", i)
		must(w.srv.Create(tokenName(nonce), record(nonce)))
	}
	// The dead holder's lock file, as any holder's: a link of its token.
	must(simfs.NewClient(w.srv, 0).Link(tokenName(deadNonce), lock))
	for i := range cfg.Procs {
		w.procs = append(w.procs, w.start(i, clients[i%len(clients)]))
	}
	return w
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

func tokenName(nonce string) string { return lock + "." + nonce + ".token" }
func claimName(id string) string    { return lock + ".break." + id }
func record(nonce string) []byte    { return []byte(nonce + "\n") }

// stop unwinds every process still parked.
func (w *world) stop() {
	for _, p := range w.procs {
		if !p.done && !p.crashed {
			p.crashed = true
			p.resume <- false
			<-p.parked
		}
	}
}

// step lets p make its next step, and waits until it parks again or
// returns.
func (w *world) step(p *proc) {
	w.trace = append(w.trace, fmt.Sprintf("%v P%d %s", w.clock.Now().Sub(simfs.NewClock().Now()), p.id, p.next))
	p.resume <- true
	<-p.parked
}

// crash kills p before its next step: its files stay, and its record now
// names a dead process.
func (w *world) crash(p *proc) {
	w.trace = append(w.trace, fmt.Sprintf("crash P%d (before %s)", p.id, p.next))
	p.crashed, p.holding = true, false
	w.dead[p.nonce] = true
	p.resume <- false
	<-p.parked
}

// fail records the first violation.
func (w *world) fail(format string, args ...any) {
	if w.failure == "" {
		w.failure = fmt.Sprintf(format, args...)
	}
}

// A proc is one simulated process.
type proc struct {
	w       *world
	id      int
	nonce   string
	client  *simfs.Client
	tok     protocol.Token
	resume  chan bool     // the scheduler's word: go on (true) or crash (false)
	parked  chan struct{} // the process parked before a step, or returned
	next    string        // the step it is parked before
	wake    time.Time     // it pauses until then
	steps   int           // steps since its last pause
	done    bool
	crashed bool
	holding bool
}

// crashedPanic is the panic that unwinds a crashed process.
type crashedPanic struct{}

// start starts process i on client c, and waits until it parks.
func (w *world) start(i int, c *simfs.Client) *proc {
	p := &proc{w: w, id: i, nonce: fmt.Sprintf("P%d", i), client: c,
		resume: make(chan bool), parked: make(chan struct{})}
	fi, err := simfs.NewClient(w.srv, 0).Lstat(tokenName(p.nonce))
	must(err)
	p.tok = protocol.Token{Path: tokenName(p.nonce), Info: fi, Data: record(p.nonce)}
	go p.run()
	<-p.parked
	return p
}

// run runs p's program, and reports its end (a return, a crash, or a
// panic of the protocol's code, which is a violation).
func (p *proc) run() {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(crashedPanic); !ok {
				p.w.fail("P%d panicked: %v", p.id, r)
			}
		}
		p.done = true
		p.parked <- struct{}{}
	}()
	p.program()
}

// park waits before the step named what until the scheduler lets p go.
func (p *proc) park(what string) {
	p.next = what
	p.parked <- struct{}{}
	if !<-p.resume {
		panic(crashedPanic{})
	}
	if p.steps++; p.steps > maxSteps {
		p.w.fail("P%d spins: %d file-system steps without a pause (at %s)", p.id, p.steps, what)
		panic(crashedPanic{})
	}
}

// pause makes p wait d of simulated time.
func (p *proc) pause(d time.Duration) {
	p.wake = p.w.clock.Now().Add(d)
	p.steps = 0
	p.park(fmt.Sprintf("wake after pausing %v", d))
}
