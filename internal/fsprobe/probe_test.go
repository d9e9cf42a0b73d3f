package fsprobe

import (
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/openlock/openlock/internal/testfs"
)

// The test's temporary directory supports everything, and the probe leaves
// nothing behind.
func TestProbe(t *testing.T) {
	dir := t.TempDir()
	r, err := Probe(dir)
	if err != nil {
		t.Fatal(err)
	}
	if r.Exclusive != nil || r.Link != nil || r.LinkExisting != nil || r.RenameOver != nil {
		t.Errorf("Probe(%s) = %+v; want everything supported", dir, r)
	}
	if s := r.Summary(); strings.Contains(s, "NO") {
		t.Errorf("Summary() = %q", s)
	}
	if runtime.GOOS == "linux" && (r.Type == "" || r.Mount == "") {
		t.Errorf("Probe(%s) found no mount: %+v", dir, r)
	}
	if es, _ := os.ReadDir(dir); len(es) != 0 {
		t.Errorf("Probe left %d files", len(es))
	}
	if _, err := Probe(dir + "/missing"); err == nil {
		t.Error("Probe of a missing directory: no error")
	}
}

// Through each of two sshfs mounts (testfs.SshfsDirsEnv), the probe finds
// that a hard link names another file than its source: the reason the
// library refuses sshfs. Skipped, saying why, without the mounts.
func TestProbeSshfs(t *testing.T) {
	for _, dir := range testfs.SshfsDirs(t) {
		r, err := Probe(dir)
		if err != nil {
			t.Fatal(err)
		}
		if r.Type != "fuse.sshfs" {
			t.Errorf("Probe(%s).Type = %q, want fuse.sshfs", dir, r.Type)
		}
		if r.Link == nil || !strings.Contains(r.Link.Error(), "another file (inode)") {
			t.Errorf("Probe(%s).Link = %v; want the link to name another file than its source", dir, r.Link)
		}
		if r.Exclusive != nil {
			t.Errorf("Probe(%s).Exclusive = %v; sshfs creates exclusively", dir, r.Exclusive)
		}
	}
}
