package reexec

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// A Child is a started process whose output is read line by line.
type Child struct {
	cmd    *exec.Cmd
	name   string // for messages: the role, or the program and its arguments
	stdin  io.WriteCloser
	onLine func(string)
	stderr keep          // its stderr, unless the caller took it
	done   chan struct{} // closed once it has exited and its output is read
	err    error         // cmd.Wait's, valid once done is closed

	mu      sync.Mutex
	lines   []string      // every line it wrote
	cursor  int           // lines before it were consumed by Expect
	partial []byte        // the start of a line not yet ended
	changed chan struct{} // closed and replaced at every line, and at exit
}

// Options adjust Start.
type Options struct {
	// MergeStderr reads the child's stderr as lines too, interleaved with
	// its stdout as a terminal would show them. Otherwise stderr goes where
	// cmd.Stderr says or, if that is nil, is kept for Stderr and for error
	// messages.
	MergeStderr bool
	// OnLine, if set, is called with each line as it arrives, in order, from
	// one goroutine at a time; all calls are done when Done is closed. It
	// must not call the Child's methods. The lines are then not kept:
	// Expect and Lines do not see them, and a child that runs for hours
	// costs no memory for what it wrote.
	OnLine func(line string)
}

// waitDelay bounds how long Wait waits for the child's output once it has
// exited: a grandchild that inherited the output must not hold it up.
const waitDelay = 10 * time.Second

// Start starts cmd and reads its output line by line. cmd.Stdout must be
// nil: the Child reads it. Unless cmd.Stdin is set, the child's stdin is a
// pipe for Send and CloseStdin.
//
// A start that fails for a reason that passes (startPasses: Wine's process
// creation under load) is made again with a copy of cmd, a few times, each
// after a pause; the Child then runs the copy, and cmd stays unstarted.
func Start(cmd *exec.Cmd, o Options) (*Child, error) { return start(cmd, o, startPasses) }

// start is Start, with passes saying which failed starts to make again.
func start(cmd *exec.Cmd, o Options, passes func(error) bool) (*Child, error) {
	c := &Child{cmd: cmd, name: describe(cmd), onLine: o.OnLine, done: make(chan struct{}), changed: make(chan struct{})}
	if cmd.Stdout != nil {
		return nil, fmt.Errorf("starting %s: reexec.Start reads the output itself: cmd.Stdout must be nil", c.name)
	}
	if cmd.WaitDelay == 0 {
		cmd.WaitDelay = waitDelay
	}
	stdin, stderr := cmd.Stdin, cmd.Stderr // the caller's, for a copy
	for pause := firstRestart; ; pause *= 2 {
		err := c.startOnce(o)
		if err == nil {
			break
		}
		if !passes(err) || pause > lastRestart {
			return nil, fmt.Errorf("starting %s: %w", c.name, err)
		}
		time.Sleep(pause)
		c.cmd = copyCmd(c.cmd, stdin, stderr)
	}
	c.name += fmt.Sprintf(" (pid %d)", c.cmd.Process.Pid)
	go c.reap()
	return c, nil
}

// The pauses before a start is made again (startPasses): from firstRestart,
// doubling, up to lastRestart: about two seconds in all.
const (
	firstRestart = 10 * time.Millisecond
	lastRestart  = time.Second
)

// startOnce connects c.cmd's input and output to c, and starts it.
func (c *Child) startOnce(o Options) error {
	cmd := c.cmd
	if cmd.Stdin == nil {
		var err error
		if c.stdin, err = cmd.StdinPipe(); err != nil {
			return err
		}
	}
	cmd.Stdout = (*lineWriter)(c)
	switch {
	case o.MergeStderr:
		cmd.Stderr = cmd.Stdout // one writer: exec calls it from one goroutine at a time
	case cmd.Stderr == nil:
		cmd.Stderr = &c.stderr
	}
	return cmd.Start()
}

// copyCmd is an unstarted copy of cmd, whose start failed (exec starts a
// Cmd once), with the caller's stdin and stderr.
func copyCmd(cmd *exec.Cmd, stdin io.Reader, stderr io.Writer) *exec.Cmd {
	return &exec.Cmd{Path: cmd.Path, Args: cmd.Args, Env: cmd.Env, Dir: cmd.Dir, Stdin: stdin, Stderr: stderr,
		ExtraFiles: cmd.ExtraFiles, SysProcAttr: cmd.SysProcAttr, WaitDelay: cmd.WaitDelay}
}

// describe names cmd for messages.
func describe(cmd *exec.Cmd) string {
	if role := roleOf(cmd); role != "" {
		return "role " + role
	}
	return fmt.Sprintf("%s %q", filepath.Base(cmd.Path), cmd.Args[1:])
}

func (c *Child) reap() {
	err := c.cmd.Wait()
	c.mu.Lock()
	if len(c.partial) > 0 {
		c.addLocked(string(c.partial))
		c.partial = nil
	}
	c.err = err
	close(c.done)
	c.broadcastLocked()
	c.mu.Unlock()
}

// lineWriter is the Child seen as the writer of its output.
type lineWriter Child

