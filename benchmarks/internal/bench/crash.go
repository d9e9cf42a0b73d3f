package bench

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// CrashConfig describes the crash-recovery measurement: a holder is killed
// with SIGKILL while a waiter waits, Trials times.
type CrashConfig struct {
	Lib string
	// Dirs are paths to one directory (see HandoffConfig): the holder uses
	// the first, the waiter the last.
	Dirs   []string
	Trials int
	// The waiter has waited a random time in [MinWait, MaxWait] when the
	// holder is killed: openlock's waiter polls with a backoff that grows
	// with the time waited, so this matters.
	MinWait, MaxWait time.Duration
	Timeout          time.Duration // bounds each trial
}

// Crash measures, per trial, the time from the SIGKILL of the holder to the
// acquisition by the waiter (both on CLOCK_MONOTONIC).
func Crash(cfg CrashConfig) ([]time.Duration, error) {
	dirs, err := SharedDir(cfg.Dirs, "crash-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dirs[0])
	var out []time.Duration
	for i := range cfg.Trials {
		name := fmt.Sprintf("crash-%d.lock", i)
		d, err := crashOnce(cfg, filepath.Join(dirs[0], name), filepath.Join(dirs[len(dirs)-1], name))
		if err != nil {
			return out, err
		}
		out = append(out, d)
	}
	return out, nil
}

// crashOnce kills a holder of the lock at path held while a waiter waits
// for it at path waited (the same file, or the same through another path).
func crashOnce(cfg CrashConfig, held, waited string) (time.Duration, error) {
	s := Spec{Lib: cfg.Lib, Lock: held, Limit: cfg.Timeout}
	holder, err := start("hold", s)
	if err != nil {
		return 0, err
	}
	g := group{holder}
	defer func() { g.stop() }()
	if _, err := holder.expect("held", cfg.Timeout); err != nil {
		return 0, err
	}
	s.Lock = waited
	waiter, err := start("acquire", s)
	if err != nil {
		return 0, err
	}
	g = append(g, waiter)
	if _, err := waiter.expect("waiting", cfg.Timeout); err != nil {
		return 0, err
	}
	// The time waited before the crash is the experiment's variable, not
	// a synchronization.
	time.Sleep(cfg.MinWait + rand.N(cfg.MaxWait-cfg.MinWait+1))
	killed := Mono()
	holder.Signal(os.Kill)
	at, err := waiter.expect("acquired ", cfg.Timeout)
	if err != nil {
		return 0, err
	}
	ns, err := strconv.ParseInt(at, 10, 64)
	if err != nil {
		return 0, err
	}
	if err := waiter.Wait(cfg.Timeout); err != nil {
		return 0, err
	}
	return time.Duration(ns - killed), nil
}

// roleHold takes the lock, prints "held", and holds it until its stdin
// closes; then it releases the lock and exits.
func roleHold(s Spec) error {
	return withMutex(s, func(ctx context.Context, m Mutex) error {
		if err := m.Lock(ctx); err != nil {
			return err
		}
		fmt.Println("held")
		io.Copy(io.Discard, os.Stdin)
		return m.Unlock()
	})
}

// roleAcquire prints "waiting", takes the lock (waiting as long as it must),
// and prints "acquired <Mono()>".
func roleAcquire(s Spec) error {
	return withMutex(s, func(ctx context.Context, m Mutex) error {
		fmt.Println("waiting")
		if err := m.Lock(ctx); err != nil {
			return err
		}
		fmt.Printf("acquired %d\n", Mono())
		return m.Unlock()
	})
}
