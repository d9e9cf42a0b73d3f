package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/openlock/openlock"
)

var runCommand = &command{
	name:     "run",
	synopsis: "[flags] LOCKFILE {-- COMMAND [ARGS...] | -c 'SHELL COMMAND'}",
	params:   []string{"LOCKFILE"},
	rest:     true,
	summary:  "hold the lock while a command runs (like flock(1))",
	help: `
Run takes the lock LOCKFILE (the file is created; its directory must exist),
runs COMMAND with ARGS, waits for it to exit and releases the lock. Flags may
also come after LOCKFILE; "--" before COMMAND is optional. With -c, run
starts "sh -c 'SHELL COMMAND'" instead, as flock -c does (flock uses $SHELL).

By default run waits as long as it takes; -w sets a limit, and -n (or -w 0)
tries once. While it waits on a terminal, a status line says who holds the
lock: pid, name, host, and for how long. Elsewhere it says nothing unless -v.

For flock(1) users: -n/--nonblock, -w/--wait/--timeout (seconds, as flock
takes them, or 1m30s), -E/--conflict-exit-code and -c/--command mean what
they mean there, and so does -s/--shared: a shared lock, held together with
other shared holders and never with an exclusive one (a writer waiting for
the lock holds off new shared holders, so it is not starved; see "Shared
locks" in the README). Nothing needs closing (-o: COMMAND and its children
never hold the lock, openlock does), and openlock always stays to release
the lock (-F). To hold a lock across
several commands of a script, see "openlock lock --help".

Signals: SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to openlock are passed on
to COMMAND, and the lock is released once COMMAND has exited. (Ctrl-C on a
terminal reaches COMMAND directly and is not sent twice.) A signal while
waiting gives up the wait. On Linux, COMMAND is killed if openlock itself is
killed with SIGKILL, so that it never runs without the lock.

Exit status: COMMAND's own; the conflict code (-E, default 1) when the lock
could not be taken in time; 127 when COMMAND is not found and 126 when it
cannot be executed (as in a shell, env or timeout, and as run -c gets from
sh; flock exits 69 for both); 128+N when COMMAND, or openlock while
waiting, was ended by signal N; 2 when the lock cannot be taken (a missing
or read-only directory, a LOCKFILE that is not a lock file, another user's
stale lock in a sticky directory); 64 on bad usage (EX_USAGE, as flock);
71 when the lock was taken but COMMAND could not be started for want of
file descriptors, memory or processes (EX_OSERR). Nothing is left behind
in any of these cases; "openlock --help" lists every status.

When the lock was lost while COMMAND ran (its lock file removed by hand, or
taken over by a process that judged openlock dead), run says "lock lost"
and exits with the lost code (-L, default 76, EX_PROTOCOL of sysexits.h)
instead of COMMAND's status, which it names: COMMAND ran, but for a time
without the lock's protection. No status is free of a collision with
COMMAND's own (0 to 255); choose with -L one that COMMAND never uses.`,
	examples: `  openlock run /tmp/backup.lock -- rsync -a /src/ /dst/
  openlock run -n /tmp/cron.lock -- ./nightly.sh       # busy? exit 1 at once
  openlock run -w 30s -E 75 /tmp/deploy.lock -- make deploy
  openlock run /var/lock/db.lock -w 1m -v -c 'pg_dump db > db.sql'
  openlock run -s /var/lock/db.lock -- ./report.sh     # shared: many readers at once`,
	hints: runHints,
	main:  runMain,
}

// flockHints answer the flags of flock(1) that lock does not have; run has
// -s (runHints).
var flockHints = map[string]string{
	"s":         "flock's shared lock: openlock lock takes exclusive locks only; run -s holds a shared lock while a command runs",
	"shared":    "flock's shared lock: openlock lock takes exclusive locks only; run -s holds a shared lock while a command runs",
	"x":         "openlock's locks are exclusive already, unless run -s: leave -x out",
	"e":         "openlock's locks are exclusive already, unless run -s: leave -e out",
	"exclusive": "openlock's locks are exclusive already, unless run -s: leave --exclusive out",
	"u":         "run releases the lock when COMMAND exits; a lock taken with openlock lock is released with openlock unlock",
	"unlock":    "run releases the lock when COMMAND exits; a lock taken with openlock lock is released with openlock unlock",
	"o":         "openlock holds the lock itself, COMMAND holds no descriptor of it: nothing to close, leave -o out",
	"close":     "openlock holds the lock itself, COMMAND holds no descriptor of it: nothing to close, leave --close out",
	"F":         "openlock must outlive COMMAND to release the lock, so it always forks: leave -F out",
	"no-fork":   "openlock must outlive COMMAND to release the lock, so it always forks: leave --no-fork out",
	"V":         "see openlock version",
}

// runHints are flockHints without -s, which run has.
var runHints = func() map[string]string {
	h := maps.Clone(flockHints)
	delete(h, "s")
	delete(h, "shared")
	return h
}()

