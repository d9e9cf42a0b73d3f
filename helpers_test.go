package openlock

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/openlock/openlock/fileformat"
	"github.com/openlock/openlock/internal/testfs"
	"github.com/openlock/openlock/procscan"
)

// Tests that involve several processes re-execute the test binary: TestMain
// runs the role named by $OPENLOCK_TEST_ROLE instead of the tests.
const roleEnv = "OPENLOCK_TEST_ROLE"

// long bounds every wait for an event in tests. It is generous: a loaded
// 2-core machine must never make a correct test fail.
const long = 60 * time.Second

func TestMain(m *testing.M) {
	// The cache time of the network file system OPENLOCK_TEST_DIRS names,
	// when its mounts cache longer than DefaultCacheTime covers.
	if d := envDuration("OPENLOCK_TEST_CACHE_TIME"); d > 0 {
		if err := SetDefaults(WithCacheTime(d)); err != nil {
			panic(err)
		}
	}
	if role := os.Getenv(roleEnv); role != "" {
		os.Exit(runRole(role))
	}
	os.Exit(m.Run())
}

// mustNew is New for tests.
func mustNew(t testing.TB, path string, opts ...Option) *FileLock {
	t.Helper()
	l, err := New(path, opts...)
	if err != nil {
		t.Fatalf("New(%q): %v", path, err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func lockCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), long)
	t.Cleanup(cancel)
	return ctx
}

// dirNames lists the names in dir, sorted.
func dirNames(t testing.TB, dir string) []string { return testfs.Names(t, dir) }

// helperFiles lists the token, temporary and claim files beside lock.
func helperFiles(t testing.TB, lock string) map[debrisKind][]string {
	t.Helper()
	out := make(map[debrisKind][]string)
	for _, n := range dirNames(t, filepath.Dir(lock)) {
		if k := classify(filepath.Base(lock), n); k != notOurs {
			out[k] = append(out[k], n)
		}
	}
	return out
}

// hereRecord is a complete record for pid as this host would write it.
func hereRecord(pid int, start string) fileformat.Record {
	id := procscan.System().Identity()
	return fileformat.Record{PID: pid, Name: "ghost", Version: 1, Host: id.Host, Boot: id.Boot,
		PIDNS: id.PIDNS, Start: start, Nonce: newNonce()}
}

// deadPID returns the PID of a process that has exited and been reaped.
func deadPID(t testing.TB) int {
	t.Helper()
	cmd := exec.Command(os.Args[0]) // plays the "exit" role
	if bin, err := exec.LookPath("true"); err == nil {
		cmd = exec.Command(bin) // starts faster than a -race test binary
	}
	cmd.Env = append(os.Environ(), roleEnv+"=exit")
	if err := cmd.Run(); err != nil {
		t.Fatalf("running a short-lived child: %v", err)
	}
	return cmd.Process.Pid
}

// liveRecord is the record of a live process other than this one (a child
// that idles until the test ends), as its lock file would hold it.
func liveRecord(t testing.TB) fileformat.Record {
	t.Helper()
	c := startChild(t, "racer", nil)
	c.expect("ready")
	p, err := procscan.System().Process(c.pid())
	if err != nil {
		t.Fatal(err)
	}
	return hereRecord(c.pid(), p.Start)
}

// writeStale puts the record of a dead process at path, as a crashed holder
// would have left it.
func writeStale(t testing.TB, path string) fileformat.Record {
	t.Helper()
	r := hereRecord(deadPID(t), "12345")
	writeRecord(t, path, r)
	return r
}

