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
