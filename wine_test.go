package openlock

import (
	"runtime"
	"testing"

	"github.com/openlock/openlock/internal/fsx"
)

// Under Wine the tests run with file-change notification off (polling
// alone, as for a lock on another machine's file system): a watched
// directory is held open, and Wine's deletes are not POSIX-style, so a
// t.TempDir watched within notifyIdle cannot be removed; and removing a
// watch right after events (fsnotify's Remove) closes handles that other
// code of the process still uses, under Wine.

// wineOptions adds withoutNotify to opts under Wine.
func wineOptions(opts []Option) []Option {
	if fsx.Wine() {
		return append(opts, withoutNotify())
	}
	return opts
}

// needNotify skips t under Wine, where notification is off (wineOptions):
// t relies on being woken by it.
func needNotify(t testing.TB) {
	t.Helper()
	if fsx.Wine() {
		t.Skip("Wine gap: file-change notification is off under Wine (deletes are not POSIX-style, so watched directories cannot be removed), and this test relies on it")
	}
}

// needExitWatch skips t outside Linux and Windows, where a waiter has no
// exit watch on its holder's process (procscan.WatchExit) and notices a
// crash by polling only.
func needExitWatch(t testing.TB) {
	t.Helper()
	if runtime.GOOS != "linux" && runtime.GOOS != "windows" {
		t.Skipf("no exit watch on %s: a holder's crash is noticed by polling only", runtime.GOOS)
	}
}

// needModes skips t on Windows, which has no Unix file modes to check.
func needModes(t testing.TB) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("meaningless on Windows: no Unix file modes (os reports 0666 or 0444)")
	}
}
