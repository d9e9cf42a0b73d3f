package bench

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/openlock/openlock"
	"github.com/openlock/openlock/internal/reexec"
)

// These tests check that each measurement runs and reports what it should.
// They assert no timing: speed is judged by cmd/compare, never by tests.

func TestMain(m *testing.M) {
	reexec.Main(Roles)
	os.Exit(m.Run())
}

func TestQuantile(t *testing.T) {
	var d []time.Duration
	for i := 1000; i >= 1; i-- {
		d = append(d, time.Duration(i))
	}
	s := Summarize(d)
	want := Summary{N: 1000, P50: 500, P90: 900, P99: 990, P999: 999, Max: 1000, Mean: 500}
	if s != want {
		t.Errorf("Summarize(1..1000) = %+v, want %+v", s, want)
	}
	if q := Quantile([]time.Duration{7}, 0.999); q != 7 {
		t.Errorf("Quantile of one sample = %v", q)
	}
	if s := Summarize(nil); s.N != 0 {
		t.Errorf("Summarize(nil) = %+v", s)
	}
}

func TestTakeovers(t *testing.T) {
	stale, err := NewStale()
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []openlock.Takeover{openlock.Claims, openlock.Fischer} {
		dir := t.TempDir()
		tk, err := NewTakeovers(dir, mode, stale)
		if err != nil {
			t.Fatal(err)
		}
		for range 5 {
			if err := tk.Take(); err != nil {
				t.Fatalf("%v: %v", mode, err)
			}
		}
		tk.Close()
		// The library removes its claims, temporary links and token.
		if es, _ := os.ReadDir(dir); len(es) != 0 {
			t.Errorf("%v: left behind %v", mode, es)
		}
		if len(tk.Windows) != 5 {
			t.Errorf("%v: %d windows, want 5", mode, len(tk.Windows))
		}
		for _, w := range tk.Windows {
			if w <= 0 {
				t.Errorf("%v: window %v", mode, w)
			}
		}
	}
}

func TestUncontended(t *testing.T) {
	for _, lib := range []string{Openlock, Flock, Nightlyone} {
		if d, err := Uncontended(lib, t.TempDir(), 20); err != nil || d <= 0 {
			t.Errorf("%s: %v, %v", lib, d, err)
		}
	}
}

func TestCycleTimes(t *testing.T) {
	for _, lib := range []string{Openlock, Flock} {
		m, err := OpenWarm(lib, filepath.Join(t.TempDir(), "cycles.lock"))
		if err != nil {
			t.Fatalf("%s: %v", lib, err)
		}
		d, err := CycleTimes(m, 20)
		m.Close()
		if err != nil || len(d) != 20 {
			t.Fatalf("%s: %d cycle times, %v; want 20", lib, len(d), err)
		}
		for _, x := range d {
			if x <= 0 {
				t.Errorf("%s: cycle time %v", lib, x)
			}
		}
	}
}

// twoPaths returns two paths to one new directory (the second through a
// symbolic link), as two mounts of a network volume would be.
func twoPaths(t *testing.T) []string {
	dir := t.TempDir()
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(dir, link); err != nil {
		t.Fatal(err)
	}
	return []string{dir, link}
}

func TestHandoff(t *testing.T) {
	for _, lib := range []string{Openlock, Flock} {
		for _, c := range []struct{ procs, paths int }{{2, 1}, {3, 1}, {2, 2}, {4, 2}} {
			dirs := []string{t.TempDir()}
			if c.paths == 2 {
				dirs = twoPaths(t)
			}
			r, err := Handoff(HandoffConfig{Lib: lib, Dirs: dirs, Procs: c.procs, Handoffs: 12,
				Hold: time.Millisecond, Timeout: time.Minute})
			if err != nil {
				t.Fatalf("%s, %+v: %v", lib, c, err)
			}
			// Every acquisition but the first is a handoff to another process.
			if len(r.Latencies) != 11 || len(r.Crossed) != 11 || r.Elapsed <= 0 {
				t.Errorf("%s, %+v: %d latencies, %d crossings, elapsed %v; want 11, 11, > 0",
					lib, c, len(r.Latencies), len(r.Crossed), r.Elapsed)
			}
			for _, d := range r.Latencies {
				if d <= 0 {
					t.Errorf("%s: latency %v", lib, d)
				}
			}
			sum := 0
			for _, n := range r.Acquired {
				sum += n
			}
			if len(r.Acquired) != c.procs || sum != 12 {
				t.Errorf("%s, %+v: acquisitions %v, want %d processes, 12 in all", lib, c, r.Acquired, c.procs)
			}
			// With one path no handoff crosses; with one process per path,
			// every one does.
			if c.paths == 1 || c.paths == c.procs {
				for _, x := range r.Crossed {
					if x != (c.paths > 1) {
						t.Errorf("%s, %+v: crossed %v", lib, c, r.Crossed)
						break
					}
				}
			}
		}
	}
}

func TestCrash(t *testing.T) {
	for _, lib := range []string{Openlock, Flock} {
		for _, dirs := range [][]string{{t.TempDir()}, twoPaths(t)} {
			d, err := Crash(CrashConfig{Lib: lib, Dirs: dirs, Trials: 2,
				MinWait: time.Millisecond, MaxWait: 20 * time.Millisecond, Timeout: time.Minute})
			if err != nil {
				t.Fatalf("%s, %d paths: %v", lib, len(dirs), err)
			}
			if len(d) != 2 || d[0] <= 0 || d[1] <= 0 {
				t.Errorf("%s, %d paths: recoveries %v", lib, len(dirs), d)
			}
		}
	}
}

func TestWaitCost(t *testing.T) {
	for _, lib := range []string{Openlock, Flock} {
		u, err := WaitCost(WaitConfig{Lib: lib, Dir: t.TempDir(), Waiters: 2, Wait: 200 * time.Millisecond, Timeout: time.Minute})
		if err != nil {
			t.Fatalf("%s: %v", lib, err)
		}
		if len(u) != 2 || u[0].Wall < 200*time.Millisecond {
			t.Errorf("%s: usage %+v", lib, u)
		}
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	l, err := StartLoad(dir, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // let it run a little; nothing to wait for
	l.Stop()
}
