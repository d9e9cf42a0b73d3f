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

// Exit statuses shared by the commands.
const (
	exitOK    = 0
	exitNo    = 1 // run: the lock was busy (the default conflict code); status: free; demo, selftest: failed
	exitError = 2 // bad usage, or openlock itself could not do its job
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
		return exitError
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
		return exitError
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
	fmt.Fprintf(w, `
"openlock help COMMAND" or "openlock COMMAND --help" explains a command, with examples.
Start with "openlock demo".
`)
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
			return exitError
		}
		return cmd.run(c, []string{"--help"})
	},
}
