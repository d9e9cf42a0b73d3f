package openlock

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Safety without timing. A process is paused between two steps of a
// takeover, for as long as the test likes (far longer than any race delay),
// while another takes the lock over. The claim scheme never lets both in;
// the seed's Fischer step does, and TestFischerFailsUnderPause shows it.

func pausedEnv(path, step string, extra ...string) []string {
	return append([]string{"OPENLOCK_TEST_LOCK=" + path, "OPENLOCK_TEST_PAUSE_AT=" + step,
		"OPENLOCK_TEST_REPORT=waiting"}, extra...)
}

// A pauses after judging the lock stale, before claiming it; B takes it over
// meanwhile. A resumes, finds the lock changed, and waits for B.
func TestClaimsSafeWhenPausedAfterObserving(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.lock")
	writeStale(t, path)
	a := startChild(t, "hold", pausedEnv(path, "observed", "OPENLOCK_TEST_RACE_DELAY=1ms"))
	a.Expect("paused observed")
	b := startChild(t, "hold", []string{"OPENLOCK_TEST_LOCK=" + path})
	b.Expect("held")
	a.Send("resume")
	a.Expect("step waiting") // A has looked again and now waits
	assertHolder(t, path, b.PID())
	b.Send("release")
	b.Expect("released")
	a.Expect("held") // and gets it once B lets go
	assertHolder(t, path, a.PID())
}

// A pauses holding the claim (before or after re-reading the lock file); B
// finds the claim's owner alive and waits; A completes the takeover.
func TestClaimsSafeWhenPausedHoldingTheClaim(t *testing.T) {
	for _, step := range []string{"claimed", "validated"} {
		t.Run(step, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "a.lock")
			writeStale(t, path)
			a := startChild(t, "hold", pausedEnv(path, step, "OPENLOCK_TEST_RACE_DELAY=1ms"))
			a.Expect("paused " + step)
			b := startChild(t, "hold", pausedEnv(path, "", "OPENLOCK_TEST_RACE_DELAY=1ms"))
			b.Expect("step waiting") // B saw A's claim, and A alive
			a.Send("resume")
			a.Expect("held")
			assertHolder(t, path, a.PID())
			a.Send("release")
			a.Expect("released")
			b.Expect("held")
		})
	}
}

// A dies holding the claim; authority passes down the chain to B, which
// takes over, removing A's claim, and sweeps A's token at its next call.
func TestClaimOwnerDies(t *testing.T) {
	for _, step := range []string{"claimed", "validated"} {
		t.Run(step, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "a.lock")
			writeStale(t, path)
			a := startChild(t, "hold", pausedEnv(path, step))
			a.Expect("paused " + step)
			if got := helperFiles(t, path)[claimFile]; len(got) != 1 {
				t.Fatalf("claims while A pauses: %q; want A's", got)
			}
			a.Kill()
			l := mustNew(t, path)
			if ok, err := l.TryLock(); !ok || err != nil {
				t.Fatalf("TryLock after the claimer died = %v, %v; want true", ok, err)
			}
			if got := helperFiles(t, path); len(got[claimFile])+len(got[tmpFile]) != 0 {
				t.Errorf("after the takeover the directory holds %v; want no claim", got)
			}
			if err := l.Unlock(); err != nil {
				t.Fatal(err)
			}
			if ok, err := l.TryLock(); !ok || err != nil {
				t.Fatalf("TryLock of a free lock = %v, %v; want true", ok, err)
			}
			if got := helperFiles(t, path); len(got[claimFile])+len(got[tmpFile]) != 0 || len(got[tokenFile]) != 1 {
				t.Errorf("at the next call the directory holds %v; want our token only", got)
			}
		})
	}
}