func writeRecord(t testing.TB, path string, r fileformat.Record) {
	t.Helper()
	b, err := fileformat.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// readRecord returns the record at path.
func readRecord(t testing.TB, path string) fileformat.Record {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := fileformat.Parse(b)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return r
}

// A child is a re-executed test binary playing a role. Everything it prints
// is collected; expect waits for a line. Its stdin is ours to write.
type child struct {
	t      testing.TB
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	notify chan struct{} // pinged when a line arrives or the child exits
	done   chan struct{} // closed once it has exited and err is set
	err    error

	mu     sync.Mutex
	log    []string // every line it printed
	cursor int      // lines before it were consumed by expect
}

// startChild starts the test binary in role with env (KEY=VALUE) added.
// With prefix, the command is prefix followed by the test binary, e.g. to run
// it under unshare.
func startChild(t testing.TB, role string, env []string, prefix ...string) *child {
	t.Helper()
	args := append(slices.Clone(prefix), os.Args[0])
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(append(os.Environ(), roleEnv+"="+role), env...)
	cmd.Stderr = os.Stderr
	c := &child{t: t, cmd: cmd, notify: make(chan struct{}, 1), done: make(chan struct{})}
	var err error
	if c.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %v: %v", args, err)
	}
	go func() {
		s := bufio.NewScanner(out)
		for s.Scan() {
			c.mu.Lock()
			c.log = append(c.log, s.Text())
			c.mu.Unlock()
			c.ping()
		}
		c.err = cmd.Wait()
		close(c.done)
		c.ping()
	}()
	t.Cleanup(func() {
		c.stdin.Close()
		select {
		case <-c.done:
		case <-time.After(long):
			c.cmd.Process.Kill()
			<-c.done
		}
	})
	return c
}

func (c *child) ping() {
	select {
	case c.notify <- struct{}{}:
	default:
	}
}

// next returns the first unconsumed line starting with prefix, consuming it
// and the lines before it.
func (c *child) next(prefix string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := c.cursor; i < len(c.log); i++ {
		if strings.HasPrefix(c.log[i], prefix) {
			c.cursor = i + 1
			return c.log[i], true
		}
	}
	return "", false
}

// expect waits for the child to print a line starting with prefix and returns
// it.
func (c *child) expect(prefix string) string {
	c.t.Helper()
	deadline := time.After(long)
	for {
		if line, ok := c.next(prefix); ok {
			return line
		}
		select {
		case <-c.notify:
		case <-deadline:
			c.t.Fatalf("child %d did not print %q within %v; it printed %q", c.pid(), prefix, long, c.printed())
		}
		select {
		case <-c.done:
			if line, ok := c.next(prefix); ok {
				return line
			}
			c.t.Fatalf("child %d exited (%v) before printing %q; it printed %q", c.pid(), c.err, prefix, c.printed())
		default:
		}
	}
}

// printed returns every line the child printed.
func (c *child) printed() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.log)
}

// send writes a line to the child's stdin.
func (c *child) send(line string) {
	c.t.Helper()
	if _, err := io.WriteString(c.stdin, line+"\n"); err != nil {
		c.t.Fatalf("writing to child %d: %v", c.pid(), err)
	}
}

// kill sends SIGKILL and waits until the child is gone.
func (c *child) kill() {
	c.t.Helper()
	c.cmd.Process.Signal(syscall.SIGKILL)
	c.wait()
}

// wait waits for the child to exit and returns its error.
func (c *child) wait() error {
	c.t.Helper()
	select {
	case <-c.done:
		return c.err
	case <-time.After(long):
		c.t.Fatalf("child %d did not exit within %v; it printed %q", c.pid(), long, c.printed())
		return nil
	}
}

// pid returns the child's PID.
func (c *child) pid() int { return c.cmd.Process.Pid }

// envDuration and envInt read a role's or a test's settings from the
// environment; what is unset or malformed gives 0 or def.
func envDuration(name string) time.Duration {
	d, _ := time.ParseDuration(os.Getenv(name))
	return d
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return n
	}
	return def
}

// isNotExist reports whether err wraps fs.ErrNotExist.
func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }

var _ = fmt.Sprint

func shortCtx(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// snapshot describes what is at path without following a symlink.
func snapshot(t *testing.T, path string) string {
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	s := fi.Mode().String() + " " + strconv.FormatInt(fi.Size(), 10)
	if fi.Mode()&fs.ModeSymlink != 0 {
		target, _ := os.Readlink(path)
		s += " -> " + target
	}
	if fi.Mode().IsRegular() {
		b, _ := os.ReadFile(path)
		s += " " + strconv.Itoa(len(b)) + ":" + string(b)
	}
	return s
}
