package main

import (
	"strings"
	"testing"

	"github.com/openlock/openlock/internal/testfs"
)

// On a file system without hard links (fuse-zip), selftest reports what is
// missing and the library's clear error, leaves nothing, and exits 3.
func TestSelftestNoHardLinks(t *testing.T) {
	mnt, err := testfs.FuseZip(t)
	if err != nil {
		t.Skipf("no file system without hard links to try: %v", err)
	}
	r := invoke(t, "selftest", mnt)
	r.expectCode(t, exitUnsupported, "selftest on fuse-zip")
	for _, want := range []string{"fuse-zip", "hard link NO", "selftest UNSUPPORTED", "no hard links (link: operation not permitted)", "does not support hard links"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("selftest on fuse-zip wrote %q; want %q in it", r.stdout, want)
		}
	}
	if names := files(t, mnt); len(names) != 0 {
		t.Errorf("selftest left %q on fuse-zip", names)
	}
}

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
