// Command openlock takes, inspects and cleans openlock locks from the shell,
// and shows and tests the lock at work:
//
//	openlock run [flags] LOCKFILE -- COMMAND [ARGS...]   hold the lock while a command runs
//	openlock lock --pid PID [flags] LOCKFILE             take the lock for a shell script
//	openlock unlock --pid PID LOCKFILE                   release it
//	openlock status [--json] LOCKFILE                    who holds the lock, since when, alive?
//	openlock clean [--dry-run] DIR|LOCKFILE              remove what dead processes left
//	openlock demo                                        watch processes contend, and one die
//	openlock selftest [flags] DIR [DIR...]               torture the lock on a file system
//	openlock version
//
// "openlock help COMMAND" or "openlock COMMAND --help" explains a command,
// with examples.
package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/openlock/openlock/internal/reexec"
	"github.com/openlock/openlock/internal/stress"
)

// Exit statuses shared by the commands (the table of exitCodes in the
// main help lists every status of every command).
const (
	exitOK    = 0
	exitNo    = 1 // run: the lock was busy (the default conflict code); status: free; demo, selftest: failed
	exitError = 2 // openlock could not do its job: the lock path, the file system, a process
	// exitUsage is a command line that cannot be run as given: EX_USAGE of
	// sysexits.h, as flock(1) exits, so that a script tells a typo from a
	// lock that could not be had.
	exitUsage = 64
)

// A command is one of openlock's subcommands.
type command struct {
	name     string
	synopsis string   // the arguments, after "openlock NAME"
	params   []string // the arguments it takes ("[NAME]": optional; "[NAME...]": any number more)
	rest     bool     // it takes more after them: run's command
	summary  string   // one line, for the command list
	help     string   // what it does, before the flags
	examples string
	// hints explain flags the command does not have but a user may expect,
	// flock(1)'s: the flag's name -> what to do instead.
	hints map[string]string
	// main runs the command; f is the command's flag set, empty.
	main func(c *cli, f *flagSet, args []string) int
}

// commands lists the subcommands in the order help shows them.
var commands []*command

func init() {
	commands = []*command{runCommand, lockCommand, unlockCommand, statusCommand, cleanCommand, demoCommand, selftestCommand, versionCommand, helpCommand}
}

// A cli is where a command writes.
type cli struct {
	stdout, stderr io.Writer
}

func main() {
	reexec.Main(map[string]reexec.Role{stress.WorkerRole: stress.WorkerMain}) // a worker of demo or selftest
	c := &cli{stdout: os.Stdout, stderr: os.Stderr}
	os.Exit(c.main(os.Args[1:]))
}

func (c *cli) main(args []string) int {
	if len(args) == 0 {
		c.usage(c.stderr)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help":
		c.usage(c.stdout)
		return exitOK
	case "-version", "--version":
		args[0] = "version"
	}
	cmd := lookup(args[0])
	if cmd == nil {
		c.errorf("unknown command %q; the commands are %s (openlock help)", args[0], commandNames())
		return exitUsage
	}
	return cmd.run(c, args[1:])
}

// run runs the command with its arguments.
func (cmd *command) run(c *cli, args []string) int { return cmd.main(c, cmd.flagSet(), args) }

func lookup(name string) *command {
	for _, cmd := range commands {
		if cmd.name == name {
			return cmd
		}
	}
	return nil
}

func commandNames() string {
	var names []string
	for _, cmd := range commands {
		names = append(names, cmd.name)
	}
	return strings.Join(names, ", ")
}

// usage writes the list of commands.
func (c *cli) usage(w io.Writer) {
	fmt.Fprintf(w, `openlock: a cross-process lock file that needs no flock or fcntl, and whose
holder can be seen and, once dead, is replaced at once.

Usage: openlock COMMAND [ARGS...]

Commands:
`)
	for _, cmd := range commands {
		fmt.Fprintf(w, "  %-9s %s\n", cmd.name, cmd.summary)
	}
	fmt.Fprintf(w, "\nExit status:\n")
	for _, e := range exitCodes {
		fmt.Fprintf(w, "  %-6s %s\n", e.code, strings.ReplaceAll(e.meaning, "\n", "\n         "))
	}
	fmt.Fprintf(w, `
"openlock help COMMAND" or "openlock COMMAND --help" explains a command, with examples.
Start with "openlock demo".
`)
}

// exitCodes is the one table of the exit statuses of all commands, shown
// by the main help (and copied in the README). flock(1) users find its
// codes where flock has them: 1 (-E) for a lock not had, 64 for bad usage.
// A COMMAND that cannot run exits 126 or 127 as in a shell, env(1) or
// timeout(1), not flock's 69: run -c gets those from sh anyway, and a script
// sees one code whichever form it used.
var exitCodes = []struct{ code, meaning string }{
	{"0", "success; run: COMMAND's own status, whatever it is"},
	{"1", "run, lock: the lock was busy (-n) or not had in time (-w); -E CODE changes it\n" +
		"status: free (or stale); unlock: PID does not hold it; demo, selftest: a check failed"},
	{"2", "openlock could not do its job: a missing or read-only directory, a LOCKFILE that\n" +
		"is not a lock file, another user's stale lock in a sticky directory, a file system\n" +
		"without hard links, a --pid that is not running; status: error"},
	{"3", "selftest: the file system cannot make hard links (no lock cycles ran)"},
	{"64", "bad usage: an unknown command or flag, a missing, empty or extra argument\n" +
		"(EX_USAGE, as flock exits)"},
	{"71", "run: the lock was taken, but COMMAND could not be started: openlock ran out of\n" +
		"file descriptors, memory or processes (EX_OSERR)"},
	{"76", "run: the lock was lost while COMMAND ran; -L CODE changes it (EX_PROTOCOL)"},
	{"126", "run: COMMAND cannot be executed (as a shell; flock exits 69)"},
	{"127", "run: COMMAND is not found (as a shell; flock exits 69)"},
	{"128+N", "run: COMMAND, or openlock while it waited, was ended by signal N"},
}

// errorf writes an error message to stderr.
func (c *cli) errorf(format string, a ...any) {
	fmt.Fprintf(c.stderr, "openlock: "+format+"\n", a...)
}

var helpCommand = &command{
	name:     "help",
	synopsis: "[COMMAND]",
	params:   []string{"[COMMAND]"},
	summary:  "explain a command, with examples",
	help:     "Help lists the commands, or explains one.",
	examples: "  openlock help run",
	main: func(c *cli, f *flagSet, args []string) int {
		pos, _, code, ok := f.parse(c, args)
		switch {
		case !ok:
			return code
		case len(pos) == 0:
			c.usage(c.stdout)
			return exitOK
		}
		cmd := lookup(pos[0])
		if cmd == nil {
			c.errorf("unknown command %q; the commands are %s", pos[0], commandNames())
			return exitUsage
		}
		return cmd.run(c, []string{"--help"})
	},
}
