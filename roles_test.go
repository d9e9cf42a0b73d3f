package openlock

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/openlock/openlock/fileformat"
	"github.com/openlock/openlock/internal/fsx"
	"github.com/openlock/openlock/internal/reexec"
	"github.com/openlock/openlock/procscan"
)

// The roles a re-executed test binary can play, and their settings:
//
//	OPENLOCK_TEST_LOCK        the lock path
//	OPENLOCK_TEST_TAKEOVER    "fischer" for WithTakeover(Fischer)
//	OPENLOCK_TEST_RACE_DELAY  WithRaceDelay
//	OPENLOCK_TEST_LEASE       WithLease
//	OPENLOCK_TEST_RETRY       WithRetryPeriod
//	OPENLOCK_TEST_PAUSE_AT    a step name: there, print "paused <step>" and
//	                          wait for a line on stdin (once)
//	OPENLOCK_TEST_REPORT      steps at which to print "step <step>" (the
//	                          first time), comma-separated
//	OPENLOCK_TEST_JITTER      sleep a random time up to this at every step
//	OPENLOCK_TEST_HOSTNAME    set this hostname first (in a UTS namespace)
//	OPENLOCK_TEST_CYCLES      worker: how many cycles
//	OPENLOCK_TEST_MIN_CYCLES  worker: at least this many, when CYCLES is 0
//	OPENLOCK_TEST_COUNTER     worker: the shared counter file
//	OPENLOCK_TEST_MARKER      worker, racer: the marker file of the process
//	                          inside (default: <lock>.inside)
//	OPENLOCK_TEST_HOLD        worker, racer: how long to hold each time
//	OPENLOCK_TEST_DEBUG       non-empty: debug log records on stderr
var roles = map[string]reexec.Role{
	"exit":      role(func() error { return nil }),
	"hold":      role(roleHold),
	"leasehold": role(roleLeaseHold),
	"worker":    role(roleWorker),
	"racer":     role(roleRacer),
	"procview":  role(roleProcView),
}

// role makes f a role: it first sets the hostname OPENLOCK_TEST_HOSTNAME
// names, if any, and reports f's error as an "error" line too, for tests
// that expect one.
func role(f func() error) reexec.Role {
	return func([]string) error {
		if h := os.Getenv("OPENLOCK_TEST_HOSTNAME"); h != "" {
			if err := setHostname(h); err != nil {
				return fmt.Errorf("sethostname: %w", err)
			}
		}
		err := f()
		if err != nil {
			fmt.Printf("error %v\n", err)
		}
		return err
	}
}

var stdin = bufio.NewScanner(os.Stdin)

// stopAtEOF returns a channel that a worker role without a cycle count
// (cycles 0) sees closed once its stdin ends: the test's way to stop it.
func stopAtEOF(cycles int) <-chan struct{} {
	stop := make(chan struct{})
	if cycles == 0 {
		go func() {
			for stdin.Scan() {
			}
			close(stop)
		}()
	}
	return stop
}

// roleLock opens the lock the environment describes, with the test hooks.
func roleLock() (*FileLock, error) {
	opts := []Option{withHook(roleHook())}
	if os.Getenv("OPENLOCK_TEST_TAKEOVER") == "fischer" {
		opts = append(opts, WithTakeover(Fischer))
	}
	if d := envDuration("OPENLOCK_TEST_RACE_DELAY"); d > 0 {
		opts = append(opts, WithRaceDelay(d))
	}
	if d := envDuration("OPENLOCK_TEST_LEASE"); d > 0 {
		opts = append(opts, WithLease(d))
	}
	if d := envDuration("OPENLOCK_TEST_RETRY"); d > 0 {
		opts = append(opts, WithRetryPeriod(d))
	}
	if os.Getenv("OPENLOCK_TEST_DEBUG") != "" {
		h := slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})
		opts = append(opts, WithLogger(slog.New(h).With("pid", os.Getpid())))
	}
	return New(os.Getenv("OPENLOCK_TEST_LOCK"), wineOptions(opts)...)
}

func roleHook() func(string) {
	pauseAt := os.Getenv("OPENLOCK_TEST_PAUSE_AT")
	jitter := envDuration("OPENLOCK_TEST_JITTER")
	report := make(map[string]bool)
	for _, s := range strings.Split(os.Getenv("OPENLOCK_TEST_REPORT"), ",") {
		report[s] = true
	}
	return func(step string) {
		if report[step] {
			report[step] = false
			fmt.Printf("step %s\n", step)
		}
		if step == pauseAt {
			pauseAt = ""
			fmt.Printf("paused %s\n", step)
			stdin.Scan()
		}
		if jitter > 0 {
			time.Sleep(rand.N(jitter))
		}
	}
}

// roleHold takes the lock, prints "held", waits for a line (or EOF) on
// stdin, releases it and prints "released".
func roleHold() error {
	l, err := roleLock()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), long)
	defer cancel()
	if err := l.Lock(ctx); err != nil {
		return err
	}
	fmt.Printf("held %d\n", os.Getpid())
	stdin.Scan()
	if err := l.Unlock(); err != nil {
		return err
	}
	fmt.Println("released")
	if os.Getenv("OPENLOCK_TEST_KEEP_TOKEN") != "" {
		stdin.Scan() // its token, the inode its lock file was, lives on until told
	}
	return l.Close()
}

