package fsprobe

import (
	"os"
	"runtime"
	"strings"
	"testing"
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
