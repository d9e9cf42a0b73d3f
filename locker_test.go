package openlock

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/openlock/openlock/procscan"
)

func TestLockUnlock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.lock")
	l := mustNew(t, path)
	if err := l.Lock(lockCtx(t)); err != nil {
		t.Fatalf("Lock: %v", err)
	}
	if locked, err := l.Locked(); !locked || err != nil {
		t.Errorf("Locked() = %v, %v while held; want true", locked, err)
	}
	o, ok, err := l.Owner()
	if !ok || err != nil {
		t.Fatalf("Owner() = %v, %v, %v while held", o, ok, err)
	}
	if o.PID != os.Getpid() || o.Verdict != procscan.Alive || o.Record.Nonce != l.tok.nonce {
		t.Errorf("Owner() = %+v; want this process, alive, our nonce %s", o, l.tok.nonce)
	}
	if d := time.Since(o.Since); d < -time.Minute || d > time.Minute {
		t.Errorf("Owner().Since = %v, not about now", o.Since)
	}
	if d := time.Since(o.Started); o.Started.IsZero() || d < 0 || d > 24*time.Hour {
		t.Errorf("Owner().Started = %v; want this process's start", o.Started)
	}
	if err := l.Unlock(); err != nil {
		t.Fatalf("Unlock: %v", err)
	}
	if _, err := os.Lstat(path); !isNotExist(err) {
		t.Errorf("lock file still there after Unlock: %v", err)
	}
	if locked, err := l.Locked(); locked || err != nil {
		t.Errorf("Locked() = %v, %v after Unlock; want false", locked, err)
	}
	if _, ok, err := l.Owner(); ok || err != nil {
		t.Errorf("Owner() ok = %v, %v after Unlock; want false", ok, err)
	}
}

func TestLockFileIsReadableRecord(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.lock")
	l := mustNew(t, path)
	if err := l.Lock(lockCtx(t)); err != nil {
		t.Fatal(err)
	}
	r := readRecord(t, path)
	me := procscan.System().Identity()
	if r.PID != os.Getpid() || r.Host != me.Host || r.Boot != me.Boot || r.PIDNS != me.PIDNS || r.Start == "" || !validNonce(r.Nonce) {
		t.Errorf("lock record = %+v; want this process's complete record", r)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o644 && runtime.GOOS != "windows" { // no Unix modes there
		t.Errorf("lock file mode = %v, want 0644", fi.Mode().Perm())
	}
}

func TestFileModeOption(t *testing.T) {
	needModes(t)
	path := filepath.Join(t.TempDir(), "a.lock")
	l := mustNew(t, path, WithFileMode(0o600))
	if err := l.Lock(lockCtx(t)); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("lock file mode = %v, %v; want 0600", fi.Mode().Perm(), err)
	}
}

func TestTryLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.lock")
	a, b := mustNew(t, path), mustNew(t, path)
	if ok, err := a.TryLock(); !ok || err != nil {
		t.Fatalf("a.TryLock() = %v, %v; want true", ok, err)
	}
	if ok, err := b.TryLock(); ok || err != nil {
		t.Fatalf("b.TryLock() while a holds = %v, %v; want false", ok, err)
	}
	if ok, err := a.TryLock(); ok || err != nil {
		t.Fatalf("a.TryLock() again while a holds = %v, %v; want false (not reentrant)", ok, err)
	}
	if err := a.Unlock(); err != nil {
		t.Fatal(err)
	}
	if ok, err := b.TryLock(); !ok || err != nil {
		t.Fatalf("b.TryLock() after a.Unlock = %v, %v; want true", ok, err)
	}
}

func TestUnlockNotHeld(t *testing.T) {
	l := mustNew(t, filepath.Join(t.TempDir(), "a.lock"))
	if err := l.Unlock(); !errors.Is(err, ErrNotHeld) {
		t.Fatalf("Unlock of a fresh lock = %v, want ErrNotHeld", err)
	}
	if err := l.Lock(lockCtx(t)); err != nil {
		t.Fatal(err)
	}
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}
	err := l.Unlock()
	if !errors.Is(err, ErrNotHeld) {
		t.Fatalf("second Unlock = %v, want ErrNotHeld", err)
	}
	var e *Error
	if !errors.As(err, &e) || e.Op != "unlock" || e.Path != l.Path() || !strings.Contains(err.Error(), l.Path()) {
		t.Errorf("error %q (%#v) does not name the operation and path", err, e)
	}
}

