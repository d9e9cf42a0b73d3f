package openlock

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openlock/openlock/internal/testfs"
)

// The multi-process tests spread their processes over sharedDirs: one
// temporary directory, or the paths OPENLOCK_TEST_DIRS names, such as two
// mounts of one network volume, each a different client as two machines
// would have. What referees the lock (the counter, the marker of the process
// inside) stays in a local directory, out of reach of the caches under test.

// lockPaths returns the lock file a.lock as seen through each shared path.
func lockPaths(dirs []string) []string {
	paths := make([]string, len(dirs))
	for i, d := range dirs {
		paths[i] = filepath.Join(d, "a.lock")
	}
	return paths
}

// Mutual exclusion across processes: workers increment a counter file with
// a non-atomic read-sleep-write under the lock; the count must be exact and
// no worker may find another live process inside.
func TestMutualExclusionProcesses(t *testing.T) {
	dirs := testfs.SharedDirs(t)
	paths := lockPaths(dirs)
	referee := t.TempDir()
	counter := filepath.Join(referee, "counter")
	cycles := envInt("OPENLOCK_TEST_MULTI_CYCLES", 150)
	const workers = 4
	var cs []*child
	for i := range workers {
		env := []string{"OPENLOCK_TEST_LOCK=" + paths[i%len(paths)], "OPENLOCK_TEST_COUNTER=" + counter,
			"OPENLOCK_TEST_MARKER=" + filepath.Join(referee, "inside"),
			"OPENLOCK_TEST_CYCLES=" + strconv.Itoa(cycles), "OPENLOCK_TEST_HOLD=100us"}
		cs = append(cs, startChild(t, "worker", env))
	}
	for _, c := range cs {
		c.Expect("done")
		if err := c.Err(); err != nil {
			t.Fatalf("worker %d: %v; it printed %q", c.PID(), err, c.Lines())
		}
	}
	b, err := os.ReadFile(counter)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(b)); got != strconv.Itoa(workers*cycles) {
		t.Errorf("counter = %s, want %d: the lock let two processes in", got, workers*cycles)
	}
	// Clean runs leave nothing behind.
	if names := dirNames(t, dirs[0]); len(names) != 0 {
		t.Errorf("directory after clean runs holds %q; want nothing", names)
	}
}

// A holder killed with SIGKILL is taken over at the next attempt, with no
// sleep: a race delay of an hour would make a sleeping takeover time out.
func TestCrashRecovery(t *testing.T) {
	paths := lockPaths(testfs.SharedDirs(t))
	h := startChild(t, "hold", []string{"OPENLOCK_TEST_LOCK=" + paths[0]})
	h.Expect("held")
	path := paths[len(paths)-1]
	l := mustNew(t, path, WithRaceDelay(time.Hour))
	if ok, err := l.TryLock(); ok || err != nil {
		t.Fatalf("TryLock while a live child holds = %v, %v; want false", ok, err)
	}
	h.Kill()
	if err := l.Lock(lockCtx(t)); err != nil {
		t.Fatalf("Lock after the holder was killed: %v", err)
	}
	if r := readRecord(t, path); r.PID != os.Getpid() {
		t.Errorf("lock holds pid %d after recovery, want ours", r.PID)
	}
	// The dead holder's token is swept at the release (not before Lock
	// returns); only what a live FileLock needs stays.
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}
	if got := helperFiles(t, path); len(got[tokenFile]) != 1 || len(got[tmpFile])+len(got[claimFile]) != 0 {
		t.Errorf("after recovery and release the directory holds %v; want only our token", got)
	}
}

// Many processes race for one crashed holder's lock, round after round; each
// round every racer gets in once, one at a time.
func TestManyRacersOnStaleLock(t *testing.T) {
	dirs := testfs.SharedDirs(t)
	paths := lockPaths(dirs)
	marker := "OPENLOCK_TEST_MARKER=" + filepath.Join(t.TempDir(), "inside")
	const racers = 6
	rounds := envInt("OPENLOCK_TEST_RACE_ROUNDS", 8) // each costs a cache time on a network file system
	var cs []*child
	for i := range racers {
		c := startChild(t, "racer", []string{"OPENLOCK_TEST_LOCK=" + paths[i%len(paths)], "OPENLOCK_TEST_HOLD=2ms", marker})
		c.Expect("ready")
		cs = append(cs, c)
	}
	for round := range rounds {
		// A holder that crashes while holding.
		h := startChild(t, "hold", []string{"OPENLOCK_TEST_LOCK=" + paths[round%len(paths)]})
		h.Expect("held")
		h.Kill()
		for _, c := range cs {
			c.Send("go")
		}
		for _, c := range cs {
			c.Expect("ok")
		}
		if ls := testfs.Names(t, dirs[0]); slices.Contains(ls, "a.lock") {
			t.Fatalf("round %d: lock file still listed after every racer released: %q", round, ls)
		}
	}
	for _, c := range cs {
		c.CloseStdin()
		if err := c.Err(); err != nil {
			t.Fatalf("racer %d: %v; it printed %q", c.PID(), err, c.Lines())
		}
	}
	if names := dirNames(t, dirs[0]); len(names) != 0 {
		t.Errorf("directory after the racers closed holds %q; want nothing", names)
	}
}

