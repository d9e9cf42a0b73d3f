package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/openlock/openlock"
)

var runCommand = &command{
	name:     "run",
	synopsis: "[flags] LOCKFILE -- COMMAND [ARGS...]",
	params:   []string{"LOCKFILE"},
	rest:     true,
	summary:  "hold the lock while a command runs (like flock(1))",
	help: `
Run takes the lock LOCKFILE (the file is created; its directory must exist),
runs COMMAND with ARGS, waits for it to exit and releases the lock. Flags may
also come after LOCKFILE; "--" before COMMAND is optional.

By default run waits as long as it takes; -w sets a limit (-w 0: try once).
While it waits on a terminal, a status line says who holds the lock: pid,
name, host, and for how long. Elsewhere it says nothing unless -v.

Signals: SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to openlock are passed on
to COMMAND, and the lock is released once COMMAND has exited. (Ctrl-C on a
terminal reaches COMMAND directly and is not sent twice.) A signal while
waiting gives up the wait. On Linux, COMMAND is killed if openlock itself is
killed with SIGKILL, so that it never runs without the lock.

Exit status: COMMAND's own; the conflict code (-E, default 1) when the lock
could not be taken in time; 127 when COMMAND is not found and 126 when it
cannot be executed (as in a shell); 128+N when COMMAND, or openlock while
waiting, was ended by signal N; 2 when openlock fails (bad arguments, or the
lock cannot be taken: a missing or read-only directory, a LOCKFILE that is
not a lock file). Nothing is left behind in any of these cases.`,
	examples: `  openlock run /tmp/backup.lock -- rsync -a /src/ /dst/
  openlock run -w 0 /tmp/cron.lock -- ./nightly.sh     # busy? exit 1 at once
  openlock run -w 30s -E 75 /tmp/deploy.lock -- make deploy
  openlock run /var/lock/db.lock -w 1m -v -- sh -c 'pg_dump db > db.sql'`,
	main: runMain,
}

func runMain(c *cli, f *flagSet, args []string) int {
	wait := waitFlag(-1)
	f.Var(&wait, "w", "wait at most `DURATION` for the lock (10s, 1m30s, or seconds as in flock: 2.5); 0 tries once")
	f.alias("w", "wait")
	conflict := f.Int("E", exitNo, "exit with `CODE` when the lock could not be taken in time")
	f.alias("E", "conflict-exit-code")
	quiet := f.Bool("q", false, "say nothing while waiting or when giving up (errors are still reported)")
	f.alias("q", "quiet")
	verbose := f.Bool("v", false, "report waiting and taking the lock on stderr, even when it is not a terminal")
	f.alias("v", "verbose")
	pos, command, code, ok := f.parse(c, args)
	switch {
	case !ok:
		return code
	case len(command) == 0:
		c.errorf("run: missing COMMAND after %s; usage: openlock run [flags] LOCKFILE -- COMMAND [ARGS...]", pos[0])
		return exitError
	case *conflict < 0 || *conflict > 255:
		c.errorf("run: -E %d: an exit status is 0 to 255", *conflict)
		return exitError
	}
	// A command that cannot run fails before the lock is taken.
	path, code := c.resolve(command[0])
	if code != exitOK {
		return code
	}
	l, err := openlock.New(pos[0])
	if err != nil {
		c.errorf("run: %s", describe(err))
		return exitError
	}
	defer l.Close()
	r := &runner{cli: c, lock: l, wait: time.Duration(wait), conflict: *conflict, quiet: *quiet, verbose: *verbose && !*quiet}
	r.signals = make(chan os.Signal, 4)
	signal.Notify(r.signals, forwarded...)
	defer signal.Stop(r.signals)
	if code, ok := r.take(); !ok {
		return code
	}
	code = r.runCommand(path, command)
	if err := l.Unlock(); err != nil {
		c.errorf("run: releasing the lock after %s: %s", command[0], describe(err))
	}
	return code
}

