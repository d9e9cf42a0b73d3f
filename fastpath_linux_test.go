package openlock

import (
	"context"
	"path/filepath"
	"testing"
)

// The uncontended Lock and Unlock allocate nothing (on Linux, on a local
// file system): a lock taken in a hot loop costs no garbage. (The fast
// path's handling of a lost lock file is covered by the tests of Unlock
// after a removal and after a takeover, which run through it here.)
func TestUncontendedDoesNotAllocate(t *testing.T) {
	l := mustNew(t, filepath.Join(t.TempDir(), "a.lock"))
	ctx := context.Background()
	if err := l.Lock(ctx); err != nil { // the token is made once
		t.Fatal(err)
	}
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}
	var err error
	n := testing.AllocsPerRun(100, func() {
		if err = l.Lock(ctx); err == nil {
			err = l.Unlock()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%v allocations per uncontended Lock+Unlock, want 0", n)
	}
}