func (w *lineWriter) Write(b []byte) (int, error) {
	c := (*Child)(w)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.partial = append(c.partial, b...)
	for {
		i := slices.Index(c.partial, '\n')
		if i < 0 {
			break
		}
		c.addLocked(string(c.partial[:i]))
		c.partial = c.partial[i+1:]
	}
	return len(b), nil
}

func (c *Child) addLocked(line string) {
	if c.onLine != nil {
		c.onLine(line)
		return
	}
	c.lines = append(c.lines, line)
	c.broadcastLocked()
}

func (c *Child) broadcastLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// Expect waits for the child to write a line starting with prefix and
// returns it. It consumes that line and every line before it, so that the
// next Expect looks at later lines only. It fails if the child exits first
// or timeout passes.
func (c *Child) Expect(prefix string, timeout time.Duration) (string, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		changed, exited := c.changed, c.Exited() // all its lines are in once it has exited
		for i := c.cursor; i < len(c.lines); i++ {
			if line := c.lines[i]; strings.HasPrefix(line, prefix) {
				c.cursor = i + 1
				c.mu.Unlock()
				return line, nil
			}
		}
		c.mu.Unlock()
		if exited {
			return "", fmt.Errorf("%s exited (%v) before writing %q; it wrote %q%s", c.name, c.err, prefix, c.Lines(), c.stderrText())
		}
		select {
		case <-changed:
		case <-deadline.C:
			return "", fmt.Errorf("%s did not write %q within %v; it wrote %q%s", c.name, prefix, timeout, c.Lines(), c.stderrText())
		}
	}
}

// Lines returns every line the child wrote so far (its last, unended line
// too once it has exited).
func (c *Child) Lines() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.lines)
}

// Send writes line and a newline to the child's stdin.
func (c *Child) Send(line string) error {
	if c.stdin == nil {
		return fmt.Errorf("writing to %s: its stdin is not a pipe of ours", c.name)
	}
	if _, err := io.WriteString(c.stdin, line+"\n"); err != nil {
		return fmt.Errorf("writing to %s: %w", c.name, err)
	}
	return nil
}

// CloseStdin closes the child's stdin: a child that reads it sees its end.
func (c *Child) CloseStdin() error {
	if c.stdin == nil {
		return nil
	}
	return c.stdin.Close()
}

// Signal sends sig to the child and returns at once.
func (c *Child) Signal(sig os.Signal) error {
	if err := c.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("signalling %s: %w", c.name, err)
	}
	return nil
}

// Kill kills the child with SIGKILL and waits until it is reaped.
func (c *Child) Kill() {
	c.cmd.Process.Kill()
	<-c.done
}

// Wait waits for the child to exit and returns an error naming it if it
// failed (wrapping its *exec.ExitError) or did not exit within timeout, in
// which case it is killed.
func (c *Child) Wait(timeout time.Duration) error {
	if !c.Exited() {
		t := time.NewTimer(timeout)
		defer t.Stop()
		select {
		case <-c.done:
		case <-t.C:
			c.Kill()
			return fmt.Errorf("%s was still running after %v; killed it; it wrote %q%s", c.name, timeout, c.Lines(), c.stderrText())
		}
	}
	if c.err != nil {
		return fmt.Errorf("%s: %w%s", c.name, c.err, c.stderrText())
	}
	return nil
}

// Done is closed once the child has exited and all its output is read.
func (c *Child) Done() <-chan struct{} { return c.done }

// Exited reports whether the child has exited (and Done is closed).
func (c *Child) Exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// ExitCode returns the child's exit status once it has exited: -1 if a
// signal ended it or it has not exited yet.
func (c *Child) ExitCode() int {
	if !c.Exited() {
		return -1
	}
	return c.cmd.ProcessState.ExitCode()
}

// PID returns the child's process ID.
func (c *Child) PID() int { return c.cmd.Process.Pid }

// String names the child: its role or program, and its PID.
func (c *Child) String() string { return c.name }

// Stderr returns what the child wrote to stderr when Start kept it (cmd.Stderr
// nil and no MergeStderr): its start and its end, if it wrote much.
func (c *Child) Stderr() string { return c.stderr.String() }

// stderrText is Stderr for error messages.
func (c *Child) stderrText() string {
	if s := strings.TrimSpace(c.Stderr()); s != "" {
		return "; stderr: " + s
	}
	return ""
}

// keep keeps the first and the last keepSize bytes written to it: the start
// of a panic or race report, and the last words before an exit.
type keep struct {
	mu         sync.Mutex
	head, tail []byte
	dropped    int
}

const keepSize = 8 << 10

func (k *keep) Write(b []byte) (int, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	n := len(b)
	if room := keepSize - len(k.head); room > 0 {
		m := min(room, len(b))
		k.head = append(k.head, b[:m]...)
		b = b[m:]
	}
	k.tail = append(k.tail, b...)
	if over := len(k.tail) - keepSize; over > 0 {
		k.dropped += over
		k.tail = append(k.tail[:0], k.tail[over:]...)
	}
	return n, nil
}

func (k *keep) String() string {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.dropped > 0 {
		return fmt.Sprintf("%s\n[... %d bytes left out ...]\n%s", k.head, k.dropped, k.tail)
	}
	return string(k.head) + string(k.tail)
}
