package openlock

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// No helper name adds more to the lock's base name than longestSuffix, on
// which MaxNameLen rests.
func TestHelperNamesFit(t *testing.T) {
	nonce := strings.Repeat("f", 2*nonceBytes)
	for _, name := range []string{tokenName("", nonce), tmpName("", nonce), claimName("", nonce),
		afterName("", nonce), nextName(""), fenceName(""), readersDir("")} {
		if len(name) > longestSuffix {
			t.Errorf("helper suffix %q has %d bytes, more than longestSuffix, %d", name, len(name), longestSuffix)
		}
	}
}

// A lock whose base name has MaxNameLen bytes works, helper files and all
// (a token, the shared lock's directory, a claim on a stale lock); one a
// byte longer is refused at New, with the limit in the message, instead of
// failing at the first helper file with "file name too long".
func TestLongNames(t *testing.T) {
	dir := t.TempDir()
	atLimit := filepath.Join(dir, strings.Repeat("a", MaxNameLen-len(".lock"))+".lock")
	l := mustNew(t, atLimit)
	if err := l.Lock(t.Context()); err != nil {
		t.Fatalf("Lock of a name of %d bytes: %v", MaxNameLen, err)
	}
	if err := l.Unlock(); err != nil {
		t.Fatalf("Unlock of a name of %d bytes: %v", MaxNameLen, err)
	}
	if err := l.RLock(t.Context()); err != nil {
		t.Fatalf("RLock of a name of %d bytes: %v", MaxNameLen, err)
	}
	if err := l.RUnlock(); err != nil {
		t.Fatalf("RUnlock of a name of %d bytes: %v", MaxNameLen, err)
	}
	// A stale lock file: the takeover makes a claim, .break.<id>.
	if err := os.WriteFile(atLimit, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if ok, err := l.TryLock(); !ok || err != nil {
		t.Fatalf("TryLock of a stale lock of %d bytes = %v, %v; want it taken over", MaxNameLen, ok, err)
	}
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}
	l.Close()

	over := filepath.Join(dir, strings.Repeat("b", MaxNameLen+1-len(".lock"))+".lock")
	_, err := New(over)
	checkText(t, "New of a name one byte too long", err, over,
		"base name has "+strconv.Itoa(MaxNameLen+1)+" bytes", "at most "+strconv.Itoa(MaxNameLen)+" bytes")
	if !errors.Is(err, ErrNameTooLong) {
		t.Errorf("New of a name of %d bytes = %v; want ErrNameTooLong", MaxNameLen+1, err)
	}
	if names, _ := os.ReadDir(dir); len(names) != 0 {
		t.Errorf("the directory holds %d files after the lock was closed; want none", len(names))
	}
}
