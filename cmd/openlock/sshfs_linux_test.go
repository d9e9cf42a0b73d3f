package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openlock/openlock/internal/testfs"
)

// Across two sshfs mounts of one directory (testfs.SshfsDirsEnv), whose
// hard links name another file than their source, selftest gives the
// probe's reason and the library's refusal, leaves nothing, and exits 3.
// Skipped, saying why, without the mounts.
func TestSelftestSshfs(t *testing.T) {
	dirs := testfs.SshfsDirs(t)
	r := invoke(t, append([]string{"selftest"}, dirs...)...)
	r.expectCode(t, exitUnsupported, "selftest across two sshfs mounts")
	for _, want := range []string{"fuse.sshfs", "hard link NO (the link reports another file (inode) than its source)",
		"selftest UNSUPPORTED on " + strings.Join(dirs, " ") + " (fuse.sshfs, across 2 paths): no hard links", "does not support hard links"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("selftest across sshfs mounts wrote %q; want %q in it", r.stdout, want)
		}
	}
	for _, dir := range dirs {
		if names := files(t, dir); len(names) != 0 {
			t.Errorf("selftest left %q in %s", names, dir)
		}
	}
}

// On sshfs (testfs.SshfsDirsEnv), "openlock run -w 5" fails at once, naming the reason, and does
// not run the command or wait out -w (its error would then be a timeout).
func TestRunSshfs(t *testing.T) {
	dirs := testfs.SshfsDirs(t)
	dir, err := os.MkdirTemp(dirs[0], "openlock-run-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	r := invoke(t, "run", "-w", "5", filepath.Join(dir, "x.lock"), "--", "echo", "hi")
	r.expectCode(t, exitError, "run on sshfs")
	if strings.Contains(r.stdout, "hi") {
		t.Errorf("run on sshfs ran the command: %q", r.stdout)
	}
	for _, want := range []string{"does not support hard links", "another inode"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("run on sshfs wrote %q; want %q in it", r.stderr, want)
		}
	}
	if strings.Contains(r.stderr, "timed out") {
		t.Errorf("run on sshfs waited out -w: %q", r.stderr)
	}
	if names := files(t, dir); len(names) != 0 {
		t.Errorf("run on sshfs left %q", names)
	}
}
