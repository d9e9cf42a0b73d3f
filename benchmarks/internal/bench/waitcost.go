package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/openlock/openlock"
	"golang.org/x/sys/unix"
)

// WaitConfig describes the cost-of-waiting measurement: Waiters processes
// wait Wait each on a lock another process holds.
type WaitConfig struct {
	Lib     string
	Dir     string
	Waiters int
	Wait    time.Duration
	Timeout time.Duration
}

// WaitUsage is what one waiter used while it waited.
type WaitUsage struct {
	CPU  time.Duration // user + system time, from its own rusage
	Wall time.Duration
}

// Share is the CPU used as a fraction of one core.
func (u WaitUsage) Share() float64 { return u.CPU.Seconds() / u.Wall.Seconds() }

// WaitCost measures the CPU each waiter uses while it waits.
func WaitCost(cfg WaitConfig) ([]WaitUsage, error) {
	dir, err := os.MkdirTemp(cfg.Dir, "wait-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	s := Spec{Lib: cfg.Lib, Lock: filepath.Join(dir, "wait.lock"), Wait: cfg.Wait, Limit: cfg.Wait + cfg.Timeout}
	holder, err := start("hold", s)
	if err != nil {
		return nil, err
	}
	g := group{holder}
	defer func() { g.stop() }()
	if _, err := holder.expect("held", cfg.Timeout); err != nil {
		return nil, err
	}
	for range cfg.Waiters {
		c, err := start("wait", s)
		if err != nil {
			return nil, err
		}
		g = append(g, c)
	}
	var out []WaitUsage
	for _, c := range g[1:] {
		var u WaitUsage
		if err := c.result(&u, cfg.Wait+cfg.Timeout); err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	holder.CloseStdin()
	for _, c := range g {
		if err := c.Wait(cfg.Timeout); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// roleWait waits s.Wait for a lock that stays held, and reports the CPU time
// it used meanwhile (getrusage of the whole process: all its threads).
func roleWait(s Spec) error {
	// The lock is not closed: flock's Close would wait for the Lock still
	// blocked in the kernel. The process exits instead.
	m, err := Open(s.Lib, s.Lock)
	if err != nil {
		return err
	}
	before, t0 := cpuTime(), time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), s.Wait)
	defer cancel()
	got := make(chan error, 1)
	go func() { got <- m.Lock(ctx) }() // flock's Lock ignores ctx
	select {
	case err := <-got:
		if err == nil {
			return fmt.Errorf("acquired a lock that should stay held: %w", errUnexpected)
		}
		if !errors.Is(err, openlock.ErrTimeout) {
			return err
		}
	case <-time.After(s.Wait):
	}
	u := WaitUsage{CPU: cpuTime() - before, Wall: time.Since(t0)}
	return printResult(u) // and exit, with a flock Lock still blocked
}

// cpuTime is the processor time (user and system, every thread) this
// process has used.
func cpuTime() time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
