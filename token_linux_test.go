package openlock

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
)

// A directory that exists but refuses new files with ENOENT (/proc does) is
// not reported as missing. Found by trying "openlock run /proc/x.lock true",
// which said "lock directory /proc does not exist".
func TestLockDirectoryExistsButRefusesFiles(t *testing.T) {
	err := mustNew(t, "/proc/openlock-test.lock").Lock(lockCtx(t))
	if !errors.Is(err, fs.ErrNotExist) || strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("Lock in /proc = %v; want the ENOENT of the create, without claiming /proc does not exist", err)
	}
}
