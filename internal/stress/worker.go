package stress

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"

	"github.com/openlock/openlock"
)

// WorkerRole is the role (see package reexec) a worker process plays: a
// program that uses this package must play it, calling
// reexec.Main(map[string]reexec.Role{stress.WorkerRole: stress.WorkerMain})
// first thing in main. Pool starts workers as reexec.Command(WorkerRole,
// flags...).
const WorkerRole = "stress-worker"

// The roles a worker plays.
const (
	// RoleCycle takes the lock, stays inside for a hold time, releases it
	// and pauses, again and again, until its stdin ends.
	RoleCycle = "cycle"
	// RoleRacer waits for commands on stdin: "go" takes the lock once,
	// "hold" takes it and keeps it until the next line. It makes its token
	// before it says ready, so that a race is between Lock calls only.
	RoleRacer = "racer"
)

// WorkerMain runs a worker with the given arguments. An error is also reported
// to the pool, as a "fail" line.
func WorkerMain(args []string) error {
	w, err := newWorkerProc(args)
	if err == nil {
		defer w.lock.Close()
		switch w.role {
		case RoleCycle:
			err = w.cycle()
		case RoleRacer:
			err = w.race()
		default:
			err = fmt.Errorf("unknown role %q", w.role)
		}
	}
	if err != nil {
		fmt.Printf("fail %v\n", err)
	}
	return err
}

// workerProc is the state of a worker process.
type workerProc struct {
	role        string
	hold, pause Range
	timeout     time.Duration
	lock        *openlock.FileLock
	inside      *marker
	window      atomic.Int64 // the race window of the last takeover, from the trace
}

func newWorkerProc(args []string) (*workerProc, error) {
	w := &workerProc{}
	fs := flag.NewFlagSet(WorkerRole, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	path := fs.String("lock", "", "the lock file")
	marker := fs.String("marker", "", "the marker file of the overlap check (default: the lock file's name + "+MarkerSuffix+")")
	fs.StringVar(&w.role, "role", RoleCycle, "cycle or racer")
	fs.Var(&w.hold, "hold", "how long to stay inside: DURATION or MIN,MAX")
	fs.Var(&w.pause, "pause", "cycle: how long to pause between turns: DURATION or MIN,MAX")
	retry := fs.Duration("retry", 0, "the lock's retry period (0: the default)")
	cacheTime := fs.Duration("cache-time", -1, "the lock's cache time (negative: the default)")
	fs.DurationVar(&w.timeout, "timeout", 2*time.Minute, "give up a Lock after this long")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if *path == "" || fs.NArg() > 0 {
		return nil, errors.New("a worker needs -lock PATH and no arguments: it is started by a stress.Pool, not by hand")
	}
	opts := []openlock.Option{openlock.WithTrace(func(e openlock.Event) {
		if e.Step == openlock.StepReplaced {
			w.window.Store(max(int64(e.Window), 1))
		}
	})}
	if *retry > 0 {
		opts = append(opts, openlock.WithRetryPeriod(*retry))
	}
	if *cacheTime >= 0 {
		opts = append(opts, openlock.WithCacheTime(*cacheTime))
	}
	var err error
	if w.lock, err = openlock.New(*path, opts...); err != nil {
		return nil, err
	}
	if *marker == "" {
		*marker = *path + MarkerSuffix
	}
	if w.inside, err = newMarker(*marker); err != nil {
		return nil, err
	}
	return w, nil
}

// cycle takes turns until stdin ends.
func (w *workerProc) cycle() error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	fmt.Println("ready")
	n := 0
	for ctx.Err() == nil {
		_, err := w.turn(w.locker(ctx), w.sleepInside)
		if err != nil {
			if ctx.Err() != nil {
				break // stopped while waiting: Lock left nothing behind
			}
			return err
		}
		n++
		select {
		case <-time.After(w.pause.Draw()):
		case <-ctx.Done():
		}
	}
	fmt.Printf("done %d\n", n)
	return nil
}

// race takes a turn for each command on stdin. It starts with one TryLock,
// which makes its token (and is a turn if it gets the lock).
func (w *workerProc) race() error {
	n := 0
	if ok, err := w.turn(w.lock.TryLock, w.sleepInside); err != nil {
		return err
	} else if ok {
		n++
	}
	in := bufio.NewScanner(os.Stdin)
	fmt.Println("ready")
	for in.Scan() {
		inside := w.sleepInside
		if in.Text() == "hold" {
			inside = func() { in.Scan() }
		}
		if _, err := w.turn(w.locker(context.Background()), inside); err != nil {
			return err
		}
		n++
	}
	fmt.Printf("done %d\n", n)
	return nil
}

func (w *workerProc) sleepInside() { time.Sleep(w.hold.Draw()) }

// locker returns a function that takes the lock by Lock(ctx), giving up after
// the worker's timeout.
func (w *workerProc) locker(ctx context.Context) func() (bool, error) {
	return func() (bool, error) {
		ctx, cancel := context.WithTimeout(ctx, w.timeout)
		defer cancel()
		err := w.lock.Lock(ctx)
		return err == nil, err
	}
}

// turn takes the lock with take, goes inside, runs inside and releases the
// lock, reporting each step. It returns false when take did not get the
// lock.
func (w *workerProc) turn(take func() (bool, error), inside func()) (bool, error) {
	fmt.Printf("try %d\n", Now())
	w.window.Store(0)
	if ok, err := take(); !ok || err != nil {
		return false, err
	}
	fmt.Printf("acq %d %d\n", Now(), w.window.Load())
	other, err := w.inside.enter()
	if err != nil {
		return true, errors.Join(err, w.lock.Unlock())
	}
	if other != 0 {
		fmt.Printf("overlap %d\n", other)
	}
	inside()
	if other == 0 {
		if err := w.inside.leave(); err != nil {
			return true, errors.Join(err, w.lock.Unlock())
		}
	}
	// "unl" is written before Unlock: a worker killed after Unlock but
	// before it could report would otherwise seem to hold the lock until
	// the kill, and the next holder to overlap it.
	fmt.Printf("unl %d\n", Now())
	err = w.lock.Unlock()
	fmt.Printf("rel %d\n", Now())
	return true, err
}
