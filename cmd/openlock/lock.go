package main

import (
	"errors"
	"fmt"

	"github.com/openlock/openlock"
	"github.com/openlock/openlock/internal/handover"
	"github.com/openlock/openlock/procscan"
)

var lockCommand = &command{
	name:     "lock",
	synopsis: "--pid PID [flags] LOCKFILE",
	params:   []string{"LOCKFILE"},
	summary:  "take the lock for a shell script, until openlock unlock (like dotlockfile -l)",
	help: `
Lock takes the lock LOCKFILE, waiting as run does (-w, -n, -E, -q, -v), and
hands it to the process PID, then exits. Give the shell script's own pid,
--pid $$: the script holds the lock across the commands that follow, and
releases it with "openlock unlock --pid $$ LOCKFILE".

The lock file then names PID with its exact start time, as if that process
had taken the lock itself. It is held while PID lives; once PID has exited
(the script ended or crashed without unlock), it is stale and the next lock
takes it over at once, as from any dead holder. A PID that a later process
reuses does not hold it. So give the pid of the script, never of a process
that outlives it (a login shell, or pid 1): the lock lasts as long as it.

A PID of another user's process, which this user may not signal, is
refused (exit 2) unless --force: the lock would stay held for as long as
that process runs, and this user could not end it.

A lock is not reentrant: lock for a PID that already holds LOCKFILE is an
error (exit 2), not a wait for ever. The commands the script runs while it
holds the lock must not take it again (openlock run on LOCKFILE would wait
for the script).

Where the work is one command, "openlock run LOCKFILE -c 'SHELL COMMAND'" is
simpler: the lock cannot outlive the work, and nothing needs unlocking.

Exit status: 0 when PID holds the lock; the conflict code (-E, default 1)
when it could not be taken in time; 128+N when a signal N ended the wait; 2
on error (PID not running or another user's, or the lock cannot be taken);
64 on bad usage (no --pid, an unknown flag, a missing LOCKFILE).`,
	examples: `  openlock lock --pid $$ -w 1m /tmp/deploy.lock || exit
  make build && make deploy
  openlock unlock --pid $$ /tmp/deploy.lock

  openlock lock --pid $$ -n /tmp/cron.lock || exit 0   # busy: skip this run
  trap 'openlock unlock --pid $$ /tmp/cron.lock' EXIT`,
	hints: flockHints,
	main:  lockMain,
}

var unlockCommand = &command{
	name:     "unlock",
	synopsis: "--pid PID LOCKFILE",
	params:   []string{"LOCKFILE"},
	summary:  "release a lock that openlock lock gave to a script (like dotlockfile -u)",
	help: `
Unlock releases the lock LOCKFILE that "openlock lock --pid PID" handed to
the process PID: it removes the lock file if it names PID, running, with the
start time it had when it took the lock. Any other lock file (another
holder's, or none) is left as it is.

Exit status: 0 when the lock was released; 1 when PID does not hold it
(nothing was removed); 2 on error; 64 on bad usage.`,
	examples: `  openlock unlock --pid $$ /tmp/deploy.lock`,
	main:     unlockMain,
}

// parseWithPID defines --pid with usage, parses args, and checks that --pid
// names a running process. It returns LOCKFILE and the pid, or false and the
// exit status.
func parseWithPID(c *cli, f *flagSet, args []string, usage string) (path string, pid, code int, ok bool) {
	p := f.Int("pid", 0, usage)
	pos, _, code, ok := f.parse(c, args)
	if !ok {
		return "", 0, code, false
	}
	if err := checkPID(f, *p); err != nil {
		c.errorf("%s: %v", f.cmd.name, err)
		if !f.isSet("pid") || *p <= 0 {
			return "", 0, exitUsage, false // a command line without a pid to check
		}
		return "", 0, exitError, false
	}
	return pos[0], *p, exitOK, true
}

// checkPID returns an error unless --pid names a running process.
func checkPID(f *flagSet, pid int) error {
	if !f.isSet("pid") {
		return errors.New("--pid is required: the process that holds the lock (in a shell script: --pid $$)")
	}
	if pid <= 0 {
		return fmt.Errorf("--pid %d: want the pid of a running process", pid)
	}
	p, err := procscan.System().Process(pid)
	switch {
	case errors.Is(err, procscan.ErrNoProcess):
		return fmt.Errorf("--pid %d: no such process", pid)
	case err != nil:
		return fmt.Errorf("--pid %d: %v", pid, err)
	case p.Zombie:
		return fmt.Errorf("--pid %d: the process has exited", pid)
	}
	return nil
}

func lockMain(c *cli, f *flagSet, args []string) int {
	var w waitFlags
	w.define(f)
	force := f.Bool("force", false, "hand the lock to PID even if this user may not signal it (another user's process)")
	path, pid, code, ok := parseWithPID(c, f, args, "hand the lock to the process `PID`: it holds the lock until openlock unlock, or until it exits")
	if !ok {
		return code
	}
	if err := signalable(pid); err != nil && !*force {
		c.errorf("lock: %v", err)
		return exitError
	}
	if o, held := ownerOf(path); held && o.Record.PID == pid && o.Verdict == procscan.Alive {
		c.errorf("lock: %s is already held by pid %d, the --pid given: a lock is not reentrant", path, pid)
		return exitError
	}
	r, code := w.take(c, "lock", path)
	if r == nil {
		return code
	}
	defer r.close()
	if err := handover.To(r.lock, pid); err != nil {
		c.failed("lock", err)
		return exitError
	}
	if r.verbose {
		c.errorf("lock: %s is held by pid %d until openlock unlock --pid %d, or its exit", path, pid, pid)
	}
	return exitOK
}

// ownerOf returns the holder of the lock at path, if it has one that can be
// read.
func ownerOf(path string) (openlock.Owner, bool) {
	l, err := openlock.New(path)
	if err != nil {
		return openlock.Owner{}, false
	}
	defer l.Close()
	o, held, err := l.Owner()
	return o, held && err == nil
}

func unlockMain(c *cli, f *flagSet, args []string) int {
	path, pid, code, ok := parseWithPID(c, f, args, "the process `PID` that openlock lock --pid gave the lock to")
	if !ok {
		return code
	}
	l, err := openlock.New(path)
	if err != nil {
		c.failed("unlock", err)
		return exitError
	}
	defer l.Close()
	switch err := handover.Release(l, pid); {
	case errors.Is(err, openlock.ErrNotHeld):
		c.failed("unlock", err)
		return exitNo
	case err != nil:
		c.failed("unlock", err)
		return exitError
	}
	return exitOK
}
