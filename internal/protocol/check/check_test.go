package check

import (
	"flag"
	"testing"
	"time"

	"github.com/openlock/openlock/internal/protocol"
)

// local is two processes on one local file system, around a dead
// holder's lock file.
var local = Config{Procs: 2, Clients: 1, MaxCrashes: 1, MaxPreemptions: 3, Attempts: 4, Hold: 30 * time.Millisecond}

// network is two processes on two clients of a network file system whose
// caches may be 45 ms behind the server (not a multiple of the waiters'
// 10 ms retry period, so that reads meet changes within a cache time), and
// who try long enough to meet stale reads (12 attempts).
var network = Config{Procs: 2, Clients: 2, CacheTime: 45 * time.Millisecond,
	MaxCrashes: 1, MaxPreemptions: 2, Attempts: 12, Hold: 30 * time.Millisecond}

// full explores with up to 3 preemptions and 2 crashes, for CI (go test
// ./internal/protocol/check -args -full): under a minute on 2 cores. It
// reaches as many distinct states as an exploration without a preemption
// bound, which takes minutes.
var full = flag.Bool("full", false, "explore with up to 3 preemptions and 2 crashes")

func explore(t *testing.T, name string, cfg Config) (Stats, *Violation) {
	t.Helper()
	if *full {
		cfg.MaxPreemptions, cfg.MaxCrashes = 3, 2
	}
	start := time.Now()
	st, v := Explore(cfg, 0)
	t.Logf("%s: explored %d schedules, %d states, %d steps (%d stale reads) in %v",
		name, st.Schedules, st.States, st.Steps, st.StaleReads, time.Since(start).Round(time.Millisecond))
	return st, v
}

func TestExploreLocal(t *testing.T) {
	if _, v := explore(t, "local", local); v != nil {
		t.Fatalf("violation:\n%v", v)
	}
}

func TestExploreNetwork(t *testing.T) {
	st, v := explore(t, "network", network)
	if v != nil {
		t.Fatalf("violation:\n%v", v)
	}
	if st.StaleReads == 0 {
		t.Errorf("no read met a stale cache entry: the exploration does not reach what the cache wait guards against")
	}
}

// fischer is two processes taking over by Fischer mode, process 0 pausing
// between its look and its write for less than the race delay.
var fischer = Config{Procs: 2, Clients: 1, MaxCrashes: 1, MaxPreemptions: 3, Attempts: 2, Hold: 200 * time.Millisecond,
	Fischer: true, RaceDelay: 50 * time.Millisecond, Stall: 40 * time.Millisecond}

func TestExploreFischerWithinRaceDelay(t *testing.T) {
	if _, v := explore(t, "fischer", fischer); v != nil {
		t.Fatalf("violation:\n%v", v)
	}
}

func TestRandomThreeProcesses(t *testing.T) {
	for _, cfg := range []Config{
		{Procs: 3, Clients: 1, MaxCrashes: 2, Attempts: 4, Hold: 30 * time.Millisecond},
		{Procs: 3, Clients: 3, CacheTime: 45 * time.Millisecond, MaxCrashes: 2, Attempts: 12,
			Hold: 30 * time.Millisecond, MaxTicks: 3, Tick: 7 * time.Millisecond},
	} {
		start := time.Now()
		const seed, n = 1, 2000
		st, v := Random(cfg, seed, n)
		t.Logf("random, %d clients: %d schedules from seed %d, %d states, %d steps (%d stale reads) in %v",
			cfg.Clients, st.Schedules, seed, st.States, st.Steps, st.StaleReads, time.Since(start).Round(time.Millisecond))
		if v != nil {
			t.Fatalf("violation:\n%v", v)
		}
	}
}

// TestMutationsCaught re-introduces known failures of the takeover, and
// requires the checker to find each.
func TestMutationsCaught(t *testing.T) {
	stalled := fischer
	stalled.Stall = 2 * fischer.RaceDelay
	for _, m := range []struct {
		name string
		cfg  Config
		f    protocol.Faults
	}{
		{"rename over the lock without the claim's re-read", local, protocol.Faults{SkipReread: true}},
		{"re-read from a stale cache (no cache wait)", network, protocol.Faults{SkipCacheWait: true}},
		{"Fischer mode paused longer than the race delay", stalled, protocol.Faults{}},
	} {
		cfg := m.cfg
		cfg.Faults = m.f
		_, v := explore(t, m.name, cfg)
		if v == nil {
			t.Errorf("%s: not caught", m.name)
			continue
		}
		t.Logf("%s: caught:\n%v", m.name, v)
	}
}
