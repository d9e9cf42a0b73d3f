package bench

import (
	"encoding/json"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/openlock/openlock/internal/reexec"
)

// A Spec is what a child process is told: the role's one argument, as JSON.
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

// A child is this program re-executed in one of the Roles (see package
// reexec). Its stdout is read line by line; its stderr is kept for error
// messages.
type child struct{ *reexec.Child }

// start runs this program again in role with spec s. The child is killed if
// this process dies.
func start(role string, s Spec) (*child, error) {
	js, err := json.Marshal(s)
	if err != nil {
		return nil, err
	}
	cmd := reexec.Command(role, string(js))
	cmd.Env = append(cmd.Env, "GOMAXPROCS=2")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	c, err := reexec.Start(cmd, reexec.Options{})
	if err != nil {
		return nil, err
	}
	return &child{c}, nil
}

// expect returns the rest of the next line of the child's output that starts
// with prefix, skipping others; it fails when the child ends first or after
// timeout.
func (c *child) expect(prefix string, timeout time.Duration) (string, error) {
	line, err := c.Expect(prefix, timeout)
	return strings.TrimSpace(strings.TrimPrefix(line, prefix)), err
}

// result decodes the child's "result" line into v.
func (c *child) result(v any, timeout time.Duration) error {
	js, err := c.expect("result ", timeout)
	if err != nil {
		return err
	}
	return json.Unmarshal([]byte(js), v)
}

// group is a set of children to stop together.
type group []*child

// signal sends sig to every child.
func (g group) signal(sig os.Signal) error {
	for _, c := range g {
		if err := c.Signal(sig); err != nil {
			return err
		}
	}
	return nil
}

// stop kills the children that still run and waits for them to be reaped.
func (g group) stop() {
	for _, c := range g {
		c.Signal(os.Kill)
	}
	for _, c := range g {
		<-c.Done()
	}
}
