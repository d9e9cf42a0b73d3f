package openlock

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The shared lock as its peers' users expect it (issue 20, item 4): the
// assertions of gofrs/flock's and danjacques/gofslock's suites.

func init() {
	roles["tryprobe"] = role(roleTryProbe)
}

// roleTryProbe is a writer that probes with TryLock in a loop until its
// stdin ends, printing "probing" after its first probe and "done <probes>
// <won>" at the end; it unlocks at once whatever it won.
func roleTryProbe() error {
	l, err := roleLock()
	if err != nil {
		return err
	}
	stop := stopAtEOF(0)
	probes, won := 0, 0
	for {
		held, err := l.TryLock()
		if err != nil {
			return err
		}
		if held {
			won++
			if err := l.Unlock(); err != nil {
				return err
			}
		}
		if probes++; probes == 1 {
			fmt.Println("probing")
		}
		select {
		case <-stop:
			fmt.Printf("done %d %d\n", probes, won)
			return l.Close()
		default:
		}
	}
}

// RLock, like Lock, returns the context's error when it is already done,
// whether the lock is free or held by readers only (gofrs/flock
// TestFlock_TryRLockContext), and takes nothing.
func TestRLockCancelledContext(t *testing.T) {
	sharedModes(t, func(t *testing.T, opts ...Option) {
		path := filepath.Join(t.TempDir(), "a.lock")
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		r, other := mustNew(t, path, opts...), mustNew(t, path, opts...)
		for _, state := range []string{"free", "held by a reader"} {
			if state != "free" {
				if err := other.RLock(lockCtx(t)); err != nil {
					t.Fatal(err)
				}
			}
			werr := mustNew(t, path, opts...).Lock(ctx)
			err := r.RLock(ctx)
			if !errors.Is(err, context.Canceled) || !errors.Is(werr, context.Canceled) {
				t.Fatalf("on a lock %s, with a cancelled context: RLock = %v, Lock = %v; want both context.Canceled", state, err, werr)
			}
			if !strings.HasPrefix(err.Error(), "openlock: rlock ") {
				t.Errorf("RLock's error %q does not name its operation", err)
			}
			if r.rd.n != 0 {
				t.Fatalf("RLock with a cancelled context on a lock %s counts %d read holds", state, r.rd.n)
			}
			if err := r.RUnlock(); !errors.Is(err, ErrNotHeld) {
				t.Fatalf("RUnlock after a cancelled RLock = %v; want ErrNotHeld", err)
			}
		}
	})
}

// A writer's failing TryLock never makes a reader's TryRLock fail: with a
// reader holding the shared lock, and a writer process probing with TryLock
// in a loop, every TryRLock of another process succeeds
// (danjacques/gofslock TestSharedConcurrent), and the writer never wins.
func TestTryRLockBesideProbingWriter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.lock")
	env := []string{"OPENLOCK_TEST_LOCK=" + path}
	holder := startChild(t, "rhold", env)
	holder.Expect("held")
	prober := startChild(t, "tryprobe", env)
	prober.Expect("probing")
	r := mustNew(t, path)
	const calls = 2000
	failed := 0
	for range calls {
		ok, err := r.TryRLock()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			failed++
			continue
		}
		if err := r.RUnlock(); err != nil {
			t.Fatal(err)
		}
	}
	prober.CloseStdin()
	f := strings.Fields(prober.Expect("done"))
	if err := prober.Err(); err != nil || len(f) != 3 {
		t.Fatalf("the prober: %v; it printed %q", err, prober.Lines())
	}
	probes, _ := strconv.Atoi(f[1])
	if f[2] != "0" {
		t.Errorf("the probing writer took the lock %s times while a reader held it", f[2])
	}
	if failed > 0 {
		t.Errorf("%d of %d TryRLock calls failed beside a reader while a writer probed (%d probes)", failed, calls, probes)
	}
	holder.CloseStdin()
	if err := holder.Err(); err != nil {
		t.Fatal(err)
	}
}
