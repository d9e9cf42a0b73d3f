package openlock

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/openlock/openlock/internal/fsx"
	"github.com/openlock/openlock/internal/testfs"
	"github.com/openlock/openlock/procscan"
)

// A holder in another PID namespace (a container sharing the lock
// directory), with and without its own hostname, is never taken over: from
// here its PID means nothing, so the verdict is unknown, which is held.
func TestHolderInOtherPIDNamespace(t *testing.T) {
	unshare := requireUnshare(t)
	for _, tt := range []struct {
		name, hostname, reason string
	}{
		{"same hostname", "", "PID namespace"},
		{"own hostname", "container-7", `host "container-7"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			paths := lockPaths(testfs.SharedDirs(t))
			path := paths[len(paths)-1] // the holder's host reaches the lock through paths[0]
			env := []string{"OPENLOCK_TEST_LOCK=" + paths[0]}
			if tt.hostname != "" {
				env = append(env, "OPENLOCK_TEST_HOSTNAME="+tt.hostname)
			}
			h := startChild(t, "hold", env, unshare, "--pid", "--uts", "--fork", "--mount-proc", "--kill-child")
			if line := h.Expect("held"); line != "held 1" {
				t.Fatalf("child says %q; want pid 1 of its own namespace", line)
			}
			l := mustNew(t, path)
			if ok, err := l.TryLock(); ok || err != nil {
				t.Fatalf("TryLock while a holder in another namespace lives = %v, %v; want false", ok, err)
			}
			o, ok, err := l.Owner()
			if !ok || err != nil || o.Verdict != procscan.Unknown || !strings.Contains(o.Reason, tt.reason) {
				t.Errorf("Owner() = %+v, %v, %v; want unknown because of the %s", o, ok, err, tt.reason)
			}
			if err := l.Lock(shortCtx(t, 100*time.Millisecond)); !errors.Is(err, ErrTimeout) {
				t.Errorf("Lock = %v, want ErrTimeout", err)
			}
			// Even pid 1 of this namespace, which lives, does not fool us.
			if r := readRecord(t, path); r.PID != 1 {
				t.Errorf("record names pid %d, want 1", r.PID)
			}
			h.Send("release")
			h.Expect("released")
			// Lock, not TryLock: through another client of a network file
			// system, the release is seen once that client's cache expires.
			if err := l.Lock(lockCtx(t)); err != nil {
				t.Errorf("Lock after the other namespace released: %v", err)
			}
		})
	}
}

// A namespaced holder that dies leaves a lock nobody here can prove stale:
// it stays held (leases are the cure). This documents the limit.
func TestDeadHolderInOtherPIDNamespaceStaysHeld(t *testing.T) {
	unshare := requireUnshare(t)
	paths := lockPaths(testfs.SharedDirs(t))
	h := startChild(t, "hold", []string{"OPENLOCK_TEST_LOCK=" + paths[0]}, unshare, "--pid", "--fork", "--mount-proc", "--kill-child=SIGKILL")
	h.Expect("held")
	h.Kill() // unshare dies, and with --kill-child the kernel kills the holder; h.kill waits for both
	if ok, err := mustNew(t, paths[len(paths)-1]).TryLock(); ok || err != nil {
		t.Errorf("TryLock on a dead holder from another namespace = %v, %v; want false (cannot be proven dead)", ok, err)
	}
}

// A leased holder in another PID and UTS namespace (a container) is
// respected while it refreshes, and stale once it is killed and its lease
// runs out, for a waiter that has no lease of its own (mixed use).
func TestLeaseExpiresAfterNamespacedHolderDies(t *testing.T) {
	unshare := requireUnshare(t)
	paths := lockPaths(testfs.SharedDirs(t))
	path := paths[len(paths)-1]
	const lease = 3 * time.Second
	h := startChild(t, "hold", []string{"OPENLOCK_TEST_LOCK=" + paths[0], "OPENLOCK_TEST_LEASE=" + lease.String(),
		"OPENLOCK_TEST_HOSTNAME=container-9"}, unshare, "--pid", "--uts", "--fork", "--mount-proc", "--kill-child=SIGKILL")
	h.Expect("held")
	l := mustNew(t, path) // no lease of its own
	if ok, err := l.TryLock(); ok || err != nil {
		t.Fatalf("TryLock while the leased holder lives = %v, %v; want false", ok, err)
	}
	// It refreshes: wait for the lock file's change time to move, then it
	// is still held.
	first := changeTime(t, path)
	for deadline := time.Now().Add(long); !changeTime(t, path).After(first); {
		if time.Now().After(deadline) {
			t.Fatal("the leased holder never refreshed its lock file")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if ok, err := l.TryLock(); ok || err != nil {
		t.Fatalf("TryLock after a refresh = %v, %v; want false", ok, err)
	}
	h.Kill()
	ctx, cancel := context.WithTimeout(context.Background(), long)
	defer cancel()
	if err := l.Lock(ctx); err != nil {
		t.Fatalf("Lock after the leased holder died: %v", err)
	}
	if r := readRecord(t, path); r.PID != os.Getpid() {
		t.Errorf("lock holds pid %d, want ours", r.PID)
	}
}

// A host, simulated: a process tree in its own PID and UTS namespaces, on
// its own mount of the volume where OPENLOCK_TEST_DIRS names two. Its leased
// holder is stopped (SIGSTOP), as a machine that hangs: a waiter here takes
// the lock only once the lease has run out since the holder's last refresh,
// and the holder, resumed, learns the loss through LockContext and removes
// nothing at Unlock.
func TestPausedLeasedHolderOnOtherHost(t *testing.T) {
	unshare := requireUnshare(t)
	paths := lockPaths(testfs.SharedDirs(t))
	const lease = 2 * time.Second
	h := startChild(t, "leasehold", []string{"OPENLOCK_TEST_LOCK=" + paths[0], "OPENLOCK_TEST_LEASE=" + lease.String(),
		"OPENLOCK_TEST_HOSTNAME=host-b"}, unshare, "--pid", "--uts", "--fork", "--mount-proc", "--kill-child=SIGKILL")
	h.Expect("held")
	holder := onlyChild(t, h.PID()) // its PID here, outside its namespace
	l := mustNew(t, paths[len(paths)-1])
	if ok, err := l.TryLock(); ok || err != nil {
		t.Fatalf("TryLock while the leased holder on the other host lives = %v, %v; want false", ok, err)
	}
	if err := syscall.Kill(holder, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	waitState(t, holder, 'T')
	lastRefresh, err := fsx.FreshChangeTime(paths[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Lock(lockCtx(t)); err != nil {
		t.Fatalf("Lock while the leased holder is stopped: %v", err)
	}
	if took := time.Now(); took.Before(lastRefresh.Add(lease)) {
		t.Errorf("took the lock %v after the stopped holder's last refresh, within its lease of %v",
			took.Sub(lastRefresh), lease)
	}
	syscall.Kill(holder, syscall.SIGCONT)
	if lost := h.Expect("lost"); !strings.Contains(lost, ErrLockLost.Error()) {
		t.Errorf("the resumed holder says %q; want its context to end with ErrLockLost", lost)
	}
	if un := h.Expect("unlocked"); !strings.Contains(un, ErrLockLost.Error()) {
		t.Errorf("the resumed holder's Unlock says %q; want ErrLockLost", un)
	}
	if err := l.Unlock(); err != nil {
		t.Errorf("Unlock of the lock taken from the stopped holder = %v; the former holder removed it", err)
	}
}

// onlyChild returns the PID of the one child of pid (unshare's holder).
func onlyChild(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	if err != nil {
		t.Fatal(err)
	}
	fields := strings.Fields(string(b))
	if len(fields) != 1 {
		t.Fatalf("pid %d has children %q; want one", pid, fields)
	}
	child, err := strconv.Atoi(fields[0])
	if err != nil {
		t.Fatal(err)
	}
	return child
}

// waitState waits until every thread of the process is in the given state
// (/proc/PID/task/TID/stat field 3), such as 'T' once a SIGSTOP has taken
// effect: kill(2) returns before the stop does, and a thread woken in the
// meantime (a waiter by a release) may still run.
func waitState(t *testing.T, pid int, state byte) {
	t.Helper()
	for deadline := time.Now().Add(long); ; time.Sleep(time.Millisecond) {
		stats, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/stat", pid))
		if err != nil || len(stats) == 0 {
			t.Fatalf("the threads of pid %d: %v", pid, err)
		}
		all, last := true, ""
		for _, stat := range stats {
			b, err := os.ReadFile(stat)
			if err != nil {
				all = false // a thread that just exited: look again
				continue
			}
			if i := strings.LastIndexByte(string(b), ')'); i <= 0 || i+2 >= len(b) || b[i+2] != state {
				all, last = false, string(b)
			}
		}
		if all {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("pid %d never reached state %c in every thread: %s", pid, state, last)
		}
	}
}

// In a PID namespace whose /proc is another namespace's, /proc/N is not the
// namespace's process N: nothing but this process itself can be judged, so
// the verdict on others is unknown (held), never dead.
func TestForeignProcIsNotTrusted(t *testing.T) {
	unshare := requireUnshare(t)
	c := startChild(t, "procview", nil, unshare, "--pid", "--fork", "--kill-child")
	if got := c.Expect("self"); got != "self alive" {
		t.Errorf("own record judged %q; want alive", got)
	}
	if got := c.Expect("other"); got != "other unknown" {
		t.Errorf("another pid's record judged %q; want unknown (not dead)", got)
	}
	// With a /proc of its own, the same check is certain.
	c = startChild(t, "procview", nil, unshare, "--pid", "--fork", "--mount-proc", "--kill-child")
	c.Expect("self alive")
	if got := c.Expect("other"); got != "other dead" {
		t.Errorf("with its own /proc, a pid that does not exist judged %q; want dead", got)
	}
}

// requireUnshare returns the path of unshare(1), or skips with the reason
// the namespace tests cannot run here.
func requireUnshare(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("namespace tests need root (CI runs them as root)")
	}
	bin, err := exec.LookPath("unshare")
	if err != nil {
		t.Skip("unshare(1) not found (util-linux)")
	}
	if out, err := exec.Command(bin, "--pid", "--uts", "--fork", "--mount-proc", "--kill-child", "true").CombinedOutput(); err != nil {
		t.Skipf("unshare --pid --uts --fork --mount-proc --kill-child does not work here: %v: %s", err, out)
	}
	return bin
}
