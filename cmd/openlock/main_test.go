package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/openlock/openlock/internal/reexec"
	"github.com/openlock/openlock/internal/testfs"
)

// The tests build the openlock binary once and run it as a user would.

// bin is the built binary.
var bin string

// long bounds every wait for an event: generous, so that a loaded 2-core
// machine never fails a correct test.
const long = 2 * time.Minute

func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == toolArg {
		os.Exit(runTool(os.Args[2:]))
	}
	var err error
	if self, err = os.Executable(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	dir, err := os.MkdirTemp("", "openlock-cli-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	code := m.Run
	if prebuilt := os.Getenv("OPENLOCK_TEST_BIN"); prebuilt != "" {
		// A binary built beforehand, for a test run where the go command
		// cannot run (the Windows tests under Wine, .ci/wine-tests).
		bin = prebuilt
	} else if err := buildBinary(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(2)
	}
	status := code()
	os.RemoveAll(dir)
	os.Exit(status)
}

// buildBinary builds the openlock binary into dir and sets bin to it.
func buildBinary(dir string) error {
	// exec finds a program on Windows by its .exe only.
	bin = filepath.Join(dir, "openlock"+exeSuffix())
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race") // the tool's goroutines deserve the race detector too
		// Without this, a race-enabled program sleeps a second at exit.
		os.Setenv("GORACE", strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	}
	// The go command that runs the tests puts its own bin directory first in
	// PATH, so this is the go of the test run.
	if out, err := exec.Command("go", append(args, ".")...).CombinedOutput(); err != nil {
		return fmt.Errorf("building openlock: %v\n%s", err, out)
	}
	return nil
}

// exeSuffix is ".exe" on Windows, where programs need it, and "" elsewhere.
func exeSuffix() string {
	if runtime.GOOS == "windows" {
		return ".exe"
	}
	return ""
}

// result is what a finished run of the binary gave.
type result struct {
	stdout, stderr string
	code           int
}

// invoke runs the binary to the end and returns what it did.
func invoke(t *testing.T, args ...string) result {
	t.Helper()
	return invokeWith(t, nil, args...)
}

// invokeWith is invoke with setup, if any, adjusting the command first.
func invokeWith(t *testing.T, setup func(*exec.Cmd), args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), long)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	if setup != nil {
		setup(cmd)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 10 * time.Second // a grandchild must not keep the output open for ever
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("openlock %q: %v", args, err)
	}
	r := result{stdout: stdout.String(), stderr: stderr.String(), code: cmd.ProcessState.ExitCode()}
	if ctx.Err() != nil {
		t.Fatalf("openlock %q did not finish within %v; it wrote %q and %q", args, long, r.stdout, r.stderr)
	}
	return r
}

// expectCode fails unless r ended with code.
func (r result) expectCode(t *testing.T, code int, what string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("%s: exit status %d, want %d\nstdout: %s\nstderr: %s", what, r.code, code, r.stdout, r.stderr)
	}
}

// A running is a process started by a test (the binary, or a script that
// runs it): its stdout and stderr are read as one stream of lines, as a
// terminal shows them. Its methods fail the test, every wait is bounded by
// long, and it is ended when the test ends.
type running = reexec.Test

// start starts the binary with args. setup, if any, adjusts the command.
func start(t *testing.T, setup func(*exec.Cmd), args ...string) *running {
	t.Helper()
	cmd := exec.Command(bin, args...)
	if setup != nil {
		setup(cmd)
	}
	return reexec.StartTest(t, long, cmd, reexec.Options{MergeStderr: true})
}

// output is everything r wrote, for messages.
func output(r *running) string { return strings.Join(r.Lines(), "\n") }

// files lists the names in dir, sorted.
func files(t *testing.T, dir string) []string { return testfs.Names(t, dir) }

// holder starts "openlock run LOCK" with a command that says "held" and
// holds the lock until its stdin closes (or the test ends).
func holder(t *testing.T, lock string) *running {
	t.Helper()
	h := start(t, nil, runArgs([]string{"run", lock, "--"}, "hold", "held")...)
	h.Expect("held")
	return h
}
