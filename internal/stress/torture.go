package stress

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"time"
)

// TortureConfig configures Torture.
type TortureConfig struct {
	Options
	// Procs is how many processes contend at any time.
	Procs int
	// Cycles is how many times each process takes the lock in the churn
	// phase of a round; Kills how many holders are killed during it.
	Cycles, Kills int
	// Races is how many stale-lock races a round has: a holder is killed,
	// then all racers go for its lock at once, and one racer in two is
	// killed as it races.
	Races int
	// Duration, if set, repeats rounds until it has passed (soak mode).
	Duration time.Duration
	// Progress, if set, is called after each round with the round number
	// and the report so far.
	Progress func(round int, r Report)
	// Trace, if set, receives the trace of the events (Pool.Trace) when
	// the run failed or found an overlap.
	Trace io.Writer
}

// Torture runs rounds of a churn phase and a race phase on c.Lock (and its
// aliases, by which the workers reach it through other mounts), whose
// directory must hold nothing else, and returns the report of all rounds.
//
// Churn: Procs workers take the lock Cycles times each, holding it for
// c.Hold and pausing for c.Pause; at Kills random moments the process the
// lock file names is killed with SIGKILL (which may catch it holding, just
// releasing or just taking the lock again) and replaced.
//
// Races: Procs racers wait, idle. One more takes the lock and is killed
// holding it; then all racers go for the stale lock at once; in one race in
// two, a random racer is killed a moment later, perhaps in the middle of its
// takeover. Every surviving racer must get the lock once.
func Torture(c TortureConfig) (Report, error) {
	p, err := NewPool(c.Options)
	if err != nil {
		return Report{}, err
	}
	start := time.Now()
	for round := 1; ; round++ {
		err = churn(p, c)
		if err == nil {
			err = races(p, c)
		}
		if err == nil {
			err = p.Err()
		}
		if err != nil || c.Duration <= 0 || time.Since(start) >= c.Duration {
			break
		}
		if c.Progress != nil {
			c.Progress(round, p.Report())
		}
	}
	err = errors.Join(err, p.Close())
	r := p.Report()
	if c.Trace != nil && (err != nil || len(r.Overlaps) > 0) {
		err = errors.Join(err, p.Trace(c.Trace))
	}
	return r, err
}

// churn runs the churn phase.
func churn(p *Pool, c TortureConfig) error {
	for len(p.Live(RoleCycle)) < c.Procs {
		if _, err := p.Start(RoleCycle); err != nil {
			return err
		}
	}
	base := p.Acquisitions()
	total := c.Procs * c.Cycles
	for i := range c.Kills {
		// Kills spread evenly over the phase, each at a random moment.
		mark := base + (i+1)*total/(c.Kills+1)
		if err := p.WaitFor(fmt.Sprintf("%d acquisitions", mark), func() bool { return p.Acquisitions() >= mark }); err != nil {
			return err
		}
		time.Sleep(rand.N(c.Hold.Max + time.Millisecond))
		if _, ok := killHolder(p); !ok {
			continue // the lock stayed free: no holder to kill this time
		}
		n := p.Acquisitions()
		if _, err := p.Start(RoleCycle); err != nil {
			return err
		}
		// Recovered: someone took the lock after the kill.
		if err := p.WaitFor("an acquisition after a kill", func() bool { return p.Acquisitions() > n }); err != nil {
			return err
		}
	}
	end := base + total
	if err := p.WaitFor(fmt.Sprintf("%d acquisitions", end), func() bool { return p.Acquisitions() >= end }); err != nil {
		return err
	}
	return p.Stop(RoleCycle)
}

// killHolder kills the process the lock file names, looking a few times
// while the lock is free.
func killHolder(p *Pool) (Kill, bool) {
	for range 200 {
		if k, ok := p.KillHolder(); ok {
			return k, true
		}
		time.Sleep(time.Millisecond)
	}
	return Kill{}, false
}

// races runs the race phase.
func races(p *Pool, c TortureConfig) error {
	racers := p.Live(RoleRacer)
	for len(racers) < c.Procs+1 { // one more: the holder to kill
		w, err := p.Start(RoleRacer)
		if err != nil {
			return err
		}
		racers = append(racers, w)
	}
	for round := range c.Races {
		victim, rest := racers[0], racers[1:]
		if err := p.Send(victim, "hold"); err != nil {
			return err
		}
		if err := p.WaitFor("a racer to take the lock", func() bool { return p.Holding(victim) }); err != nil {
			return err
		}
		// The replacement makes its token now, while the lock is held by a
		// live process, so that it does not take part in this race.
		next, err := p.Start(RoleRacer)
		if err != nil {
			return err
		}
		p.Kill(victim)
		for _, w := range rest {
			if err := p.Send(w, "go"); err != nil {
				return err
			}
		}
		racers = append(rest, next)
		chaos := -1
		if round%2 == 1 {
			time.Sleep(rand.N(2 * time.Millisecond))
			chaos = rand.N(len(rest))
			p.Kill(rest[chaos])
		}
		if err := p.WaitFor("every racer to take the stale lock once", p.Idle); err != nil {
			return err
		}
		if chaos >= 0 {
			if racers[chaos], err = p.Start(RoleRacer); err != nil {
				return err
			}
		}
	}
	return p.Stop(RoleRacer)
}
