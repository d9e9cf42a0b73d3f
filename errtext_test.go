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

// Error messages read as one sentence each: "openlock:" once, no phrase said
// twice, and the lock path named.
func checkText(t *testing.T, what string, err error, path string, wantIn ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error", what)
	}
	msg := err.Error()
	if n := strings.Count(msg, "openlock:"); n != 1 {
		t.Errorf("%s: %q says openlock: %d times; want once", what, msg, n)
	}
	for _, phrase := range []string{"lock lost", "the lock file was", "invalid option", "lock file is empty"} {
		if strings.Count(msg, phrase) > 1 {
			t.Errorf("%s: %q says %q twice", what, msg, phrase)
		}
	}
	if path != "" && !strings.Contains(msg, path) {
		t.Errorf("%s: %q does not name %s", what, msg, path)
	}
	for _, s := range wantIn {
		if !strings.Contains(msg, s) {
			t.Errorf("%s: %q does not say %q", what, msg, s)
		}
	}
}

func TestOptionErrorText(t *testing.T) {
	_, err := New("x.lock", WithTimeout(-time.Second))
	checkText(t, "New with a bad option", err, "x.lock", "WithTimeout(-1s): must not be negative")
	if !errors.Is(err, ErrInvalidOption) {
		t.Errorf("New with a bad option = %v, want ErrInvalidOption", err)
	}
	_, err = New("x.lock", Option{})
	checkText(t, "New with a zero Option", err, "x.lock", "zero Option")
	err = SetDefaults(WithRetryPeriod(0))
	checkText(t, "SetDefaults with a bad option", err, "", "SetDefaults", "WithRetryPeriod(0s)")
}

// An error from a method that another calls (Clean calls TryLock and
// Unlock) keeps one prefix.
func TestWrapOnce(t *testing.T) {
	err := wrap("clean", "x.lock", wrap("unlock", "x.lock", errRemoved))
	checkText(t, "an *Error wrapped again", err, "x.lock", "unlock", "lock lost: the lock file was removed")
	if !errors.Is(err, ErrLockLost) {
		t.Errorf("%v is not ErrLockLost", err)
	}
}

func TestLockLostText(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.lock")
	l := mustNew(t, path)
	if err := l.Lock(lockCtx(t)); err != nil {
		t.Fatal(err)
	}
	os.Remove(path)
	checkText(t, "Unlock of a removed lock file", l.Unlock(), path, "lock lost: the lock file was removed")
}

// The cause of a LockContext's context names the lock it lost.
func TestLockContextCauseNamesPath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.lock")
	l := mustNew(t, path, WithCheckInterval(5*time.Millisecond))
	held, err := l.LockContext(lockCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(path)
	select {
	case <-held.Done():
	case <-time.After(long):
		t.Fatal("the context did not end after the lock file was removed")
	}
	cause := context.Cause(held)
	checkText(t, "LockContext's cause", cause, path, "lock lost: the lock file was removed")
	var e *Error
	if !errors.As(cause, &e) || e.Op != "lockcontext" || !errors.Is(cause, ErrLockLost) {
		t.Errorf("cause %v (%#v): want an *Error of op lockcontext wrapping ErrLockLost", cause, e)
	}
}

// Owner of an empty lock file says so in its own words, not in Fischer
// mode's.
func TestOwnerOfEmptyLockFileText(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.lock")
	os.WriteFile(path, nil, 0o644)
	_, _, err := mustNew(t, path).Owner()
	checkText(t, "Owner of an empty lock file", err, path, "invalid lock file: it is empty and names no holder")
	if strings.Contains(err.Error(), "tries") || strings.Contains(err.Error(), "obtain") {
		t.Errorf("Owner of an empty lock file: %q speaks of Fischer mode's tries", err)
	}
}

// A lock file of NUL bytes (as a crash may leave a file whose data was
// never written) is said to be one, not a record cut short.
func TestNULLockFileText(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.lock")
	os.WriteFile(path, make([]byte, 64), 0o644)
	_, err := mustNew(t, path).TryLock()
	checkText(t, "TryLock of a file of NUL bytes", err, path, "all 64 bytes are NUL", "not a lock file")
	if strings.Contains(err.Error(), "torn write") || !errors.Is(err, ErrNotLockFile) {
		t.Errorf("TryLock of a file of NUL bytes = %v; want ErrNotLockFile that does not guess a torn write", err)
	}
}

// A Lock that gives up on a holder no record describes (a lock file this
// user may not read, a read cut short) says what is known in one clause,
// never "held by" before a sentence.
func TestGaveUpOnUnjudgedHolderText(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.lock")
	l := mustNew(t, path)
	ctx, cancel := context.WithDeadline(context.Background(), time.Now())
	defer cancel()
	<-ctx.Done()
	for _, h := range []*holder{
		unreadable(path, unreadableError(path, os.ErrPermission)),
		cutShort(path, time.Now()),
	} {
		err := l.gaveUp(ctx, time.Now(), h)
		checkText(t, "Lock giving up on "+h.res.Reason, err, path, "timed out waiting for the lock")
		if msg := err.Error(); strings.Contains(msg, "held by a holder") || strings.Contains(msg, "held by "+path) {
			t.Errorf("Lock giving up: %q says \"held by\" before a sentence", msg)
		}
	}
}
