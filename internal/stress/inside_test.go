package stress

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// The marker finds a live process inside, and clears what a dead one left.
func TestMarker(t *testing.T) {
	lock := filepath.Join(t.TempDir(), "a.lock")
	m, err := newMarker(lock + MarkerSuffix)
	if err != nil {
		t.Fatal(err)
	}
	if other, err := m.enter(); other != 0 || err != nil {
		t.Fatalf("enter on an empty directory = %d, %v", other, err)
	}
	// Another process of ours cannot be inside at once: this one is.
	if other, err := m.enter(); other != os.Getpid() || err != nil {
		t.Fatalf("second enter = %d, %v; want an overlap with pid %d", other, err, os.Getpid())
	}
	if err := m.leave(); err != nil {
		t.Fatal(err)
	}
	// Left by a dead process, or garbage, or empty: cleared.
	dead := exec.Command(os.Args[0], "-test.run=^$") // this test binary, running no test
	if err := dead.Run(); err != nil {
		t.Fatalf("running %s: %v", os.Args[0], err)
	}
	for _, content := range []string{strconv.Itoa(dead.Process.Pid) + " 12345\n", "garbage\n", ""} {
		os.WriteFile(m.path, []byte(content), 0o644)
		if other, err := m.enter(); other != 0 || err != nil {
			t.Errorf("enter over a marker holding %q = %d, %v; want it cleared", content, other, err)
		}
		m.leave()
	}
}
