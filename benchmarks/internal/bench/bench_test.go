package bench

import (
	"os"
	"testing"
	"time"

	"github.com/openlock/openlock"
)

// These tests check that each measurement runs and reports what it should.
// They assert no timing: speed is judged by cmd/compare, never by tests.

func TestMain(m *testing.M) {
	RunRole()
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

func TestHandoff(t *testing.T) {
	for _, lib := range []string{Openlock, Flock} {
		for _, procs := range []int{2, 3} {
			r, err := Handoff(HandoffConfig{Lib: lib, Dir: t.TempDir(), Procs: procs, Handoffs: 12,
				Hold: time.Millisecond, Timeout: time.Minute})
			if err != nil {
				t.Fatalf("%s, %d procs: %v", lib, procs, err)
			}
			// Every acquisition but the first is a handoff to another process.
			if len(r.Latencies) != 11 || r.Elapsed <= 0 {
				t.Errorf("%s, %d procs: %d latencies, elapsed %v; want 11, > 0", lib, procs, len(r.Latencies), r.Elapsed)
			}
			for _, d := range r.Latencies {
				if d <= 0 {
					t.Errorf("%s: latency %v", lib, d)
				}
			}
		}
	}
}

func TestCrash(t *testing.T) {
	for _, lib := range []string{Openlock, Flock} {
		d, err := Crash(CrashConfig{Lib: lib, Dir: t.TempDir(), Trials: 2,
			MinWait: time.Millisecond, MaxWait: 20 * time.Millisecond, Timeout: time.Minute})
		if err != nil {
			t.Fatalf("%s: %v", lib, err)
		}
		if len(d) != 2 || d[0] <= 0 || d[1] <= 0 {
			t.Errorf("%s: recoveries %v", lib, d)
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
