package stress

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openlock/openlock/internal/reexec"
	"github.com/openlock/openlock/internal/testfs"
)

// The test binary is also the worker program.
func TestMain(m *testing.M) {
	reexec.Main(map[string]reexec.Role{WorkerRole: WorkerMain})
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

// Workers take the lock's paths in turn, and the torture passes with the
// lock reached through a directory and a symlink to it.
func TestTortureAliases(t *testing.T) {
	dir := t.TempDir()
	link, err := testfs.SymlinkTo(t, dir)
	if err != nil {
		t.Skip(err)
	}
	var mu sync.Mutex
	started := map[int][]string{} // worker ID -> [its path to the lock, its name]
	lock, alias := filepath.Join(dir, "t.lock"), filepath.Join(link, "t.lock")
	c := TortureConfig{
		Options: Options{Lock: lock, Aliases: []string{alias}, Hold: Range{0, time.Millisecond}, Pause: Range{0, time.Millisecond},
			RetryPeriod: 10 * time.Millisecond, Observe: func(e Event) {
				if e.Kind == Ready {
					mu.Lock()
					started[e.Worker.ID] = []string{e.Worker.Lock, e.Worker.String()}
					mu.Unlock()
				}
			}},
		Procs: 3, Cycles: 30, Kills: 3, Races: 4,
	}
	r, err := Torture(c)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Overlaps) != 0 {
		t.Errorf("overlaps: %q", r.Overlaps)
	}
	mu.Lock()
	defer mu.Unlock()
	for id, w := range started {
		want, n := lock, 1
		if id%2 == 0 {
			want, n = alias, 2
		}
		if w[0] != want || !strings.HasSuffix(w[1], fmt.Sprintf("(path %d)", n)) {
			t.Errorf("worker %d (%s) uses %s; want %s, path %d", id, w[1], w[0], want, n)
		}
	}
	if len(started) < 2 {
		t.Errorf("only %d workers started", len(started))
	}
}