// A takeover renames its claim over the stale lock file. If a third party
// replaced the claim between the claim and the rename (here, with a dead
// process's record), the rename moves that file, and the taker must see
// that the lock file is not its token: it does not hold the lock then, and
// here takes over the file it moved, by a new claim.
func TestTakeoverChecksTheClaimItMoved(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.lock")
	stale := writeStale(t, path)
	replaced := false
	l := mustNew(t, path, withHook(func(step string) {
		if step == string(StepValidated) && !replaced {
			replaced = true
			claim := claimName(path, stale.Nonce)
			if err := os.Remove(claim); err != nil {
				t.Error(err)
			}
			writeStale(t, claim)
		}
	}))
	if err := l.Lock(lockCtx(t)); err != nil {
		t.Fatal(err)
	}
	if !replaced {
		t.Fatal("the takeover never reached its validation")
	}
	if fi, err := os.Lstat(path); err != nil || !os.SameFile(fi, l.tok.fi) {
		t.Fatalf("Lock returned, but the lock file is not our token (%v)", err)
	}
	if got := helperFiles(t, path)[claimFile]; len(got) != 0 {
		t.Errorf("claims left after the takeover: %q", got)
	}
}

// The seed's algorithm under the same pause: A observes the stale lock and
// pauses longer than the race delay; B overwrites, sleeps, re-reads, holds.
// A resumes, overwrites B's lock, sleeps, re-reads its own record and holds
// too. This is the failure the claim scheme exists to prevent.
func TestFischerFailsUnderPause(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.lock")
	writeStale(t, path)
	fischer := []string{"OPENLOCK_TEST_TAKEOVER=fischer", "OPENLOCK_TEST_RACE_DELAY=20ms"}
	a := startChild(t, "hold", pausedEnv(path, "observed", fischer...))
	a.Expect("paused observed")
	b := startChild(t, "hold", append([]string{"OPENLOCK_TEST_LOCK=" + path}, fischer...))
	b.Expect("held")
	a.Send("resume")
	a.Expect("held")
	// Both hold: B has not released (it waits for our line), and A holds.
	t.Logf("Fischer mode let pid %d and pid %d hold the lock at once", b.PID(), a.PID())
	assertHolder(t, path, a.PID())
	// B learns it at Unlock, and deletes nothing.
	b.Send("release")
	if line := b.Expect("error"); !strings.Contains(line, ErrLockLost.Error()) {
		t.Errorf("B's Unlock: %q; want an ErrLockLost error", line)
	}
	assertHolder(t, path, a.PID())
}

// The same pause in Fischer mode, with the slow-system check on: the race
// window (observation to completed write) exceeds 2/3 of the race delay, and
// A fails with ErrSlowSystem instead of holding, leaving nothing behind.
func TestFischerSlowSystemError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.lock")
	writeStale(t, path)
	l := mustNew(t, path, WithTakeover(Fischer), WithRaceDelay(300*time.Millisecond), WithSlowSystemError(true))
	if ok, err := l.TryLock(); !ok || err != nil {
		t.Fatalf("Fischer TryLock on a stale lock without a pause = %v, %v; want true", ok, err)
	}
	l.Unlock()
	writeStale(t, path)
	slow := mustNew(t, path, WithTakeover(Fischer), WithRaceDelay(30*time.Millisecond), WithSlowSystemError(true),
		withHook(func(step string) {
			if step == "observed" {
				time.Sleep(40 * time.Millisecond) // longer than 2/3 of the race delay
			}
		}))
	_, err := slow.TryLock()
	if !errors.Is(err, ErrSlowSystem) {
		t.Fatalf("Fischer TryLock with a slow write = %v, want ErrSlowSystem", err)
	}
	if _, err := os.Lstat(path); !isNotExist(err) {
		t.Errorf("a takeover that failed with ErrSlowSystem left its lock file: %v", err)
	}
}

// Fischer mode gives up with ErrInvalidLockFile when the lock file holds no
// valid record after Tries writes (here, something empties it at once).
func TestFischerInvalidLockFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.lock")
	os.WriteFile(path, nil, 0o644)
	l := mustNew(t, path, WithTakeover(Fischer), WithRaceDelay(time.Millisecond), WithTries(3),
		withHook(func(step string) {
			if step == "replaced" { // a hostile writer replaces us with an empty file
				os.WriteFile(path+".empty", nil, 0o644)
				os.Rename(path+".empty", path)
			}
		}))
	if _, err := l.TryLock(); !errors.Is(err, ErrInvalidLockFile) {
		t.Fatalf("TryLock = %v, want ErrInvalidLockFile", err)
	}
}

