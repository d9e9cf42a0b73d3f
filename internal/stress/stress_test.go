package stress

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The test binary is also the worker program.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == WorkerCommand {
		os.Exit(WorkerMain(os.Args[2:]))
	}
	os.Exit(m.Run())
}

func TestTorture(t *testing.T) {
	dir := t.TempDir()
	lock := filepath.Join(dir, "t.lock")
	c := TortureConfig{
		Options: Options{Lock: lock, Hold: Range{0, time.Millisecond}, Pause: Range{0, time.Millisecond},
			RetryPeriod: 10 * time.Millisecond},
		Procs: 3, Cycles: 50, Kills: 5, Races: 6,
	}
	r, err := Torture(c)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", r)
	if len(r.Overlaps) != 0 {
		t.Errorf("overlaps: %q", r.Overlaps)
	}
	left, after, err := Leftovers(lock, time.Minute)
	t.Logf("left %q, after %q, %v", left, after, err)
}
