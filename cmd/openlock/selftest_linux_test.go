package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// On a file system without hard links (fuse-zip), selftest reports what is
// missing and the library's clear error, leaves nothing, and exits 3.
func TestSelftestNoHardLinks(t *testing.T) {
	fuseZip, err := exec.LookPath("fuse-zip")
	if err != nil {
		t.Skip("fuse-zip is not installed (apt-get install fuse-zip): no file system without hard links to try")
	}
	dir := t.TempDir()
	mnt := filepath.Join(dir, "mnt")
	os.Mkdir(mnt, 0o755)
	if out, err := exec.Command(fuseZip, filepath.Join(dir, "fs.zip"), mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot mount fuse-zip (it needs /dev/fuse and permission): %v: %s", err, out)
	}
	t.Cleanup(func() {
		if exec.Command("fusermount", "-u", mnt).Run() != nil {
			syscall.Unmount(mnt, syscall.MNT_DETACH)
		}
	})
	r := invoke(t, "selftest", mnt)
	r.expectCode(t, exitUnsupported, "selftest on fuse-zip")
	for _, want := range []string{"fuse-zip", "hard link NO", "selftest UNSUPPORTED", "does not support hard links"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("selftest on fuse-zip wrote %q; want %q in it", r.stdout, want)
		}
	}
	if names := files(t, mnt); len(names) != 0 {
		t.Errorf("selftest left %q on fuse-zip", names)
	}
}