func TestUnlockAfterLockRemoved(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.lock")
	l := mustNew(t, path)
	if err := l.Lock(lockCtx(t)); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := l.Unlock(); !errors.Is(err, ErrLockLost) {
		t.Fatalf("Unlock after the lock file was removed = %v, want ErrLockLost", err)
	}
	// Not held any more: the lock can be taken again.
	if err := l.Lock(lockCtx(t)); err != nil {
		t.Fatalf("Lock after a lost lock: %v", err)
	}
}

func TestUnlockAfterTakeoverDeletesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.lock")
	l := mustNew(t, path)
	if err := l.Lock(lockCtx(t)); err != nil {
		t.Fatal(err)
	}
	// Someone replaces the lock file, as a process that judged us dead would.
	other := hereRecord(os.Getpid(), "1")
	tmp := path + ".other"
	writeRecord(t, tmp, other)
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	err := l.Unlock()
	if !errors.Is(err, ErrLockLost) {
		t.Fatalf("Unlock after takeover = %v, want ErrLockLost", err)
	}
	if got := readRecord(t, path); got.Nonce != other.Nonce {
		t.Errorf("Unlock touched the new holder's lock file: it now holds %+v", got)
	}
	if err := l.Unlock(); !errors.Is(err, ErrNotHeld) {
		t.Errorf("Unlock after ErrLockLost = %v, want ErrNotHeld", err)
	}
}

// A lock file rewritten in place while held (same inode, other content, by
// a program that does not use this package) is not ours: Unlock reports
// ErrLockLost, names the path, and leaves the file as it is, whether the
// new content has another size than our record or the same, and whether the
// token's modification time is the one it was made with or a later one
// (a lease refresh's) seen since with our record (holdsRecord). The token,
// whose inode it is, is not used again.
func TestUnlockAfterRewriteInPlace(t *testing.T) {
	for _, tt := range []struct {
		name                         string
		sameSize, settled, keepTimes bool
	}{
		{"other size", false, false, false},
		{"same size", true, false, false},
		{"same size, settled", true, true, false},
		{"same size, times kept", true, false, true},
		{"same size, settled, times kept", true, true, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.settled && tt.keepTimes && runtime.GOOS == "windows" {
				t.Skip("not yet on Windows: fsx.ChangeTime is the modification time there (package os gives no change time), so a rewrite that keeps the times is seen only by reading")
			}
			path := filepath.Join(t.TempDir(), "a.lock")
			l := mustNew(t, path)
			if err := l.Lock(lockCtx(t)); err != nil {
				t.Fatal(err)
			}
			if tt.settled {
				// Move the token's time, as a lease refresh does: a
				// release reads it, finds our record, and remembers the
				// (old enough) time, so the next check reads no content.
				old := time.Now().Add(-time.Hour)
				if err := os.Chtimes(l.tok.path, old, old); err != nil {
					t.Fatal(err)
				}
				if err := l.Unlock(); err != nil {
					t.Fatal(err)
				}
				if l.tok.settled.Load() != old.UnixNano() {
					t.Fatalf("the token's modification time %v was not remembered", old)
				}
				if err := l.Lock(lockCtx(t)); err != nil {
					t.Fatal(err)
				}
			}
			tok := l.tok
			rogue := []byte("written by another program\n")
			if tt.sameSize {
				rogue = bytes.Repeat([]byte("x"), len(tok.data))
			}
			before, err := os.Lstat(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, rogue, 0o644); err != nil { // O_TRUNC: the same inode
				t.Fatal(err)
			}
			if tt.keepTimes { // as a program that keeps the file's times (touch -r, cp -p) does
				if err := os.Chtimes(path, time.Time{}, before.ModTime()); err != nil {
					t.Fatal(err)
				}
			}
			err = l.Unlock()
			if !errors.Is(err, ErrLockLost) {
				t.Fatalf("Unlock after the lock file was rewritten in place = %v, want ErrLockLost", err)
			}
			for _, want := range []string{path, "rewritten in place by another program", "left as it is"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("Unlock's error %q does not say %q", err, want)
				}
			}
			after, err := os.Lstat(path)
			if err != nil || !os.SameFile(before, after) {
				t.Fatalf("the rewritten lock file is gone or replaced: %v", err)
			}
			if got, _ := os.ReadFile(path); !bytes.Equal(got, rogue) {
				t.Errorf("the lock file holds %q after Unlock, want the other program's %q", got, rogue)
			}
			if l.tok == tok {
				t.Error("the FileLock keeps the rewritten token for its next Lock")
			}
		})
	}
}