// roleLeaseHold takes the lock with LockContext, prints "held", and once
// the context ends prints "lost <cause>" and then "unlocked <Unlock's
// error>": a holder that learns it lost its lock.
func roleLeaseHold() error {
	l, err := roleLock()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), long)
	defer cancel()
	held, err := l.LockContext(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("held %d\n", os.Getpid())
	<-held.Done()
	fmt.Printf("lost %v\n", context.Cause(held))
	fmt.Printf("unlocked %v\n", l.Unlock())
	return l.Close()
}

// inside is the critical section of workers and racers: it proves that no
// other live process is inside, then does a non-atomic read-modify-write of
// the counter (if any). The marker file (OPENLOCK_TEST_MARKER, or
// <lock>.inside) holds the record of the process inside; one whose process
// is dead was left by a holder killed inside, which is not an overlap.
// Tests across mounts of a network volume keep the marker and the counter
// on a local disk: they referee the lock, and must not be fooled by the
// caches the lock is tested against.
func inside(l *FileLock, counter string, hold time.Duration) error {
	marker := cmp.Or(os.Getenv("OPENLOCK_TEST_MARKER"), l.abs+".inside")
	me, err := os.ReadFile(l.tok.path)
	if err != nil {
		return err
	}
	for {
		err := writeNew(marker, me, 0o644, false)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrExist) {
			return err
		}
		b, err := os.ReadFile(marker)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		r, perr := fileformat.Parse(b)
		if perr == nil && procscan.Judge(r, procscan.System()).Verdict != procscan.Dead {
			fmt.Printf("overlap with pid %d\n", r.PID)
			return fmt.Errorf("overlap: pid %d is inside too", r.PID)
		}
		fsx.Remove(marker) // left by a holder killed inside
	}
	if counter != "" {
		b, _ := os.ReadFile(counter)
		n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		if hold > 0 {
			time.Sleep(hold)
		}
		if err := os.WriteFile(counter, []byte(strconv.Itoa(n+1)), 0o644); err != nil {
			return err
		}
	} else if hold > 0 {
		time.Sleep(hold)
	}
	return fsx.Remove(marker)
}

// roleWorker runs OPENLOCK_TEST_CYCLES cycles of Lock, inside, Unlock, or,
// when that is 0, cycles until stdin closes and at least
// OPENLOCK_TEST_MIN_CYCLES are done. It prints "done <cycles>".
func roleWorker() error {
	l, err := roleLock()
	if err != nil {
		return err
	}
	cycles := envInt("OPENLOCK_TEST_CYCLES", 0)
	minCycles := envInt("OPENLOCK_TEST_MIN_CYCLES", 0)
	hold := envDuration("OPENLOCK_TEST_HOLD")
	stop := stopAtEOF(cycles)
	fmt.Println("ready")
	n := 0
	for ; cycles == 0 || n < cycles; n++ {
		select {
		case <-stop:
			if n >= minCycles {
				fmt.Printf("done %d\n", n)
				return l.Close()
			}
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), long)
		err := l.Lock(ctx)
		cancel()
		if err != nil {
			return err
		}
		if err := inside(l, os.Getenv("OPENLOCK_TEST_COUNTER"), hold); err != nil {
			return err
		}
		if err := l.Unlock(); err != nil {
			return err
		}
	}
	fmt.Printf("done %d\n", n)
	return l.Close()
}

// roleRacer waits for "go" lines on stdin; for each it takes the lock, goes
// inside, releases, and prints "ok". It exits at EOF.
func roleRacer() error {
	l, err := roleLock()
	if err != nil {
		return err
	}
	// Create the token now, so that the race is between lock attempts only.
	l.mu.Lock()
	_, err = l.token()
	l.mu.Unlock()
	if err != nil {
		return err
	}
	fmt.Println("ready")
	hold := envDuration("OPENLOCK_TEST_HOLD")
	for stdin.Scan() {
		ctx, cancel := context.WithTimeout(context.Background(), long)
		err := l.Lock(ctx)
		cancel()
		if err != nil {
			return err
		}
		if err := inside(l, "", hold); err != nil {
			return err
		}
		if err := l.Unlock(); err != nil {
			return err
		}
		fmt.Println("ok")
	}
	return l.Close()
}

// withHook traces steps by name only.
func withHook(f func(step string)) Option {
	return WithTrace(func(e Event) { f(string(e.Step)) })
}

// roleProcView judges two records from where it runs and prints the
// verdicts: its own ("self <verdict>") and that of pid 2 ("other
// <verdict>"), which in a new PID namespace does not exist, while in the
// host's /proc it is kthreadd.
func roleProcView() error {
	t := procscan.System()
	me, err := t.Process(os.Getpid())
	if err != nil {
		return err
	}
	fmt.Printf("self %v\n", procscan.Judge(hereRecord(os.Getpid(), me.Start), t).Verdict)
	fmt.Printf("other %v\n", procscan.Judge(hereRecord(2, "1"), t).Verdict)
	return nil
}
