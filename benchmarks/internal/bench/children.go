package bench

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// RoleEnv names the role a re-executed benchmark program plays; SpecEnv
// holds its Spec as JSON. A program that hosts roles calls RunRole first
// thing in main (or TestMain).
const (
	RoleEnv = "OPENLOCK_BENCH_ROLE"
	SpecEnv = "OPENLOCK_BENCH_SPEC"
)

// A Spec is what a child process is told.
type Spec struct {
	Lib      string        // library: Openlock, Flock
	Lock     string        // lock file
	Dir      string        // directory for the role's own files (fsync load)
	Board    string        // shared board file (handoff)
	ID       int64         // worker ID, from 1 (handoff)
	Procs    int           // number of workers (handoff)
	Handoffs int           // acquisitions after which the run stops (handoff)
	Hold     time.Duration // mean time in the critical section (handoff)
	Wait     time.Duration // how long to wait on a held lock (waitcost)
	// Limit bounds the child's life: it exits with status 3 after it,
	// whatever it is doing, so that no wait of a child is unbounded.
	Limit time.Duration
}

// A child is a re-executed benchmark program playing a role. Its stdout is
// read line by line; its stderr is kept for error messages.
type child struct {
	role  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string   // stdout, closed at EOF
	done  chan struct{} // closed once the child has exited and is reaped
	err   error         // its exit status, valid after done
	mu    sync.Mutex
	errb  bytes.Buffer
}

// syncWriter lets the child's stderr be copied while we read it.
type syncWriter struct{ c *child }

func (w syncWriter) Write(p []byte) (int, error) {
	w.c.mu.Lock()
	defer w.c.mu.Unlock()
	if w.c.errb.Len() < 64<<10 {
		w.c.errb.Write(p)
	}
	return len(p), nil
}

// start runs this program again in role with spec s. The child is killed if
// this process dies.
func start(role string, s Spec) (*child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	js, err := json.Marshal(s)
	if err != nil {
		return nil, err
	}
	c := &child{role: role, lines: make(chan string, 64), done: make(chan struct{})}
	c.cmd = exec.Command(exe)
	c.cmd.Env = append(os.Environ(), RoleEnv+"="+role, SpecEnv+"="+string(js), "GOMAXPROCS=2")
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	c.cmd.Stderr = syncWriter{c}
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	out, err := c.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := c.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64<<10), 64<<20) // results are long lines
		for sc.Scan() {
			c.lines <- sc.Text()
		}
		close(c.lines)
		c.err = c.cmd.Wait()
		close(c.done)
	}()
	return c, nil
}

// expect returns the rest of the next line of the child's output that starts
// with prefix, skipping others; it fails when the child ends first or after
// timeout.
func (c *child) expect(prefix string, timeout time.Duration) (string, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		select {
		case line, ok := <-c.lines:
			if !ok {
				<-c.done
				return "", fmt.Errorf("%s (pid %d) ended before %q: %v%s", c.role, c.cmd.Process.Pid, prefix, c.err, c.stderr())
			}
			if rest, ok := strings.CutPrefix(line, prefix); ok {
				return strings.TrimSpace(rest), nil
			}
		case <-t.C:
			return "", fmt.Errorf("%s (pid %d): no %q within %v%s", c.role, c.cmd.Process.Pid, prefix, timeout, c.stderr())
		}
	}
}

// result decodes the child's "result" line into v.
func (c *child) result(v any, timeout time.Duration) error {
	js, err := c.expect("result ", timeout)
	if err != nil {
		return err
	}
	return json.Unmarshal([]byte(js), v)
}

// wait waits for the child to exit, killing it after timeout.
func (c *child) wait(timeout time.Duration) error {
	select {
	case <-c.done:
	case <-time.After(timeout):
		c.kill()
		<-c.done
		return fmt.Errorf("%s (pid %d) still running after %v; killed%s", c.role, c.cmd.Process.Pid, timeout, c.stderr())
	}
	if c.err != nil {
		return fmt.Errorf("%s (pid %d): %v%s", c.role, c.cmd.Process.Pid, c.err, c.stderr())
	}
	return nil
}

// kill sends SIGKILL; the reaper goroutine collects the child.
func (c *child) kill() { c.cmd.Process.Kill() }

func (c *child) stderr() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.errb.Len() == 0 {
		return ""
	}
	return "; stderr: " + strings.TrimSpace(c.errb.String())
}

// group is a set of children to stop together.
type group []*child

// signal sends sig to every child.
func (g group) signal(sig os.Signal) error {
	for _, c := range g {
		if err := c.cmd.Process.Signal(sig); err != nil {
			return fmt.Errorf("%s (pid %d): %w", c.role, c.cmd.Process.Pid, err)
		}
	}
	return nil
}

// stop kills the children that still run and waits for them to be reaped.
func (g group) stop() {
	for _, c := range g {
		c.kill()
	}
	for _, c := range g {
		<-c.done
	}
}
