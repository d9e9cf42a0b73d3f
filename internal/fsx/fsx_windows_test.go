package fsx

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestLocalWindows: the temp directory, on a fixed NTFS drive, is local; a
// share named by UNC path never is.
func TestLocalWindows(t *testing.T) {
	dir := t.TempDir()
	if !Local(dir) {
		t.Errorf("Local(%s) = false; want true (a fixed NTFS or ReFS drive)", dir)
	}
	if Local(`\\server\share\dir`) {
		t.Error(`Local(\\server\share\dir) = true; a network share is never local`)
	}
}

// TestOpenReadSharesDeletion: while our read handle is open, the file can
// be removed, as Unlock must.
func TestOpenReadSharesDeletion(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")
	if err := os.WriteFile(path, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := openRead(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := Remove(path); err != nil {
		t.Errorf("remove of a file we are reading: %v", err)
	}
}

// TestRenameOverOpenFile: while our read handle is open, another file can
// be renamed over it, as a takeover must (POSIX semantics).
func TestRenameOverOpenFile(t *testing.T) {
	if Wine() {
		t.Skip("Wine gap: Wine 8 denies a rename over a file open elsewhere, even with FILE_RENAME_POSIX_SEMANTICS")
	}
	dir := t.TempDir()
	path, claim := filepath.Join(dir, "lock"), filepath.Join(dir, "claim")
	for _, p := range []string{path, claim} {
		if err := os.WriteFile(p, []byte(p), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f, err := openRead(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := Rename(claim, path); err != nil {
		t.Errorf("rename over a file we are reading: %v", err)
	}
}

// TestRemoveRetriesSharingViolation: another handle that shares no
// deletion makes Remove retry; once it is closed, the removal succeeds.
func TestRemoveRetriesSharingViolation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path) // package os shares no deletion
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var seen error
	retried = func(err error) {
		if seen == nil {
			seen = err
			f.Close() // the other reader is done
		}
	}
	defer func() { retried = nil }()
	if err := Remove(path); err != nil {
		t.Fatalf("Remove while another handle was open, then closed: %v", err)
	}
	if seen == nil {
		t.Fatal("Remove did not meet the other handle (nothing retried)")
	}
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after Remove, Lstat = %v; want not exist", err)
	}
}
