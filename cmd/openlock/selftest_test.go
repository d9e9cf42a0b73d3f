package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/openlock/openlock"
	"github.com/openlock/openlock/internal/fsprobe"
	"github.com/openlock/openlock/internal/stress"
	"github.com/openlock/openlock/internal/testfs"
)

// A short selftest on the test's temporary directory passes and leaves
// nothing behind.
func TestSelftest(t *testing.T) {
	dir := t.TempDir()
	r := invoke(t, "selftest", "-n", "3", "--cycles", "40", "--kills", "4", "--races", "4", dir)
	r.expectCode(t, 0, "selftest")
	for _, want := range []string{"hard link yes", "rename over a file yes", "selftest PASS", "handoffs p50", "overlaps 0", "debris 0"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("the selftest's output lacks %q:\n%s", want, r.stdout)
		}
	}
	if names := files(t, dir); len(names) != 0 {
		t.Errorf("the selftest left %q", names)
	}
}

func TestSelftestBadUsage(t *testing.T) {
	dir := t.TempDir()
	notFound := "no such file"
	if runtime.GOOS == "windows" {
		notFound = dir + "/missing" // named; Windows words it its own way
	}
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"selftest"}, exitUsage, "missing DIR"},
		{[]string{"selftest", dir + "/missing"}, exitError, notFound},
		{[]string{"selftest", "-n", "1", dir}, exitUsage, "2 to 64"},
		{[]string{"selftest", "--hold", "2ms,1ms", dir}, exitUsage, "MIN <= MAX"},
		{[]string{"selftest", dir, dir + "/missing"}, exitError, notFound},
		{[]string{"selftest", "--cache-time", "-1s", dir}, exitUsage, "--cache-time"},
	} {
		r := invoke(t, tt.args...)
		r.expectCode(t, tt.code, strings.Join(tt.args, " "))
		if !strings.Contains(r.stderr, tt.want) {
			t.Errorf("openlock %q wrote %q; want %q", tt.args, r.stderr, tt.want)
		}
	}
	if names := files(t, dir); len(names) != 0 {
		t.Errorf("bad selftests left %q", names)
	}
}

// Several paths to one directory: the processes take them in turn, the
// file system of each is reported, and the verdict says so. A symlink needs
// no mount; a bindfs view (another device, as a second mount of a network
// volume is) needs FUSE and is skipped, saying why, without it.
func TestSelftestPaths(t *testing.T) {
	for _, tt := range []struct {
		name   string
		second func(t *testing.T, dir string) (string, error)
	}{
		{"symlink", func(t *testing.T, dir string) (string, error) { return testfs.SymlinkTo(t, dir) }},
		{"bindfs", func(t *testing.T, dir string) (string, error) { return testfs.BindfsOf(t, dir) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			other, err := tt.second(t, dir)
			if err != nil {
				t.Skipf("no second path to a directory: %v", err)
			}
			r := invoke(t, "selftest", "-n", "3", "--cycles", "40", "--kills", "4", "--races", "4", dir, other)
			r.expectCode(t, 0, "selftest across two paths")
			for _, want := range []string{"file system of " + dir + ":", "file system of " + other + ":",
				"path 2: " + other, "selftest PASS on " + dir + " " + other + " (", "across 2 paths): 3 processes", "overlaps 0", "debris 0"} {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("the selftest's output lacks %q:\n%s", want, r.stdout)
				}
			}
			if names := files(t, dir); len(names) != 0 {
				t.Errorf("the selftest left %q", names)
			}
		})
	}
}

// Two different directories are refused, exit 2, before anything runs.
func TestSelftestNotOneDir(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	r := invoke(t, "selftest", a, b)
	r.expectCode(t, 2, "selftest on two directories")
	if !strings.Contains(r.stderr, "not paths to one directory") || r.stdout != "" {
		t.Errorf("selftest on two directories wrote %q and %q", r.stdout, r.stderr)
	}
	for _, dir := range []string{a, b} {
		if names := files(t, dir); len(names) != 0 {
			t.Errorf("the refused selftest left %q in %s", names, dir)
		}
	}
}

// The help says how to check a cluster of machines, and what that cannot
// check.
func TestSelftestHelpCluster(t *testing.T) {
	r := invoke(t, "selftest", "--help")
	r.expectCode(t, 0, "selftest --help")
	for _, want := range []string{"Usage: openlock selftest [flags] DIR [DIR...]", "To check a cluster of machines", "cannot check: all processes run on this machine"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("selftest --help lacks %q:\n%s", want, r.stdout)
		}
	}
}

