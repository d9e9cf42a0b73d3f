package openlock

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/openlock/openlock/fileformat"
	"github.com/openlock/openlock/internal/reexec"
	"github.com/openlock/openlock/internal/testfs"
	"github.com/openlock/openlock/procscan"
)

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
	// Tests that involve several processes re-execute the test binary,
	// which then plays a role instead of running the tests.
	reexec.Main(roles)
	os.Exit(m.Run())
}

// mustNew is New for tests.
func mustNew(t testing.TB, path string, opts ...Option) *FileLock {
	t.Helper()
	l, err := New(path, wineOptions(opts)...)
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
	cmd := reexec.Command("exit")
	if bin, err := exec.LookPath("true"); err == nil {
		cmd = exec.Command(bin) // starts faster than a -race test binary
	}
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
	c.Expect("ready")
	p, err := procscan.System().Process(c.PID())
	if err != nil {
		t.Fatal(err)
	}
	return hereRecord(c.PID(), p.Start)
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

// A child is the test binary re-executed in a role (roles_test.go). Its
// methods fail the test, every wait is bounded by long, and it is ended when
// the test ends.
type child = reexec.Test

// startChild starts the test binary in role with env (KEY=VALUE) added.
// With prefix, the command is prefix followed by the test binary, e.g. to run
// it under unshare. The child's stderr is ours, so that its diagnostics (and
// OPENLOCK_TEST_DEBUG's log) show in the test's output.
func startChild(t testing.TB, role string, env []string, prefix ...string) *child {
	t.Helper()
	cmd := reexec.Command(role)
	cmd.Env = append(cmd.Env, env...)
	if len(prefix) > 0 {
		wrapped := exec.Command(prefix[0], append(slices.Clone(prefix[1:]), cmd.Path)...)
		wrapped.Env, wrapped.Err = cmd.Env, cmd.Err
		cmd = wrapped
	}
	cmd.Stderr = os.Stderr
	return reexec.StartTest(t, long, cmd, reexec.Options{})
}

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

// lockAsync runs l.Lock in a goroutine and returns its result channel.
func lockAsync(t *testing.T, l *FileLock) <-chan error {
	done := make(chan error, 1)
	go func() { done <- l.Lock(lockCtx(t)) }()
	return done
}

// waitStep waits for a step signalled by signalOn, or fails the test.
func waitStep(t *testing.T, c <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-c:
	case <-time.After(long):
		t.Fatalf("no %s within %v", what, long)
	}
}

// lockedSoon waits for a Lock's result, which must be success.
func lockedSoon(t *testing.T, done <-chan error, what string) {
	t.Helper()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Lock: %v", err)
		}
	case <-time.After(long):
		t.Fatalf("%s: Lock did not return within %v", what, long)
	}
}
