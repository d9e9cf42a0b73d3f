package fsprobe

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/openlock/openlock/internal/testfs"
)

// long bounds SameDir's wait in the tests that must pass: generous, for a
// loaded machine.
const long = time.Minute

// A directory and a symlink to it are one directory, at once; the probe
// leaves nothing behind.
func TestSameDirSymlink(t *testing.T) {
	dir := t.TempDir()
	link, err := testfs.SymlinkTo(t, dir)
	if err != nil {
		t.Skip(err)
	}
	if err := SameDir([]string{dir, link, dir}, long); err != nil {
		t.Fatal(err)
	}
	if names := testfs.Names(t, dir); len(names) != 0 {
		t.Errorf("SameDir left %q", names)
	}
}

// A bindfs view is another device: only the probe file can tell that it is
// the same directory.
func TestSameDirBindfs(t *testing.T) {
	dir := t.TempDir()
	view, err := testfs.BindfsOf(t, dir)
	if err != nil {
		t.Skipf("no second mount of a directory to try: %v", err)
	}
	if err := SameDir([]string{view, dir}, long); err != nil {
		t.Fatal(err)
	}
	if names := testfs.Names(t, dir); len(names) != 0 {
		t.Errorf("SameDir left %q", names)
	}
	// A view of another directory never shows the probe file.
	other, err := testfs.BindfsOf(t, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := SameDir([]string{dir, other}, 100*time.Millisecond); err == nil || !strings.Contains(err.Error(), "did not appear") {
		t.Errorf("SameDir(%s, a view of another directory) = %v; want an error", dir, err)
	}
}

// Two directories of one file system are refused without waiting; a
// missing path is an error.
func TestSameDirTwoDirs(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	if err := SameDir([]string{a, b}, time.Hour); err == nil || !strings.Contains(err.Error(), "two directories of one file system") {
		t.Errorf("SameDir(two temp dirs) = %v; want an error", err)
	}
	if err := SameDir([]string{a, b + "/missing"}, time.Hour); !os.IsNotExist(err) {
		t.Errorf("SameDir(a missing path) = %v; want not-exist", err)
	}
}