// noLinks is a probe that finds a file system whose hard links name
// another file than their source, as sshfs's do.
func noLinks(dir string) (fsprobe.Result, error) {
	return fsprobe.Result{Dir: dir, Type: "fuse.fake", Link: errors.New("the link reports another file (inode) than its source")}, nil
}

// runSelftest runs a selftest of dir in this process, with fakes in place
// of the probe and the library's Lock where given, and returns its exit
// status and output. A selftest that does not return within bound fails
// the test.
func runSelftest(t *testing.T, dir string, probe func(string) (fsprobe.Result, error), lock func(context.Context, string) error, bound time.Duration) (int, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cfg := stress.TortureConfig{Procs: 2, Cycles: 1}
	cfg.RetryPeriod = 10 * time.Millisecond
	cfg.Patience = time.Second
	st := newSelftest(&cli{stdout: &stdout, stderr: &stderr}, cfg, []string{dir})
	if probe != nil {
		st.probeDir = probe
	}
	if lock != nil {
		st.lockOnce = lock
	}
	done := make(chan int, 1)
	go func() { done <- st.run() }()
	select {
	case code := <-done:
		return code, stdout.String() + stderr.String()
	case <-time.After(bound):
		t.Fatalf("the selftest gave no verdict within %v", bound)
		return 0, ""
	}
}

// forever is a fake that never returns until the test ends, whatever its
// context says: a file-system call that never answers, a library bug.
func forever(t *testing.T) <-chan struct{} {
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	return stop
}

// The probe finds no hard links: the verdict is UNSUPPORTED, exit 3, with
// the probe's reason and the library's error, and no lock cycles run.
func TestSelftestNoHardLinksVerdict(t *testing.T) {
	dir := t.TempDir()
	refused := func(ctx context.Context, lock string) error {
		return &openlock.Error{Op: "lock", Path: lock, Err: fmt.Errorf("%w: the link reports another file", openlock.ErrNoHardLinks)}
	}
	code, out := runSelftest(t, dir, noLinks, refused, long)
	if code != exitUnsupported {
		t.Fatalf("exit status %d, want %d:\n%s", code, exitUnsupported, out)
	}
	for _, want := range []string{"hard link NO (the link reports another file (inode) than its source)",
		"selftest UNSUPPORTED on " + dir + " (fuse.fake): no hard links (the link reports another file (inode) than its source)",
		"does not support hard links"} {
		if !strings.Contains(out, want) {
			t.Errorf("the selftest's output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "cycles") {
		t.Errorf("the selftest ran lock cycles on a file system without hard links:\n%s", out)
	}
	if names := files(t, dir); len(names) != 0 {
		t.Errorf("the selftest left %q", names)
	}
}

// A Lock that never returns on a file system without hard links (a
// library that spins, ignoring its deadline, as it did on sshfs) still
// gets a verdict within its bound, naming the phase, exit 1.
func TestSelftestRefusalUnfinished(t *testing.T) {
	stop := forever(t)
	spin := func(context.Context, string) error { <-stop; return nil }
	code, out := runSelftest(t, t.TempDir(), noLinks, spin, time.Second+phaseGrace+long/4)
	if code != exitNo {
		t.Fatalf("exit status %d, want %d:\n%s", code, exitNo, out)
	}
	if !strings.Contains(out, "selftest FAIL on ") || !strings.Contains(out, "the refusal of the lock on a file system without hard links did not finish within") {
		t.Errorf("the verdict does not say which phase did not finish:\n%s", out)
	}
}

// A probe that never returns (a hung mount) gets a verdict too.
func TestSelftestProbeUnfinished(t *testing.T) {
	stop := forever(t)
	hang := func(string) (fsprobe.Result, error) { <-stop; return fsprobe.Result{}, nil }
	dir := t.TempDir()
	code, out := runSelftest(t, dir, hang, nil, time.Second+phaseGrace+long/4)
	if code != exitNo {
		t.Fatalf("exit status %d, want %d:\n%s", code, exitNo, out)
	}
	if !strings.Contains(out, "selftest FAIL on "+dir+": the probe of "+dir+" did not finish within") || !strings.Contains(out, "kept for inspection") {
		t.Errorf("the verdict does not say which phase did not finish:\n%s", out)
	}
}
