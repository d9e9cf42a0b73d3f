package openlock

import (
	"os"
	"testing"
	"time"

	"github.com/openlock/openlock/internal/testfs"
)

// A reader on another "host" (its own PID and UTS namespaces) cannot be
// checked from here: while it lives and refreshes its lease it keeps
// writers out, even past its lease; killed, it keeps them out only until its
// lease runs out. Without a lease, a dead reader there is never judged
// dead: the lock stays held, as for an exclusive holder.
func TestReaderOnOtherHost(t *testing.T) {
	unshare := requireUnshare(t)
	paths := lockPaths(testfs.SharedDirs(t))
	path := paths[len(paths)-1]
	const lease = 2 * time.Second
	r := startChild(t, "rhold", []string{"OPENLOCK_TEST_LOCK=" + paths[0], "OPENLOCK_TEST_LEASE=" + lease.String(),
		"OPENLOCK_TEST_HOSTNAME=reader-host"}, unshare, "--pid", "--uts", "--fork", "--mount-proc", "--kill-child=SIGKILL")
	r.Expect("held")
	w := mustNew(t, path)
	readers, err := w.Readers()
	if err != nil || len(readers) != 1 {
		t.Fatalf("Readers() = %v, %v; want the one on the other host", readers, err)
	}
	reg := readersDir(path) + "/" + readers[0].Record.Nonce + ".reader"
	// Past its lease and margin, it still holds: it refreshes.
	for end := time.Now().Add(lease + w.cfg.LeaseMargin + time.Second); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		if ok, err := w.TryLock(); ok || err != nil {
			t.Fatalf("TryLock while the leased reader on another host lives = %v, %v; want false", ok, err)
		}
	}
	if _, err := os.Lstat(reg); err != nil {
		t.Fatalf("the live reader's registration: %v", err)
	}
	r.Kill()
	if err := w.Lock(lockCtx(t)); err != nil {
		t.Fatalf("Lock after the leased reader died: %v", err)
	}
	if _, err := os.Lstat(reg); !isNotExist(err) {
		t.Errorf("the dead reader's registration is still there (%v)", err)
	}
	w.Unlock()

	// Without a lease: unknown for ever.
	r = startChild(t, "rhold", []string{"OPENLOCK_TEST_LOCK=" + paths[0]}, unshare, "--pid", "--fork", "--mount-proc", "--kill-child=SIGKILL")
	r.Expect("held")
	r.Kill()
	if err := w.Lock(shortCtx(t, lease+w.cfg.LeaseMargin+time.Second)); err == nil {
		t.Fatal("Lock got in past a dead reader in another PID namespace without a lease; it cannot be judged from here")
	}
	if n, err := w.Clean(false); err != nil || len(n) != 0 {
		t.Fatalf("Clean of an unknown reader = %q, %v; want nothing removed", n, err)
	}
	os.RemoveAll(readersDir(path)) // an operator's decision
}