func TestClose(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.lock")
	l, err := New(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Lock(lockCtx(t)); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if names := dirNames(t, dir); len(names) != 0 {
		t.Errorf("directory after Close holds %q; want nothing", names)
	}
	if err := l.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
	if err := l.Lock(lockCtx(t)); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("Lock after Close = %v, want fs.ErrClosed", err)
	}
	if ok, err := l.TryLock(); ok || !errors.Is(err, fs.ErrClosed) {
		t.Errorf("TryLock after Close = %v, %v, want fs.ErrClosed", ok, err)
	}
	if err := l.Unlock(); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("Unlock after Close = %v, want fs.ErrClosed", err)
	}
	// Another FileLock on the path is unaffected.
	m := mustNew(t, path)
	if ok, err := m.TryLock(); !ok || err != nil {
		t.Errorf("TryLock of a new FileLock after Close = %v, %v", ok, err)
	}
}

func TestCloseWakesWaiter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.lock")
	h := startChild(t, "hold", []string{"OPENLOCK_TEST_LOCK=" + path}) // another process: Lock polls
	h.Expect("held")
	waiting := make(chan struct{}, 1)
	l := mustNew(t, path, WithRetryPeriod(time.Hour), withHook(func(step string) {
		if step == string(StepWaiting) {
			select {
			case waiting <- struct{}{}:
			default:
			}
		}
	}))
	done := make(chan error)
	go func() { done <- l.Lock(lockCtx(t)) }()
	select {
	case <-waiting: // Lock is between two looks at the held lock: Close must end that pause
	case <-time.After(long):
		t.Fatal("Lock never waited for the holder")
	}
	l.Close()
	select {
	case err := <-done:
		if !errors.Is(err, fs.ErrClosed) {
			t.Errorf("Lock of a FileLock closed while waiting = %v, want fs.ErrClosed", err)
		}
	case <-time.After(long):
		t.Fatal("Lock did not return after Close")
	}
}

func TestDefaultPath(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	l := mustNew(t, "")
	if l.Path() != DefaultPath {
		t.Errorf("Path() = %q, want %q", l.Path(), DefaultPath)
	}
	if err := l.Lock(lockCtx(t)); err != nil {
		t.Fatal(err)
	}
	// A later Chdir does not move the lock.
	t.Chdir(t.TempDir())
	if _, err := os.Stat(filepath.Join(dir, DefaultPath)); err != nil {
		t.Fatalf("lock file not in the directory New saw: %v", err)
	}
	if err := l.Unlock(); err != nil {
		t.Fatalf("Unlock after Chdir: %v", err)
	}
}

func TestTimeoutAccessor(t *testing.T) {
	l := mustNew(t, filepath.Join(t.TempDir(), "a.lock"), WithTimeout(3*time.Second))
	if l.Timeout() != 3*time.Second {
		t.Errorf("Timeout() = %v, want 3s", l.Timeout())
	}
}

func TestTimeoutError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.lock")
	h := startChild(t, "hold", []string{"OPENLOCK_TEST_LOCK=" + path})
	h.Expect("held")
	l := mustNew(t, path, WithTimeout(50*time.Millisecond))
	err := l.Lock(context.Background())
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Lock of a held lock with WithTimeout = %v; want ErrTimeout and DeadlineExceeded", err)
	}
	for _, want := range []string{path, "pid " + itoa(h.PID())} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("timeout error %q does not mention %q", err, want)
		}
	}
	// A deadline on the context gives the same error.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := mustNew(t, path).Lock(ctx); !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Lock with a ctx deadline = %v; want ErrTimeout and DeadlineExceeded", err)
	}
}

func TestContextAlreadyDone(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.lock")
	l := mustNew(t, path)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.Lock(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Lock with a cancelled ctx = %v, want context.Canceled", err)
	}
	if _, err := os.Lstat(path); !isNotExist(err) {
		t.Errorf("a cancelled Lock left a lock file: %v", err)
	}
}

