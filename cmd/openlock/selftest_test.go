package main

import (
	"strings"
	"testing"

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
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"selftest"}, "missing DIR"},
		{[]string{"selftest", dir + "/missing"}, "no such file"},
		{[]string{"selftest", "-n", "1", dir}, "2 to 64"},
		{[]string{"selftest", "--hold", "2ms,1ms", dir}, "MIN <= MAX"},
		{[]string{"selftest", dir, dir + "/missing"}, "no such file"},
		{[]string{"selftest", "--cache-time", "-1s", dir}, "--cache-time"},
	} {
		r := invoke(t, tt.args...)
		r.expectCode(t, 2, strings.Join(tt.args, " "))
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
