package reexec

import (
	"os"
	"os/exec"
	"time"
)

// TB is the part of testing.TB that Test uses. (This package does not import
// package testing: programs use it too.)
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Cleanup(func())
}

// A Test is a Child started by a test: its methods fail the test instead of
// returning an error, every wait is bounded by one patience, and the child
// is ended when the test ends (its stdin closed, then killed if it has not
// exited within the patience).
type Test struct {
	*Child
	tb       TB
	patience time.Duration
}

// StartTest starts cmd as Start does, failing tb if it cannot.
func StartTest(tb TB, patience time.Duration, cmd *exec.Cmd, o Options) *Test {
	tb.Helper()
	c, err := Start(cmd, o)
	if err != nil {
		tb.Fatalf("%v", err)
	}
	tb.Cleanup(func() {
		c.CloseStdin()
		c.Wait(patience) // kills it if it does not exit
	})
	return &Test{Child: c, tb: tb, patience: patience}
}

// Expect waits for a line starting with prefix, as Child.Expect does, and
// returns it.
func (c *Test) Expect(prefix string) string {
	c.tb.Helper()
	line, err := c.Child.Expect(prefix, c.patience)
	if err != nil {
		c.tb.Fatalf("%v", err)
	}
	return line
}

// Send writes a line to the child's stdin.
func (c *Test) Send(line string) {
	c.tb.Helper()
	if err := c.Child.Send(line); err != nil {
		c.tb.Fatalf("%v", err)
	}
}

// Signal sends sig to the child.
func (c *Test) Signal(sig os.Signal) {
	c.tb.Helper()
	if err := c.Child.Signal(sig); err != nil {
		c.tb.Fatalf("%v", err)
	}
}

// Wait waits for the child to exit and returns its exit status (-1 if a
// signal ended it). A child still running after the patience is killed and
// fails the test.
func (c *Test) Wait() int {
	c.tb.Helper()
	select {
	case <-c.Done():
		return c.ExitCode()
	case <-time.After(c.patience):
		c.Kill()
		c.tb.Fatalf("%v did not exit within %v; killed it; it wrote %q%s", c.Child, c.patience, c.Lines(), c.stderrText())
		return -1
	}
}

// Err waits for the child to exit, as Wait does, and returns the error
// Child.Wait describes it with: nil if it exited with status 0.
func (c *Test) Err() error {
	c.tb.Helper()
	c.Wait()
	return c.Child.Wait(0)
}