func TestCancelCause(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.lock")
	holder := mustNew(t, path)
	if err := holder.Lock(lockCtx(t)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	why := errors.New("shutting down")
	cancel(why)
	err := mustNew(t, path).Lock(ctx)
	if !errors.Is(err, context.Canceled) || !errors.Is(err, why) {
		t.Errorf("Lock = %v; want context.Canceled and the cause", err)
	}
}

// In-process: goroutines that share memory under the lock. Under -race this
// checks that the lock gives the race detector its happens-before edges.
func TestGoroutinesShareMemory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.lock")
	shared := mustNew(t, path)
	const goroutines, rounds = 8, 50
	counter := 0
	var wg sync.WaitGroup
	for g := range goroutines {
		l := shared
		if g%2 == 0 {
			l = mustNew(t, path) // one FileLock each, or one shared
		}
		wg.Go(func() {
			for range rounds {
				if err := l.Lock(lockCtx(t)); err != nil {
					t.Error(err)
					return
				}
				counter++
				if err := l.Unlock(); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if counter != goroutines*rounds {
		t.Errorf("counter = %d, want %d", counter, goroutines*rounds)
	}
}

func TestLocker(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.lock")
	l := mustNew(t, path)
	var mu sync.Locker = l.Locker()
	mu.Lock()
	if ok, _ := l.Locked(); !ok {
		t.Error("Locker().Lock did not take the lock")
	}
	mu.Unlock()
	if ok, _ := l.Locked(); ok {
		t.Error("Locker().Unlock did not release the lock")
	}
	mustPanic(t, "Unlock of an unlocked Locker", func() { mu.Unlock() })
	l.Close()
	mustPanic(t, "Lock of a closed Locker", func() { mu.Lock() })
}

func mustPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if r := recover(); r == nil {
			t.Errorf("%s did not panic", what)
		} else if _, ok := r.(error); !ok {
			t.Errorf("%s panicked with %T, want an error", what, r)
		}
	}()
	f()
}

func TestRegistryIsReferenceCounted(t *testing.T) {
	dir := t.TempDir()
	before := registrySize()
	for i := range 100_000 {
		l, err := New(filepath.Join(dir, "lock"+itoa(i)))
		if err != nil {
			t.Fatal(err)
		}
		if i%10_000 == 0 { // and some that touched the file system
			if err := l.Lock(lockCtx(t)); err != nil {
				t.Fatal(err)
			}
		}
		l.Close()
	}
	if after := registrySize(); after != before {
		t.Errorf("registry holds %d paths after 10^5 New+Close, %d before", after, before)
	}
	if names := dirNames(t, dir); len(names) != 0 {
		t.Errorf("directory holds %q after Close; want nothing", names)
	}
}

func registrySize() int {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	return len(registry.m)
}

func TestOptionsValidation(t *testing.T) {
	bad := map[string]Option{
		"WithTimeout":     WithTimeout(-time.Second),
		"WithRetryPeriod": WithRetryPeriod(0),
		"WithRaceDelay":   WithRaceDelay(-1),
		"WithTries":       WithTries(0),
		"WithTakeover":    WithTakeover(Takeover(9)),
		"WithFileMode":    WithFileMode(0o400),
		"WithCacheTime":   WithCacheTime(-time.Second),
	}
	for name, o := range bad {
		_, err := New("x.lock", o)
		if !errors.Is(err, ErrInvalidOption) || !strings.Contains(err.Error(), name) {
			t.Errorf("New with a bad %s = %v; want ErrInvalidOption naming it", name, err)
		}
		if err := SetDefaults(o); !errors.Is(err, ErrInvalidOption) || !strings.Contains(err.Error(), name) {
			t.Errorf("SetDefaults with a bad %s = %v; want ErrInvalidOption naming it", name, err)
		}
	}
	if _, err := New("x.lock", Option{}); !errors.Is(err, ErrInvalidOption) {
		t.Errorf("New with a zero Option = %v, want ErrInvalidOption", err)
	}
	if err := SetDefaults(WithFileMode(0o4644)); !errors.Is(err, ErrInvalidOption) {
		t.Errorf("WithFileMode(setuid) = %v, want ErrInvalidOption", err)
	}
}

func TestDefaults(t *testing.T) {
	want := Defaults{RetryPeriod: 300 * time.Millisecond, RaceDelay: 200 * time.Millisecond, Tries: 2, FileMode: 0o644,
		LeaseMargin: time.Second, CheckInterval: time.Second, CacheTime: DefaultCacheTime}
	if d := envDuration("OPENLOCK_TEST_CACHE_TIME"); d > 0 { // set by TestMain
		want.CacheTime = d
	}
	if diff := cmp.Diff(want, GetDefaults()); diff != "" {
		t.Fatalf("GetDefaults() differs from the seed's (-want +got):\n%s", diff)
	}
	t.Cleanup(func() { SetDefaults(WithTimeout(0), WithTries(2), WithRetryPeriod(300*time.Millisecond)) })
	if err := SetDefaults(WithTimeout(time.Second), WithTries(5)); err != nil {
		t.Fatal(err)
	}
	// All or nothing: a bad option leaves every default as it was.
	if err := SetDefaults(WithRetryPeriod(time.Second), WithTries(-1)); err == nil {
		t.Fatal("SetDefaults accepted WithTries(-1)")
	}
	got := GetDefaults()
	if got.Timeout != time.Second || got.Tries != 5 || got.RetryPeriod != 300*time.Millisecond {
		t.Errorf("GetDefaults() = %+v after SetDefaults; want Timeout 1s, Tries 5, RetryPeriod unchanged", got)
	}
	l := mustNew(t, "x.lock")
	if l.Timeout() != time.Second || l.cfg.Tries != 5 {
		t.Errorf("New did not start from the defaults: %+v", l.cfg.Defaults)
	}
	if l := mustNew(t, "x.lock", WithTimeout(0)); l.Timeout() != 0 {
		t.Errorf("an option did not override the default: Timeout() = %v", l.Timeout())
	}
}

func TestTakeoverString(t *testing.T) {
	for m, s := range map[Takeover]string{Claims: "claims", Fischer: "fischer", Takeover(7): "Takeover(7)"} {
		if m.String() != s {
			t.Errorf("Takeover(%d).String() = %q, want %q", int(m), m.String(), s)
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestCloseWakesQueuedWaiter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.lock")
	holder := mustNew(t, path)
	if err := holder.Lock(lockCtx(t)); err != nil {
		t.Fatal(err)
	}
	queued := make(chan struct{}, 1)
	// queues in-process behind holder, which keeps the lock
	l := mustNew(t, path, withHook(func(step string) {
		if step == string(StepQueued) {
			queued <- struct{}{}
		}
	}))
	done := make(chan error)
	go func() { done <- l.Lock(lockCtx(t)) }()
	select {
	case <-queued:
	case <-time.After(long):
		t.Fatal("Lock never queued behind the holder")
	}
	l.Close()
	select {
	case err := <-done:
		if !errors.Is(err, fs.ErrClosed) {
			t.Errorf("Lock of a FileLock closed while queued = %v, want fs.ErrClosed", err)
		}
	case <-time.After(long):
		t.Fatal("Lock queued behind a holder did not return after Close")
	}
}

// Held follows this FileLock's own acquisitions and releases, and reads no
// file: a lock file removed behind its back still counts as held until
// Unlock reports the loss.
func TestHeld(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.lock")
	l := mustNew(t, path)
	if l.Held() {
		t.Fatal("Held() before any Lock")
	}
	if err := l.Lock(lockCtx(t)); err != nil {
		t.Fatal(err)
	}
	if !l.Held() {
		t.Fatal("Held() false after Lock")
	}
	os.Remove(path)
	if !l.Held() {
		t.Error("Held() read the file system: false once the lock file was removed, before Unlock")
	}
	if err := l.Unlock(); !errors.Is(err, ErrLockLost) || l.Held() {
		t.Errorf("Unlock after the removal = %v, Held() = %v; want ErrLockLost and false", err, l.Held())
	}
	if ok, err := l.TryLock(); !ok || err != nil || !l.Held() {
		t.Fatalf("TryLock = %v, %v, Held() = %v; want true, nil, true", ok, err, l.Held())
	}
	l.Close()
	if l.Held() {
		t.Error("Held() true after Close")
	}
}