func runMain(c *cli, f *flagSet, args []string) int {
	var w waitFlags
	w.define(f)
	f.BoolVar(&w.shared, "s", false, "take a shared lock (RLock): held with other shared holders, never with an exclusive one")
	f.alias("s", "shared")
	shell := f.String("c", "", "run `'SHELL COMMAND'` with sh -c, instead of a COMMAND after LOCKFILE")
	f.alias("c", "command")
	lost := exitCodeFlag(exitLost)
	f.Var(&lost, "L", "exit with `CODE` instead of COMMAND's status when the lock was lost while COMMAND ran")
	f.alias("L", "lost-exit-code")
	pos, command, code, ok := f.parse(c, args)
	if !ok {
		return code
	}
	if f.isSet("c") {
		switch {
		case len(command) > 0:
			c.errorf("run: -c %q and COMMAND %q: give one or the other", *shell, command[0])
			return exitUsage
		case *shell == "":
			c.errorf("run: -c needs a shell command; usage: openlock run LOCKFILE -c 'SHELL COMMAND'")
			return exitUsage
		}
		command = []string{"sh", "-c", *shell}
	}
	if len(command) == 0 {
		c.errorf("run: missing COMMAND after %s; usage: openlock run [flags] LOCKFILE -- COMMAND [ARGS...]", pos[0])
		return exitUsage
	}
	// A command that cannot run fails before the lock is taken.
	path, code := c.resolve(command[0])
	if code != exitOK {
		return code
	}
	r, code := w.take(c, "run", pos[0])
	if r == nil {
		return code
	}
	defer r.close()
	code = r.runCommand(path, command)
	if err := r.unlock(); err != nil {
		c.errorf("run: releasing the lock after %s: %s", command[0], describe(err))
		if errors.Is(err, openlock.ErrLockLost) {
			c.errorf("run: %s exited %d, but the lock was lost while it ran: exiting %d (-L)", command[0], code, lost)
			return int(lost)
		}
	}
	return code
}

// exitLost is run's default exit status when the lock was lost while the
// command ran (-L): EX_PROTOCOL of sysexits.h, as another party broke the
// lock's protocol. EX_TEMPFAIL (75), the more usual choice, is what -E is
// often given, and a script must tell "not run" from "run unprotected".
const exitLost = 76

// waitFlags are the flags of run and lock that say how to wait for the lock.
type waitFlags struct {
	wait           waitFlag
	nonblock       bool
	conflict       exitCodeFlag
	quiet, verbose bool
	shared         bool // run -s: the shared lock
}

// define adds the flags to f.
func (w *waitFlags) define(f *flagSet) {
	w.wait, w.conflict = -1, exitNo
	f.Var(&w.wait, "w", "wait at most `DURATION` for the lock (10s, 1m30s, or seconds as in flock: 2.5); 0 tries once")
	f.alias("w", "wait", "timeout")
	f.BoolVar(&w.nonblock, "n", false, "do not wait: give up at once when the lock is busy (-w 0)")
	f.alias("n", "nonblock", "nb")
	f.Var(&w.conflict, "E", "exit with `CODE` when the lock could not be taken in time")
	f.alias("E", "conflict-exit-code")
	f.BoolVar(&w.quiet, "q", false, "say nothing while waiting or when giving up (errors are still reported)")
	f.alias("q", "quiet")
	f.BoolVar(&w.verbose, "v", false, "report waiting and taking the lock on stderr, even when it is not a terminal")
	f.alias("v", "verbose")
}

// take takes the lock at path, as the flags say, for the command name. It
// returns the runner holding it, which the caller must close, or nil and the
// exit status.
func (w *waitFlags) take(c *cli, name, path string, opts ...openlock.Option) (*runner, int) {
	l, err := openlock.New(path, opts...)
	if err != nil {
		c.failed(name, err)
		return nil, exitError
	}
	wait := time.Duration(w.wait)
	if w.nonblock {
		wait = 0 // as in flock(1), -n wins over -w
	}
	r := &runner{cli: c, name: name, lock: l, wait: wait, conflict: int(w.conflict), quiet: w.quiet,
		verbose: w.verbose && !w.quiet, shared: w.shared}
	r.signals = make(chan os.Signal, 4)
	signal.Notify(r.signals, forwarded...)
	if code, ok := r.take(); !ok {
		r.close()
		return nil, code
	}
	return r, exitOK
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
	name           string // the command's, for messages: run, lock
	lock           *openlock.FileLock
	wait           time.Duration // < 0: no limit
	conflict       int
	quiet, verbose bool
	shared         bool // RLock rather than Lock
	signals        chan os.Signal
}

// tryLock, lock and unlock take and release the lock, shared or not.
func (r *runner) tryLock() (bool, error) {
	if r.shared {
		return r.lock.TryRLock()
	}
	return r.lock.TryLock()
}

func (r *runner) lockCtx(ctx context.Context) error {
	if r.shared {
		return r.lock.RLock(ctx)
	}
	return r.lock.Lock(ctx)
}