// resolve finds the command as a shell would; it returns 127 when it is not
// found and 126 when it cannot be executed.
func (c *cli) resolve(name string) (string, int) {
	path, err := exec.LookPath(name)
	switch {
	case err == nil, errors.Is(err, exec.ErrDot):
		return path, exitOK // ErrDot: found through "." in PATH, as a shell would run it
	case errors.Is(err, exec.ErrNotFound), errors.Is(err, fs.ErrNotExist):
		c.errorf("run: %s: command not found", name)
		return "", 127
	}
	c.errorf("run: %s: cannot execute: %v", name, errors.Unwrap(err))
	return "", 126
}

// A runner takes the lock and runs the command.
type runner struct {
	*cli
	lock           *openlock.FileLock
	wait           time.Duration // < 0: no limit
	conflict       int
	quiet, verbose bool
	signals        chan os.Signal
}

// take takes the lock, waiting as the flags say. It returns false with the
// exit status when it did not.
func (r *runner) take() (int, bool) {
	start := time.Now()
	if r.wait == 0 {
		ok, err := r.lock.TryLock()
		switch {
		case err != nil:
			r.errorf("run: %s", describe(err))
			return exitError, false
		case !ok:
			r.gaveUp(start)
			return r.conflict, false
		}
		return exitOK, true
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	if r.wait > 0 {
		var stop context.CancelFunc
		ctx, stop = context.WithTimeout(ctx, r.wait)
		defer stop()
	}
	// While Lock waits: a signal gives up, and the display shows who holds
	// the lock.
	var (
		wg     sync.WaitGroup
		caught os.Signal
		done   = make(chan struct{})
	)
	wg.Add(2)
	go func() {
		defer wg.Done()
		select {
		case caught = <-r.signals:
			cancel(fmt.Errorf("interrupted by %v", caught))
		case <-done:
		}
	}()
	d := &waitDisplay{cli: r.cli, lock: r.lock, start: start, live: !r.quiet && isTerminal(r.stderr), verbose: r.verbose}
	go func() {
		defer wg.Done()
		d.run(done)
	}()
	err := r.lock.Lock(ctx)
	close(done)
	wg.Wait()
	switch {
	case caught != nil:
		if err == nil {
			r.lock.Unlock()
		}
		if !r.quiet {
			r.errorf("run: %v while waiting for %s; gave up", caught, r.lock.Path())
		}
		return signalStatus(caught), false
	case err == nil:
		if r.verbose {
			r.errorf("run: took %s after %v", r.lock.Path(), time.Since(start).Round(time.Millisecond))
		}
		return exitOK, true
	case errors.Is(err, openlock.ErrTimeout):
		r.gaveUp(start)
		return r.conflict, false
	}
	r.errorf("run: %s", describe(err))
	return exitError, false
}

// gaveUp says who kept us from the lock.
func (r *runner) gaveUp(start time.Time) {
	if r.quiet {
		return
	}
	holder := "it is busy"
	if o, held, err := r.lock.Owner(); err == nil && held {
		holder = "it is held by " + ownerLine(o)
	}
	waited := ""
	if r.wait > 0 {
		waited = fmt.Sprintf(" after %v", time.Since(start).Round(time.Millisecond))
	}
	r.errorf("run: gave up on %s%s: %s", r.lock.Path(), waited, holder)
}

// runCommand runs the command holding the lock, passing signals on, and
// returns its exit status.
func (r *runner) runCommand(path string, command []string) int {
	cmd := &exec.Cmd{Path: path, Args: command, Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
		SysProcAttr: childAttr()}
	// childAttr may ask the kernel to kill the child when the thread that
	// started it ends: keep this goroutine on its thread until the child
	// has exited.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := cmd.Start(); err != nil {
		r.errorf("run: %s: cannot execute: %v", command[0], errors.Unwrap(err))
		if errors.Is(err, fs.ErrNotExist) {
			return 127
		}
		return 126
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case s := <-r.signals:
				forward(cmd.Process, s)
			case <-done:
				return
			}
		}
	}()
	cmd.Wait()
	close(done)
	wg.Wait()
	return exitStatus(cmd.ProcessState)
}

// describe formats an error of the library without its "openlock: " prefix,
// which our messages already have.
func describe(err error) string {
	return strings.TrimPrefix(err.Error(), "openlock: ")
}
