//go:build unix

package fsx

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

func TestReadSmall(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small")
	os.WriteFile(small, []byte("hello\n"), 0o644)
	b, fi, err := ReadSmall(small, 16)
	if err != nil || string(b) != "hello\n" || fi.Size() != 6 {
		t.Fatalf("ReadSmall(small) = %q, %v, %v", b, fi, err)
	}
	big := filepath.Join(dir, "big")
	os.WriteFile(big, bytes.Repeat([]byte("x"), 17), 0o644)
	if _, _, err := ReadSmall(big, 16); !errors.Is(err, ErrTooLarge) {
		t.Errorf("ReadSmall(17 bytes, max 16) = %v, want ErrTooLarge", err)
	}
	link := filepath.Join(dir, "link")
	os.Symlink(small, link)
	if _, _, err := ReadSmall(link, 16); !errors.Is(err, ErrNotRegular) {
		t.Errorf("ReadSmall(symlink) = %v, want ErrNotRegular", err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err == nil {
		if _, _, err := ReadSmall(fifo, 16); !errors.Is(err, ErrNotRegular) {
			t.Errorf("ReadSmall(FIFO) = %v, want ErrNotRegular", err)
		}
	}
	if _, _, err := ReadSmall(dir, 16); !errors.Is(err, ErrNotRegular) {
		t.Errorf("ReadSmall(directory) = %v, want ErrNotRegular", err)
	}
	if _, _, err := ReadSmall(filepath.Join(dir, "none"), 16); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ReadSmall(missing) = %v, want ErrNotExist", err)
	}
}

func TestNowAndTouch(t *testing.T) {
	f := filepath.Join(t.TempDir(), "f")
	os.WriteFile(f, nil, 0o644)
	past := time.Now().Add(-time.Hour)
	os.Chtimes(f, past, past)
	now, err := Now(f)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(now); d < -time.Minute || d > time.Minute {
		t.Errorf("Now = %v, not about now", now)
	}
	fi, _ := os.Stat(f)
	if fi.ModTime().Before(past.Add(time.Minute)) {
		t.Errorf("Touch left the modification time at %v", fi.ModTime())
	}
}

func TestKeyDiffersPerFile(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	os.WriteFile(a, nil, 0o644)
	os.WriteFile(b, nil, 0o644)
	fa, _ := os.Stat(a)
	fb, _ := os.Stat(b)
	if Key(fa) == Key(fb) {
		t.Errorf("two files share the key %q", Key(fa))
	}
	os.Link(a, filepath.Join(dir, "c"))
	fc, _ := os.Stat(filepath.Join(dir, "c"))
	if Key(fa) != Key(fc) {
		t.Errorf("two links of one file have keys %q and %q", Key(fa), Key(fc))
	}
}

func TestLocal(t *testing.T) {
	if !Local(t.TempDir()) {
		t.Skip("the temp directory is not on a known local file system here")
	}
	if Local("/proc") {
		t.Error("/proc counted as a local disk file system")
	}
}
