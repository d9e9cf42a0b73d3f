// Package testfs gives tests the directories they need: a listing of what is
// in one, and FUSE mounts with and without hard links. It is for tests only;
// it imports package testing.
package testfs

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
)

// Names lists the names in dir, sorted; a failure to read it fails the test.
func Names(t testing.TB, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(es))
	for _, e := range es {
		names = append(names, e.Name())
	}
	slices.Sort(names)
	return names
}

// FuseZip mounts fuse-zip, a FUSE file system that refuses link(2) with
// EPERM, on a new directory and returns it; it is unmounted when the test
// ends. The error says why it cannot be had (not installed, no /dev/fuse),
// for the caller to skip with.
func FuseZip(t testing.TB) (string, error) {
	dir := t.TempDir()
	return mount(t, "fuse-zip", filepath.Join(dir, "fs.zip"), filepath.Join(dir, "mnt"))
}

// Bindfs mounts bindfs, a FUSE view of a new directory that has hard links,
// and returns the view; as FuseZip otherwise.
func Bindfs(t testing.TB) (string, error) {
	src := filepath.Join(t.TempDir(), "src")
	if err := os.Mkdir(src, 0o755); err != nil {
		return "", err
	}
	return BindfsOf(t, src)
}

// BindfsOf mounts a bindfs view of the directory src and returns it: a
// second path to src through a file system of its own (another device), as
// a second mount of a network volume is; as FuseZip otherwise.
func BindfsOf(t testing.TB, src string) (string, error) {
	return mount(t, "bindfs", src, filepath.Join(t.TempDir(), "mnt"))
}

func mount(t testing.TB, prog, src, mnt string) (string, error) {
	bin, err := exec.LookPath(prog)
	if err != nil {
		return "", fmt.Errorf("%s is not installed (apt-get install %s)", prog, prog)
	}
	if err := os.Mkdir(mnt, 0o755); err != nil {
		return "", err
	}
	if out, err := exec.Command(bin, src, mnt).CombinedOutput(); err != nil {
		return "", fmt.Errorf("cannot mount %s (it needs /dev/fuse and permission): %v: %s", prog, err, out)
	}
	t.Cleanup(func() { unmount(mnt) })
	return mnt, nil
}

// ForNobody returns a new directory that any user may enter, removed when
// the test ends, and a copy of the executable exe in it that any user may
// run: for running a test's binary as an unprivileged user (nobody), who may
// not enter the test's own temporary directories.
func ForNobody(t testing.TB, exe string) (dir, exeCopy string) {
	t.Helper()
	dir, err := os.MkdirTemp("", "openlock-nobody-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	b, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	exeCopy = filepath.Join(dir, filepath.Base(exe))
	if err := os.WriteFile(exeCopy, b, 0o755); err != nil {
		t.Fatal(err)
	}
	os.Chmod(exeCopy, 0o755) // whatever the umask
	return dir, exeCopy
}

// SymlinkTo returns a second path to the directory dir, a symlink to it, for
// tests of several paths to one directory that need no mount. The error says
// why there is none (no symlinks here), for the caller to skip with.
func SymlinkTo(t testing.TB, dir string) (string, error) {
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(dir, link); err != nil {
		return "", fmt.Errorf("cannot make a symlink to a directory: %w", err)
	}
	if _, err := os.Stat(link); err != nil { // Wine: a symlink's creation succeeds and creates nothing
		return "", fmt.Errorf("a symlink to a directory was made but is not there (a Wine gap): %w", err)
	}
	return link, nil
}
