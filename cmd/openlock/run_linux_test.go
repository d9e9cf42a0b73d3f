package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// A directory where no file can be created: a clear message naming the
// path, status 2, nothing left (and the command never runs).
func TestRunReadOnlyDirectory(t *testing.T) {
	dir := t.TempDir()
	if os.Geteuid() == 0 { // root ignores mode bits: a read-only mount
		if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_RDONLY, "size=1m"); err != nil {
			t.Skipf("cannot mount a read-only tmpfs: %v", err)
		}
		t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
	} else {
		os.Chmod(dir, 0o555)
		t.Cleanup(func() { os.Chmod(dir, 0o755) })
	}
	lock := filepath.Join(dir, "a.lock")
	r := invoke(t, "run", lock, "--", "echo", "never")
	r.expectCode(t, 2, "run in a read-only directory")
	if !strings.Contains(r.stderr, lock) || strings.Contains(r.stdout, "never") {
		t.Errorf("run in a read-only directory wrote %q, %q; want an error naming %s and no command", r.stdout, r.stderr, lock)
	}
	// Said plainly: the directory, and what is wrong with it.
	if !strings.Contains(r.stderr, "lock directory "+dir+" is ") || strings.Contains(r.stderr, ".tmp") {
		t.Errorf("run in a read-only directory wrote %q; want it to say that %s is read-only or not writable", r.stderr, dir)
	}
	if names := files(t, dir); len(names) != 0 {
		t.Errorf("the read-only directory holds %q", names)
	}
}
