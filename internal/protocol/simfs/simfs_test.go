package simfs

import (
	"errors"
	"io/fs"
	"testing"
	"time"
)

// TestCacheAnswersStaleWithinCacheTime: a client answers a lookup, the
// attributes and the content from what it cached, positive or negative,
// until its cache time has passed; then from the server.
func TestCacheAnswersStaleWithinCacheTime(t *testing.T) {
	clock := NewClock()
	srv := NewServer(clock)
	a, b := NewClient(srv, 0), NewClient(srv, time.Second)
	if err := srv.Create("x", []byte("old\n")); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Lstat("y"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("lstat y: %v, want ENOENT", err)
	}
	old, _, err := b.ReadSmall("x")
	if err != nil || string(old) != "old\n" {
		t.Fatalf("read x: %q, %v", old, err)
	}
	oldInfo, _ := b.Lstat("x")
	// Another client replaces x and creates y.
	if err := srv.Create("new", []byte("new\n")); err != nil {
		t.Fatal(err)
	}
	if err := a.Rename("new", "x"); err != nil {
		t.Fatal(err)
	}
	if err := srv.Create("y", nil); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Second - time.Nanosecond)
	if data, fi, _ := b.ReadSmall("x"); string(data) != "old\n" || !b.SameFile(fi, oldInfo) {
		t.Errorf("within the cache time, b read %q of another inode; want the cached old file", data)
	}
	if _, err := b.Lstat("y"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("within the cache time, b found y (%v); want the cached negative entry", err)
	}
	if data, _, _ := a.ReadSmall("x"); string(data) != "new\n" {
		t.Errorf("a, without cache, read %q; want the new file", data)
	}
	clock.Advance(time.Nanosecond)
	if data, fi, _ := b.ReadSmall("x"); string(data) != "new\n" || b.SameFile(fi, oldInfo) {
		t.Errorf("after the cache time, b read %q; want the new file", data)
	}
	if _, err := b.Lstat("y"); err != nil {
		t.Errorf("after the cache time, lstat y: %v", err)
	}
}

// TestServerDecidesLinkAndRename: link onto an existing name fails
// whatever the client cached; a rename replaces the name in one step and
// changes the change time.
func TestServerDecidesLinkAndRename(t *testing.T) {
	clock := NewClock()
	srv := NewServer(clock)
	a, b := NewClient(srv, time.Second), NewClient(srv, time.Second)
	if err := srv.Create("tok", []byte("t\n")); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Lstat("lock"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	if err := a.Link("tok", "lock"); err != nil {
		t.Fatal(err)
	}
	if err := b.Link("tok", "lock"); !errors.Is(err, fs.ErrExist) {
		t.Errorf("b's link onto a taken name, cached as absent: %v, want EEXIST from the server", err)
	}
	before, _ := a.Lstat("lock")
	clock.Advance(time.Millisecond)
	if err := a.Link("tok", "claim"); err != nil {
		t.Fatal(err)
	}
	if err := a.Rename("claim", "lock"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Lstat("claim"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("claim after its rename: %v, want ENOENT", err)
	}
	after, _ := a.Lstat("lock")
	if !a.ChangeTime(after).After(a.ChangeTime(before)) {
		t.Errorf("change time %v after a rename, was %v: want later", a.ChangeTime(after), a.ChangeTime(before))
	}
}
