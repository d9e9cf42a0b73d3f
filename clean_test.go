package openlock

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestHelperBase(t *testing.T) {
	n := newNonce()
	for name, want := range map[string]string{
		"a.lock." + n + ".token":     "a.lock",
		"a.lock." + n + ".tmp":       "a.lock",
		"a.lock.break." + n:          "a.lock",
		"x.y.z." + n + ".token":      "x.y.z",
		"a.lock.notanonce.token":     "",
		"a.lock.break.nothex":        "",
		"a.lock":                     "",
		"." + n + ".token":           "",
		"a.lock." + n + ".token.bak": "",
	} {
		got, ok := helperBase(name)
		if got != want || ok != (want != "") {
			t.Errorf("helperBase(%q) = %q, %v; want %q", name, got, ok, want)
		}
	}
}

// Clean removes a dead holder's lock file and every dead owner's debris,
// and leaves a live holder and files that are not ours alone.
func TestClean(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, "stale.lock")
	writeStale(t, stale)
	// Debris of dead processes beside it: a token and a claim.
	deadToken := tokenName(stale, newNonce())
	writeRecord(t, deadToken, hereRecord(deadPID(t), "1"))
	// A live holder of another lock, and a file that is not ours.
	live := filepath.Join(dir, "live.lock")
	h := startChild(t, "hold", []string{"OPENLOCK_TEST_LOCK=" + live})
	h.Expect("held")
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("keep me\n"), 0o644)

	paths, err := LockFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{live, stale}, paths); diff != "" {
		t.Errorf("LockFiles mismatch (-want +got):\n%s", diff)
	}

	l := mustNew(t, stale)
	would, err := l.Clean(true)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(would)
	if diff := cmp.Diff([]string{stale, deadToken}, would); diff != "" {
		t.Errorf("Clean(dryRun) mismatch (-want +got):\n%s", diff)
	}
	if _, err := os.Stat(stale); err != nil {
		t.Errorf("dry run removed the stale lock: %v", err)
	}
	if _, err := l.Clean(false); err != nil {
		t.Fatal(err)
	}
	l.Close()
	for _, p := range paths {
		if _, err := mustNew(t, p).Clean(false); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"live.lock", "live.lock.*.token", "notes.txt"}
	got := dirNames(t, dir)
	if len(got) != 3 || got[0] != want[0] || got[2] != want[2] || classify("live.lock", got[1]) != tokenFile {
		t.Errorf("after Clean the directory holds %q; want %q", got, want)
	}
}

// LockFiles names the lock of a reservation (<lock>.next) and of a fence
// file (<lock>.fence) by the helper file's name, and a record without such
// a suffix by its own name.
func TestLockFilesOfReservationAndFence(t *testing.T) {
	dir := t.TempDir()
	writeRecord(t, filepath.Join(dir, "b.lock.next"), hereRecord(deadPID(t), "1"))
	writeRecord(t, filepath.Join(dir, ".next"), hereRecord(deadPID(t), "1")) // no lock name before the suffix
	f := mustNew(t, filepath.Join(dir, "c.lock"), WithFencing(true))
	if err := f.Lock(lockCtx(t)); err != nil {
		t.Fatal(err)
	}
	if err := f.Unlock(); err != nil {
		t.Fatal(err)
	}
	paths, err := LockFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(dir, ".next"), filepath.Join(dir, "b.lock"), filepath.Join(dir, "c.lock")}
	if diff := cmp.Diff(want, paths); diff != "" {
		t.Errorf("LockFiles mismatch (-want +got):\n%s", diff)
	}
}

// A waiter's place in the line is a hard link of its token, and a sweep
// judges it with the token (one read for both): the places of a dead
// waiter go with its token, a live waiter's place stays, and a place that
// is no link of a token seen is read and judged on its own.
func TestSweepJudgesPlacesWithTheirTokens(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.lock")
	l := mustNew(t, path)
	if err := l.Lock(lockCtx(t)); err != nil { // our token, live
		t.Fatal(err)
	}
	defer l.Unlock()
	livePlace := afterName(path, newNonce())
	if err := os.Link(l.tok.path, livePlace); err != nil {
		t.Fatal(err)
	}
	dead := hereRecord(deadPID(t), "1")
	deadToken := tokenName(path, dead.Nonce)
	writeRecord(t, deadToken, dead)
	deadPlace := afterName(path, newNonce())
	if err := os.Link(deadToken, deadPlace); err != nil {
		t.Fatal(err)
	}
	lonePlace := afterName(path, newNonce())
	writeRecord(t, lonePlace, hereRecord(deadPID(t), "2"))

	removed, err := l.Clean(false)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(removed)
	want := []string{deadToken, deadPlace, lonePlace}
	slices.Sort(want)
	if diff := cmp.Diff(want, removed); diff != "" {
		t.Errorf("Clean mismatch (-want +got):\n%s", diff)
	}
	if _, err := os.Lstat(livePlace); err != nil {
		t.Errorf("a live waiter's place was removed: %v", err)
	}
}

// A FileLock sweeps the debris of dead processes at the start of its next
// call that takes a lock, or at Close: not in the call that makes its token
// (a waiter need not read and judge the whole directory before it waits),
// nor in a release.
func TestSweepAtNextCall(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.lock")
	lock := func(l *FileLock) error {
		if err := l.Lock(lockCtx(t)); err != nil {
			return err
		}
		return l.Unlock()
	}
	rlock := func(l *FileLock) error {
		if err := l.RLock(lockCtx(t)); err != nil {
			return err
		}
		return l.RUnlock()
	}
	trylock := func(l *FileLock) error {
		if ok, err := l.TryLock(); !ok || err != nil {
			return fmt.Errorf("TryLock of a free lock = %v, %v", ok, err)
		}
		return l.Unlock()
	}
	ends := []struct {
		name       string
		begin, end func(l *FileLock) error
	}{
		{"Lock, Unlock, then TryLock", lock, trylock},
		{"RLock, RUnlock, then RLock", rlock, rlock},
		{"TryLock, Unlock, then Lock", trylock, lock},
		{"Lock, Unlock, then Close", lock, (*FileLock).Close},
	}
	for _, e := range ends {
		rec := hereRecord(deadPID(t), "1")
		dead := tokenName(path, rec.Nonce)
		writeRecord(t, dead, rec)
		l := mustNew(t, path)
		if err := e.begin(l); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Lstat(dead); err != nil {
			t.Errorf("%s: a dead process's token was swept by the first call: %v", e.name, err)
		}
		if err := e.end(l); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Lstat(dead); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s: a dead process's token is still there after the next (%v)", e.name, err)
		}
		l.Close()
	}
}
