// Package reexec runs this program again as a child process that plays a
// role, and talks to child processes by lines. It is the one mechanism behind
// every test and tool of this module that needs other processes: the root
// package's tests, the openlock command's tests (which run the built
// binary), the stress workers of "openlock demo" and "openlock selftest",
// and the benchmarks.
//
// The contract:
//
//   - A program that hosts roles calls Main first thing in main (or in
//     TestMain, before m.Run), with the roles it plays by name. When the
//     environment variable Env names a role, Main plays it and exits;
//     otherwise it returns at once and the program runs as usual.
//   - Command builds the *exec.Cmd that runs this program again in a role,
//     with the given arguments (os.Args[1:] of the child, passed to the
//     role). The child's environment is this process's plus Env; callers may
//     append their own settings to cmd.Env. Main removes Env from the child's
//     environment before the role runs, so that processes the role starts
//     are not roles themselves.
//   - A role reports by writing lines to stdout and reads commands from
//     stdin, if it needs any; its stderr is for diagnostics. A role returns
//     an error to exit with status 1 (Main writes the error to stderr), nil
//     to exit with 0; it may also exit by itself with another status.
//   - Start runs any command (a role, the built openlock binary, a shell
//     script) and collects its output line by line; Expect waits for a line,
//     Send writes one to its stdin. Every wait takes a timeout, so that no
//     caller can hang on a child that never answers. Test does the same for
//     tests: failures call Fatalf, every wait is bounded by one patience, and
//     the child is ended when the test ends.
package reexec

import (
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
)

// Env is the environment variable that names the role a re-executed program
// plays.
const Env = "OPENLOCK_REEXEC_ROLE"

// A Role is what a re-executed program does instead of its usual work. args
// are the arguments given to Command.
type Role func(args []string) error

// Main plays the role that $OPENLOCK_REEXEC_ROLE names, from roles, and exits
// with its status: 0 if it returned nil, 1 (with the error on stderr) if it
// returned an error, 2 if the program plays no role of that name. When the
// variable is unset or empty, Main returns at once.
func Main(roles map[string]Role) {
	name := os.Getenv(Env)
	if name == "" {
		return
	}
	os.Unsetenv(Env) // the role's own children are not roles
	f := roles[name]
	if f == nil {
		fmt.Fprintf(os.Stderr, "%s=%s: this program plays no such role; it plays %s\n", Env, name, roleNames(roles))
		os.Exit(2)
	}
	if err := f(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "role %s (pid %d): %v\n", name, os.Getpid(), err)
		os.Exit(1)
	}
	os.Exit(0)
}

func roleNames(roles map[string]Role) string {
	var names []string
	for n := range roles {
		names = append(names, n)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// Command returns a command that runs this program again in role, with args.
// If this program's path cannot be found, the error is in cmd.Err, and Start
// returns it.
func Command(role string, args ...string) *exec.Cmd {
	exe, err := os.Executable()
	cmd := exec.Command(exe, args...)
	if err != nil {
		cmd.Err = fmt.Errorf("finding this program to run it again as %s: %w", role, err)
	}
	cmd.Env = append(os.Environ(), Env+"="+role)
	return cmd
}

// roleOf returns the role cmd's environment names, or "".
func roleOf(cmd *exec.Cmd) string {
	for _, kv := range slices.Backward(cmd.Env) {
		if v, ok := strings.CutPrefix(kv, Env+"="); ok {
			return v
		}
	}
	return ""
}