// Torture: workers whose every step may pause up to longer than the race
// delay, while the test kills whichever process holds the lock. Nobody may
// ever find another live process inside.
func TestTortureKillsAndPauses(t *testing.T) {
	if testing.Short() {
		t.Skip("torture test skipped in -short mode")
	}
	dirs := testfs.SharedDirs(t)
	paths := lockPaths(dirs)
	referee := t.TempDir()
	const workers = 4
	const after = 5 // cycles each survivor completes once the killing stops
	byPID := make(map[int]*child)
	started := 0
	start := func() {
		env := []string{"OPENLOCK_TEST_LOCK=" + paths[started%len(paths)], "OPENLOCK_TEST_JITTER=3ms",
			"OPENLOCK_TEST_MIN_CYCLES=" + strconv.Itoa(after), "OPENLOCK_TEST_MARKER=" + filepath.Join(referee, "inside"),
			"OPENLOCK_TEST_RACE_DELAY=1ms", "OPENLOCK_TEST_HOLD=200us"}
		started++
		c := startChild(t, "worker", env)
		c.Expect("ready")
		byPID[c.PID()] = c
	}
	for range workers {
		start()
	}
	kills := 0
	deadline := time.Now().Add(6 * time.Second)
	for time.Now().Before(deadline) {
		time.Sleep(time.Duration(50+rand.IntN(150)) * time.Millisecond)
		b, err := os.ReadFile(paths[0])
		if err != nil {
			continue
		}
		pid, _ := strconv.Atoi(strings.SplitN(string(b), "\n", 2)[0])
		if c := byPID[pid]; c != nil {
			c.Kill()
			delete(byPID, pid)
			kills++
			start()
		}
	}
	for _, c := range byPID {
		c.CloseStdin()
	}
	total := 0
	for _, c := range byPID {
		line := c.Expect("done")
		n, _ := strconv.Atoi(strings.TrimPrefix(line, "done "))
		total += n
		if err := c.Err(); err != nil {
			t.Fatalf("worker %d: %v; it printed %q", c.PID(), err, c.Lines())
		}
	}
	// (No counter here: a holder killed in the middle of rewriting it would
	// reset it. The marker in inside() detects overlaps instead.)
	t.Logf("%d kills of holders; the %d survivors completed %d cycles", kills, workers, total)
	if kills == 0 {
		t.Fatal("the torture killed no holder")
	}
	if total < workers*after {
		t.Fatalf("survivors completed %d cycles, want at least %d", total, workers*after)
	}
	requireNoDebris(t, paths[0], dirs[0], "the torture")
}

// requireNoDebris takes the lock at path once more and closes, and fails t
// if anything is left in dir after what: the new FileLock's sweeps alone,
// without Clean, must remove whatever killed processes left. On a network
// file system that includes the claims of claimers killed mid-takeover,
// which a sweep removes once they are older than the cache time (see
// sweep.go): the test waits that long first.
func requireNoDebris(t *testing.T, path, dir, what string) {
	t.Helper()
	l := mustNew(t, path)
	l.mu.Lock()
	settle := l.cacheTime()
	l.mu.Unlock()
	if settle > 0 {
		time.Sleep(settle + time.Second) // a second more: the clock's coarse steps
	}
	if err := l.Lock(lockCtx(t)); err != nil {
		t.Fatal(err)
	}
	l.Close()
	if names := dirNames(t, dir); len(names) != 0 {
		t.Errorf("debris left after %s and the next lock's sweeps: %q", what, names)
	}
}

// A waiter costs no busy loop: between two looks it sleeps, backing off.
func TestBackoff(t *testing.T) {
	b := backoff{max: 300 * time.Millisecond}
	for i := range 30 {
		d := b.next()
		if d <= 0 || d > 300*time.Millisecond {
			t.Fatalf("pause %d = %v, outside (0, 300ms]", i, d)
		}
		if i == 0 && d > firstPause {
			t.Errorf("first pause = %v, want at most %v", d, firstPause)
		}
		if i > 12 && d < 150*time.Millisecond {
			t.Errorf("pause %d = %v; the backoff should have reached the retry period", i, d)
		}
	}
	if small := (&backoff{max: 100 * time.Microsecond}).next(); small > 100*time.Microsecond {
		t.Errorf("first pause with a tiny retry period = %v", small)
	}
}

func TestWaitForProcessThenCancel(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.lock")
	h := startChild(t, "hold", []string{"OPENLOCK_TEST_LOCK=" + path})
	h.Expect("held")
	l := mustNew(t, path)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- l.Lock(ctx) }()
	time.Sleep(10 * time.Millisecond) // let it wait a little (not needed for correctness)
	cancel()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "pid "+strconv.Itoa(h.PID())) {
			t.Errorf("cancelled Lock = %v; want a cancellation naming holder pid %d", err, h.PID())
		}
	case <-time.After(long):
		t.Fatal("cancelled Lock did not return")
	}
	if got := helperFiles(t, path); len(got[claimFile])+len(got[tmpFile]) != 0 || len(got[tokenFile]) != 2 {
		t.Errorf("after a cancelled Lock the directory holds %v; want the holder's and our token only", got)
	}
	h.Send("release")
	h.Expect("released")
	if err := l.Lock(lockCtx(t)); err != nil {
		t.Fatalf("Lock after the holder released: %v", err)
	}
}
