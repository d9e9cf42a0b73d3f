package openlock

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A leased hold begins with a refresh: the lock file (or a reader's
// registration) is a link of a token that may have been made or last
// refreshed long ago, and a link moves its change time but not its
// modification time. Where no change time is reported (fsx.ChangeTime
// falls back to the modification time: Windows, and readers of a share on
// such systems), a lease's age is the modification time's: a hold whose
// lock file kept the token's old time (set back 6 s at its creation on
// Linux, or its last refresh, holds ago) would be judged expired at once,
// and taken over while its holder lives. Each hold here must show a
// modification time no older than the hold.
func TestLeasedHoldBeginsRefreshed(t *testing.T) {
	for _, tt := range []struct {
		name string
		hold func(l *FileLock) (path string, err error)
	}{
		{"Lock", func(l *FileLock) (string, error) { return l.path, l.Lock(lockCtx(t)) }},
		{"RLock", func(l *FileLock) (string, error) {
			err := l.RLock(lockCtx(t))
			if err != nil {
				return "", err
			}
			return readerName(l.abs, l.tok.nonce), nil
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l := mustNew(t, filepath.Join(t.TempDir(), "a.lock"), WithLease(time.Hour))
			for i := range 2 {
				// The coarse clock that stamps files may lag this one by a tick.
				start := time.Now().Add(-time.Second)
				path, err := tt.hold(l)
				if err != nil {
					t.Fatal(err)
				}
				fi, err := os.Lstat(path)
				if err != nil {
					t.Fatal(err)
				}
				if m := fi.ModTime(); m.Before(start) {
					t.Errorf("hold %d: %s's modification time is %v, %v before the hold began; "+
						"a reader dating leases by it (fsx.ChangeTime without a change time) judges it expired",
						i+1, path, m, start.Sub(m))
				}
				release := l.Unlock
				if l.rd.n > 0 {
					release = l.RUnlock
				}
				if err := release(); err != nil {
					t.Fatal(err)
				}
				// The token's last refresh, an hour ago, for the next hold.
				old := time.Now().Add(-time.Hour)
				if err := os.Chtimes(l.tok.path, old, old); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}
