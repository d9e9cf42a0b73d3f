package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openlock/openlock/internal/testfs"
)

// The tests build the openlock binary once and run it as a user would.

// bin is the built binary.
var bin string

// long bounds every wait for an event: generous, so that a loaded 2-core
// machine never fails a correct test.
const long = 2 * time.Minute

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "openlock-cli-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	bin = filepath.Join(dir, "openlock")
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race") // the tool's goroutines deserve the race detector too
		// Without this, a race-enabled program sleeps a second at exit.
		os.Setenv("GORACE", strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	}
	// The go command that runs the tests puts its own bin directory first in
	// PATH, so this is the go of the test run.
	if out, err := exec.Command("go", append(args, ".")...).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building openlock: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(2)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
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

// A running is the binary running in the background: its output is
// collected line by line, and expect waits for a line.
type running struct {
	t     *testing.T
	cmd   *exec.Cmd
	stdin io.WriteCloser
	done  chan struct{} // closed once it exited

	mu      sync.Mutex
	lines   []string // stdout and stderr lines, in arrival order
	partial string   // the start of a line not yet ended
	notify  chan struct{}
}

// start starts the binary with args. setup, if any, adjusts the command.
func start(t *testing.T, setup func(*exec.Cmd), args ...string) *running {
	t.Helper()
	cmd := exec.Command(bin, args...)
	if setup != nil {
		setup(cmd)
	}
	r := &running{t: t, cmd: cmd, done: make(chan struct{}), notify: make(chan struct{}, 1)}
	var err error
	if r.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = r, r // one writer: exec calls it from one goroutine at a time
	// A grandchild left running must not keep the output open for ever.
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		cmd.Wait()
		r.mu.Lock()
		if r.partial != "" {
			r.lines = append(r.lines, r.partial)
		}
		r.mu.Unlock()
		close(r.done)
		r.ping()
	}()
	t.Cleanup(func() {
		r.stdin.Close()
		select {
		case <-r.done:
		case <-time.After(long):
			cmd.Process.Kill()
			<-r.done
		}
	})
	return r
}

// Write collects the output line by line.
func (r *running) Write(b []byte) (int, error) {
	r.mu.Lock()
	text := r.partial + string(b)
	lines := strings.Split(text, "\n")
	r.partial = lines[len(lines)-1]
	r.lines = append(r.lines, lines[:len(lines)-1]...)
	r.mu.Unlock()
	r.ping()
	return len(b), nil
}

func (r *running) ping() {
	select {
	case r.notify <- struct{}{}:
	default:
	}
}

// expect waits for a line that contains s and returns it.
func (r *running) expect(s string) string {
	r.t.Helper()
	deadline := time.After(long)
	for {
		r.mu.Lock()
		i := slices.IndexFunc(r.lines, func(l string) bool { return strings.Contains(l, s) })
		var line string
		if i >= 0 {
			line = r.lines[i]
		}
		r.mu.Unlock()
		if i >= 0 {
			return line
		}
		select {
		case <-r.notify:
		case <-deadline:
			r.t.Fatalf("openlock %q did not write %q within %v; it wrote %q", r.cmd.Args[1:], s, long, r.output())
		}
		select {
		case <-r.done:
			if !strings.Contains(r.output(), s) {
				r.t.Fatalf("openlock %q exited (%v) without writing %q; it wrote %q", r.cmd.Args[1:], r.cmd.ProcessState, s, r.output())
			}
		default:
		}
	}
}

// wait waits for the process to exit and returns its exit status.
func (r *running) wait() int {
	r.t.Helper()
	select {
	case <-r.done:
		return r.cmd.ProcessState.ExitCode()
	case <-time.After(long):
		r.t.Fatalf("openlock %q did not exit within %v; it wrote %q", r.cmd.Args[1:], long, r.output())
		return -1
	}
}

func (r *running) output() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.lines, "\n")
}

// files lists the names in dir, sorted.
func files(t *testing.T, dir string) []string { return testfs.Names(t, dir) }

// holder starts "openlock run LOCK" with a command that says "held" and
// holds the lock until its stdin closes (or the test ends).
func holder(t *testing.T, lock string) *running {
	t.Helper()
	h := start(t, nil, "run", lock, "--", "sh", "-c", "echo held; read x; echo released")
	h.expect("held")
	return h
}