// Fischer mode, unlike the seed, does not overwrite a data file either.
func TestFischerLeavesDataFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.lock")
	os.WriteFile(path, []byte("junk"), 0o644)
	before := snapshot(t, path)
	l := mustNew(t, path, WithTakeover(Fischer), WithRaceDelay(time.Millisecond))
	if _, err := l.TryLock(); !errors.Is(err, ErrNotLockFile) {
		t.Fatalf("Fischer TryLock on a data file = %v, want ErrNotLockFile", err)
	}
	if after := snapshot(t, path); after != before {
		t.Errorf("data file changed: before %q, after %q", before, after)
	}
}

// Cancellation in the middle of a takeover: after the claim, before the
// replacement. Lock returns promptly, its claim is gone, and the stale lock
// is still there for the next attempt.
func TestCancelDuringClaimTakeover(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.lock")
	dead := writeStale(t, path)
	ctx, cancel := context.WithCancel(context.Background())
	l := mustNew(t, path, withHook(func(step string) {
		if step == "claimed" {
			cancel()
		}
	}))
	if err := l.Lock(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Lock cancelled mid-takeover = %v, want context.Canceled", err)
	}
	if got := helperFiles(t, path); len(got[claimFile])+len(got[tmpFile]) != 0 {
		t.Errorf("a cancelled takeover left %v", got)
	}
	if r := readRecord(t, path); r.Nonce != dead.Nonce {
		t.Errorf("a cancelled takeover replaced the lock file: %+v", r)
	}
	if err := mustNew(t, path).Lock(lockCtx(t)); err != nil {
		t.Fatalf("Lock after a cancelled takeover: %v", err)
	}
}

// Cancellation during Fischer's race-delay sleep: our lock file is removed.
func TestCancelDuringFischerSleep(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.lock")
	writeStale(t, path)
	ctx, cancel := context.WithCancel(context.Background())
	l := mustNew(t, path, WithTakeover(Fischer), WithRaceDelay(time.Hour), withHook(func(step string) {
		if step == "replaced" {
			cancel()
		}
	}))
	start := time.Now()
	if err := l.Lock(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Lock cancelled in the race delay = %v, want context.Canceled", err)
	}
	if time.Since(start) > long {
		t.Errorf("cancelled Lock took %v", time.Since(start))
	}
	if _, err := os.Lstat(path); !isNotExist(err) {
		t.Errorf("a cancelled Fischer takeover left its lock file: %v", err)
	}
	if got := helperFiles(t, path); len(got[claimFile])+len(got[tmpFile]) != 0 {
		t.Errorf("a cancelled takeover left %v", got)
	}
}

// Close during Fischer's sleep: the lock file we wrote is removed.
func TestCloseDuringFischerSleep(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.lock")
	writeStale(t, path)
	sleeping := make(chan struct{})
	l := mustNew(t, path, WithTakeover(Fischer), WithRaceDelay(200*time.Millisecond), withHook(func(step string) {
		if step == "replaced" {
			close(sleeping)
		}
	}))
	done := make(chan error)
	go func() { done <- l.Lock(lockCtx(t)) }()
	<-sleeping
	l.Close()
	if err := <-done; err == nil {
		t.Fatal("Lock succeeded although the FileLock was closed during the race delay")
	}
	if names := dirNames(t, dir); len(names) != 0 {
		t.Errorf("directory after Close during the race delay holds %q", names)
	}
}

// Waiting for a live claimer, then cancelled: no claim of ours is left.
func TestCancelWhileClaimIsHeld(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.lock")
	writeStale(t, path)
	a := startChild(t, "hold", pausedEnv(path, "claimed"))
	a.Expect("paused claimed")
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := mustNew(t, path).Lock(ctx)
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("Lock while a live process holds the claim = %v, want ErrTimeout", err)
	}
	if got := helperFiles(t, path)[claimFile]; len(got) != 1 {
		t.Errorf("claims after our timeout: %q; want only A's", got)
	}
	a.Send("resume")
	a.Expect("held")
}

func assertHolder(t *testing.T, path string, pid int) {
	t.Helper()
	if r := readRecord(t, path); r.PID != pid {
		t.Fatalf("lock file names pid %d, want %d", r.PID, pid)
	}
}
