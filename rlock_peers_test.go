package openlock

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// The shared lock as its peers' users expect it (issue 20, item 4): the
// assertions of gofrs/flock's and danjacques/gofslock's suites.

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