func (r *runner) unlock() error {
	if r.shared {
		return r.lock.RUnlock()
	}
	return r.lock.Unlock()
}

// close stops catching signals and closes the lock (releasing it if held).
func (r *runner) close() {
	signal.Stop(r.signals)
	r.lock.Close()
}

// take takes the lock, waiting as the flags say. It returns false with the
// exit status when it did not.
func (r *runner) take() (int, bool) {
	start := time.Now()
	if r.wait == 0 {
		ok, err := r.tryLock()
		switch {
		case err != nil:
			r.failed(r.name, err)
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
	err := r.lockCtx(ctx)
	close(done)
	wg.Wait()
	switch {
	case caught != nil:
		if err == nil {
			r.unlock()
		}
		if !r.quiet {
			r.errorf("%s: %v while waiting for %s; gave up", r.name, caught, r.lock.Path())
		}
		return signalStatus(caught), false
	case err == nil:
		if r.verbose {
			r.errorf("%s: took %s after %v", r.name, r.lock.Path(), time.Since(start).Round(time.Millisecond))
		}
		return exitOK, true
	case errors.Is(err, openlock.ErrTimeout):
		r.gaveUp(start)
		return r.conflict, false
	}
	r.failed(r.name, err)
	return exitError, false
}

// gaveUp says who kept us from the lock.
func (r *runner) gaveUp(start time.Time) {
	if r.quiet {
		return
	}
	waited := ""
	if r.wait > 0 {
		waited = fmt.Sprintf(" after %v", time.Since(start).Round(time.Millisecond))
	}
	o, held, err := r.lock.Owner()
	holder := holderOf(o, held, err)
	if err == nil && !held {
		// The attempt found the lock busy, and the look after it finds no
		// lock file: either cause may be the one.
		holder = "busy when tried, but no lock file when looked at just after: its holder released it " +
			"in between, or this file system's answers disagree (a link saw a lock file that a look does not; " +
			"'openlock selftest DIR' tells whether the file system can hold a lock)"
		if rs, rerr := r.lock.Readers(); rerr == nil && len(rs) > 0 {
			holder = fmt.Sprintf("shared by %d reader(s), the first %s", len(rs), ownerLine(rs[0]))
		}
	}
	r.errorf("%s: gave up on %s%s: %s", r.name, r.lock.Path(), waited, holder)
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
		msg, code := startFailure(command[0], err)
		r.errorf("run: %s", msg)
		return code
	}
	// Best effort, as the Linux parent-death signal: a command that cannot
	// be tied to openlock (Windows: no job object) runs all the same.
	adopt(cmd.Process)
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

// exitOSErr is run's status when COMMAND could not be started for want of
// a resource of openlock's own (file descriptors, memory, processes): the
// command is fine, so neither 126 nor 127; EX_OSERR of sysexits.h, as
// flock(1) exits when it runs out of memory.
const exitOSErr = 71

// startFailure explains why COMMAND name, resolved before the lock was
// taken, could not be started with the lock held, and returns run's exit
// status for it.
func startFailure(name string, err error) (string, int) {
	cause := errors.Unwrap(err)
	if cause == nil {
		cause = err
	}
	switch {
	case errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE):
		limit := "this process's limit (ulimit -n)"
		if errors.Is(err, syscall.ENFILE) {
			limit = "the system's limit (fs.file-max)"
		}
		return fmt.Sprintf("the lock was taken, but %s could not be started: openlock ran out of file descriptors (%v); "+
			"close descriptors the caller passes on, or raise %s", name, cause, limit), exitOSErr
	case errors.Is(err, syscall.ENOMEM), errors.Is(err, syscall.EAGAIN):
		return fmt.Sprintf("the lock was taken, but %s could not be started: openlock ran out of memory or processes (%v); "+
			"try again when the system has more to spare", name, cause), exitOSErr
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Sprintf("%s: command not found (it was removed after it was looked up): %v", name, cause), 127
	}
	return fmt.Sprintf("%s: cannot execute: %v", name, cause), 126
}

// failed reports err, an error of the library, as the command name's: the
// operation the library names is left out where it is the command's own, so
// that "openlock unlock" says "openlock: unlock: PATH: ...", not "unlock:
// unlock PATH: ...".
func (c *cli) failed(name string, err error) {
	msg := describe(err)
	if e, ok := errors.AsType[*openlock.Error](err); ok && e.Op == name {
		msg = e.Path + ": " + e.Err.Error()
	}
	c.errorf("%s: %s", name, msg)
}

// describe formats an error of the library without its "openlock: " prefix,
// which our messages already have.
func describe(err error) string {
	return strings.TrimPrefix(err.Error(), "openlock: ")
}

// cause formats an error of the library without the operation and path
// that its *openlock.Error adds, for messages that name the path already.
func cause(err error) string {
	if e, ok := errors.AsType[*openlock.Error](err); ok {
		return e.Err.Error()
	}
	return describe(err)
}
