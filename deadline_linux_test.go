package openlock

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Every deadline is kept, whatever the file system answers: a Lock on a
// file system that lies to it returns by its deadline (within a retry
// period), honours cancellation, and sleeps while it waits; a TryLock
// returns at once. Each case is a fake link(2) (withLink) standing for a
// file system seen in the field; the lock runs in a child process, so that
// the CPU it uses while it waits is its own.
//
// The child's settings (roles_test.go's, plus):
//
//	OPENLOCK_TEST_FAKE  the fake link(2): foreign, hidden, hiddenclaim, copy
//	OPENLOCK_TEST_WAIT  how long the Lock waits (its deadline)

func init() {
	roles["deadline"] = role(roleDeadline)
}

// deadlineRetry is the retry period of the child's FileLock.
const deadlineRetry = 100 * time.Millisecond

// A deadlineResult is what the child reports of one call.
type deadlineResult struct {
	Op       string        // trylock, tryrlock, clean; lock and rlock (with a deadline); cancel (cancelled)
	Elapsed  time.Duration // from the call (cancel: from the cancellation) to its return
	CPU      time.Duration // user and system time of the process meanwhile
	Held     bool
	Timeout  bool // errors.Is(err, ErrTimeout) && errors.Is(err, context.DeadlineExceeded)
	Canceled bool // errors.Is(err, context.Canceled)
	NoLinks  bool // errors.Is(err, ErrNoHardLinks)
	Err      string
}

// fakeLinks are the fake link(2)s of the child, each standing for a file
// system that answers a lock so that it cannot tell.
var fakeLinks = map[string]func(lock string) func(oldname, newname string) error{
	// A link that makes a name of another file than its source, for ever
	// (GlusterFS's stale source name): its content is not ours.
	"foreign": func(lock string) func(string, string) error {
		foreign := filepath.Join(filepath.Dir(lock), "foreign")
		return func(_, newname string) error { return os.Link(foreign, newname) }
	},
	// link(2) onto the lock path answers EEXIST, a look at it ENOENT, for
	// ever (a negative entry cache that hides the lock file from lstat).
	"hidden": func(lock string) func(string, string) error {
		return func(oldname, newname string) error {
			if newname == lock {
				return &os.LinkError{Op: "link", Old: oldname, New: newname, Err: syscall.EEXIST}
			}
			return os.Link(oldname, newname)
		}
	},
	// The same on the claims of a stale lock file (which is visible).
	"hiddenclaim": func(lock string) func(string, string) error {
		return func(oldname, newname string) error {
			if strings.HasPrefix(newname, claimName(lock, "")) {
				return &os.LinkError{Op: "link", Old: oldname, New: newname, Err: syscall.EEXIST}
			}
			return os.Link(oldname, newname)
		}
	},
	// A link into the readers' directory answers ENOENT, for ever, while
	// mkdir says it exists (a negative entry cache on the directory).
	"hiddenreaders": func(lock string) func(string, string) error {
		return func(oldname, newname string) error {
			if filepath.Dir(newname) == readersDir(lock) {
				return &os.LinkError{Op: "link", Old: oldname, New: newname, Err: syscall.ENOENT}
			}
			return os.Link(oldname, newname)
		}
	},
	// A link that makes a new file with its source's content, another
	// inode (sshfs: SFTP has no inode numbers).
	"copy": func(string) func(string, string) error {
		return func(oldname, newname string) error {
			b, err := os.ReadFile(oldname)
			if err != nil {
				return err
			}
			f, err := os.OpenFile(newname, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
			if err != nil {
				return &os.LinkError{Op: "link", Old: oldname, New: newname, Err: errors.Unwrap(err)}
			}
			defer f.Close()
			_, err = f.Write(b)
			return err
		}
	},
}

// roleDeadline makes a TryLock, a TryRLock, a Clean, a Lock and an RLock with a deadline of
// OPENLOCK_TEST_WAIT and a Lock cancelled after half of it, through the
// fake link OPENLOCK_TEST_FAKE names, and prints a "result <json>" line
// for each.
func roleDeadline() error {
	lock := os.Getenv("OPENLOCK_TEST_LOCK")
	fake, ok := fakeLinks[os.Getenv("OPENLOCK_TEST_FAKE")]
	if !ok {
		return fmt.Errorf("no fake link %q", os.Getenv("OPENLOCK_TEST_FAKE"))
	}
	wait := envDuration("OPENLOCK_TEST_WAIT")
	l, err := New(lock, WithRetryPeriod(deadlineRetry), withRemote(deadlineRetry), withLink(fake(lock)))
	if err != nil {
		return err
	}
	defer l.Close()
	report := func(op string, from time.Time, cpu0 time.Duration, held bool, err error) {
		r := deadlineResult{Op: op, Elapsed: time.Since(from), CPU: cpuTime() - cpu0, Held: held,
			Timeout:  errors.Is(err, ErrTimeout) && errors.Is(err, context.DeadlineExceeded),
			Canceled: errors.Is(err, context.Canceled), NoLinks: errors.Is(err, ErrNoHardLinks)}
		if err != nil {
			r.Err = err.Error()
		}
		if held {
			l.Unlock()
		}
		b, _ := json.Marshal(r)
		fmt.Printf("result %s\n", b)
	}

	start, cpu := time.Now(), cpuTime()
	held, err := l.TryLock()
	report("trylock", start, cpu, held, err)
	start, cpu = time.Now(), cpuTime()
	held, err = l.TryRLock()
	if held {
		l.RUnlock()
	}
	report("tryrlock", start, cpu, false, err)
	start, cpu = time.Now(), cpuTime()
	_, err = l.Clean(false)
	report("clean", start, cpu, false, err)

	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	start, cpu = time.Now(), cpuTime()
	err = l.Lock(ctx)
	report("lock", start, cpu, err == nil, err)

	ctx, cancel = context.WithTimeout(context.Background(), wait)
	defer cancel()
	start, cpu = time.Now(), cpuTime()
	err = l.RLock(ctx)
	if err == nil {
		l.RUnlock()
	}
	report("rlock", start, cpu, false, err)

	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	var cancelled time.Time
	stop := time.AfterFunc(wait/2, func() { cancelled = time.Now(); cancel() })
	defer stop.Stop()
	start, cpu = time.Now(), cpuTime()
	err = l.Lock(ctx)
	if !cancelled.IsZero() {
		start = cancelled
	}
	report("cancel", start, cpu, err == nil, err)
	return nil
}

// cpuTime is the user and system time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// runDeadline runs the child on a lock in a new directory with the fake
// link named fake (setup, if set, prepares the directory first) and returns
// its results by operation.
func runDeadline(t *testing.T, fake string, wait time.Duration, setup func(lock string)) map[string]deadlineResult {
	t.Helper()
	lock := filepath.Join(t.TempDir(), "x.lock")
	writeRecord(t, filepath.Join(filepath.Dir(lock), "foreign"), hereRecord(os.Getpid(), "1"))
	if setup != nil {
		setup(lock)
	}
	c := startChild(t, "deadline", []string{"OPENLOCK_TEST_LOCK=" + lock, "OPENLOCK_TEST_FAKE=" + fake,
		"OPENLOCK_TEST_WAIT=" + wait.String()})
	out := make(map[string]deadlineResult)
	for range 6 {
		line := c.Expect("result ")
		var r deadlineResult
		if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "result ")), &r); err != nil {
			t.Fatalf("child's %q: %v", line, err)
		}
		t.Logf("%s: %+v", fake, r)
		out[r.Op] = r
	}
	c.Wait()
	return out
}

// The bounds: a retry period past the deadline, plus slack for a loaded
// machine; and a waiting Lock's share of a core.
const (
	deadlineSlack = deadlineRetry + 2*time.Second
	maxCPUShare   = 0.05
)

// checkKept checks that a Lock that could not have the lock kept its
// deadline and its cancellation, and slept while it waited.
func checkKept(t *testing.T, res map[string]deadlineResult, wait time.Duration) {
	t.Helper()
	for _, op := range []string{"lock", "rlock"} {
		if r := res[op]; !r.Timeout || r.Elapsed > wait+deadlineSlack {
			t.Errorf("%s with a deadline of %v: returned after %v with %q; want ErrTimeout and context.DeadlineExceeded within %v",
				op, wait, r.Elapsed, r.Err, wait+deadlineSlack)
		} else if share := float64(r.CPU) / float64(r.Elapsed); share > maxCPUShare {
			t.Errorf("%s used %v of CPU in %v of waiting (%.0f%% of a core); want under %.0f%%",
				op, r.CPU, r.Elapsed, 100*share, 100*maxCPUShare)
		}
	}
	if r := res["cancel"]; !r.Canceled || r.Elapsed > deadlineSlack {
		t.Errorf("Lock cancelled: returned %v after the cancellation with %q; want context.Canceled within %v",
			r.Elapsed, r.Err, deadlineSlack)
	}
	if r := res["trylock"]; r.Held || r.Elapsed > deadlineSlack {
		t.Errorf("TryLock: held %v after %v (%q); want false within %v", r.Held, r.Elapsed, r.Err, deadlineSlack)
	}
	for _, op := range []string{"tryrlock", "clean"} {
		if r := res[op]; r.Elapsed > deadlineSlack {
			t.Errorf("%s: returned after %v (%q); want within %v", op, r.Elapsed, r.Err, deadlineSlack)
		}
	}
}

// A link that makes another file, for ever: Lock keeps its deadline.
func TestDeadlineKeptForeignLinkForEver(t *testing.T) {
	const wait = 2 * time.Second
	res := runDeadline(t, "foreign", wait, nil)
	checkKept(t, res, wait)
	if r := res["trylock"]; r.Err != "" {
		t.Errorf("TryLock: %s; want false, nil (the lock is busy as far as it can tell)", r.Err)
	}
}

// link(2) says the lock file exists, a look says it does not, for ever:
// Lock keeps its deadline.
func TestDeadlineKeptLinkExistsLookNot(t *testing.T) {
	const wait = 2 * time.Second
	checkKept(t, runDeadline(t, "hidden", wait, nil), wait)
}

// The same on the claim of a stale lock file: the takeover's retries
// pause and end.
func TestDeadlineKeptClaimExistsLookNot(t *testing.T) {
	const wait = 2 * time.Second
	res := runDeadline(t, "hiddenclaim", wait, func(lock string) { writeStale(t, lock) })
	checkKept(t, res, wait)
}

// A reader's registration whose link never finds the readers' directory,
// which mkdir says exists: RLock keeps its deadline, and pauses between
// its tries.
func TestDeadlineKeptReadersDirHidden(t *testing.T) {
	const wait = 2 * time.Second
	res := runDeadline(t, "hiddenreaders", wait, nil)
	r := res["rlock"]
	if !r.Timeout || r.Elapsed > wait+deadlineSlack {
		t.Errorf("rlock with a deadline of %v: returned after %v with %q; want ErrTimeout and context.DeadlineExceeded within %v",
			wait, r.Elapsed, r.Err, wait+deadlineSlack)
	} else if share := float64(r.CPU) / float64(r.Elapsed); share > maxCPUShare {
		t.Errorf("rlock used %v of CPU in %v of waiting (%.0f%% of a core); want under %.0f%%",
			r.CPU, r.Elapsed, 100*share, 100*maxCPUShare)
	}
	if r := res["tryrlock"]; r.Err == "" || r.Elapsed > 10*time.Second {
		t.Errorf("tryrlock: returned after %v with %q; want an error within its bound (the cache time plus a few seconds)", r.Elapsed, r.Err)
	}
}

// A link that makes a copy of our token, another inode with our content,
// as sshfs does: the file system cannot hold a lock, and says so at once.
func TestNoHardLinksWhereLinksCopy(t *testing.T) {
	const wait = 2 * time.Second
	var lock string
	res := runDeadline(t, "copy", wait, func(l string) { lock = l })
	for _, op := range []string{"trylock", "tryrlock", "lock", "rlock", "cancel"} {
		r := res[op]
		if !r.NoLinks || r.Elapsed > deadlineSlack || !strings.Contains(r.Err, "another inode") {
			t.Errorf("%s: %q after %v; want ErrNoHardLinks, saying why, within %v", op, r.Err, r.Elapsed, deadlineSlack)
		}
	}
	if _, err := os.Lstat(lock); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the copy at the lock path was left behind (%v)", err)
	}
}

// A file system that answers a link onto an existing name with EPERM
// (sshfs, in races between two mounts) says "busy", not "no hard links":
// only where the name does not exist does EPERM mean that.
func TestLinkEPERMOntoExistingNameIsBusy(t *testing.T) {
	lock := filepath.Join(t.TempDir(), "x.lock")
	eperm := func(oldname, newname string) error {
		if newname == lock {
			return &os.LinkError{Op: "link", Old: oldname, New: newname, Err: syscall.EPERM}
		}
		return os.Link(oldname, newname)
	}
	writeRecord(t, lock, liveRecord(t))
	l := mustNew(t, lock, withLink(eperm))
	if held, err := l.TryLock(); held || err != nil {
		t.Fatalf("TryLock of a lock held by a live process, link answering EPERM: %v, %v; want false, nil", held, err)
	}
	if err := l.Lock(shortCtx(t, 200*time.Millisecond)); !errors.Is(err, ErrTimeout) {
		t.Fatalf("Lock of a lock held by a live process, link answering EPERM: %v; want ErrTimeout", err)
	}

	if err := os.Remove(lock); err != nil {
		t.Fatal(err)
	}
	if held, err := l.TryLock(); held || !errors.Is(err, ErrNoHardLinks) {
		t.Fatalf("TryLock of a free lock, link answering EPERM: %v, %v; want ErrNoHardLinks", held, err)
	}
}

// A claim that link(2) says exists and a look does not find, for ever:
// the takeover tries it again only after a pause, a bounded number of
// times per attempt, and TryLock answers false (a stale lock it cannot
// take yet), not a spin of hundreds of links.
func TestClaimRetriesArePaced(t *testing.T) {
	lock := filepath.Join(t.TempDir(), "x.lock")
	writeStale(t, lock)
	var claims int
	hidden := fakeLinks["hiddenclaim"](lock)
	count := func(oldname, newname string) error {
		if strings.HasPrefix(newname, claimName(lock, "")) {
			claims++
		}
		return hidden(oldname, newname)
	}
	l := mustNew(t, lock, withLink(count))
	if held, err := l.TryLock(); held || err != nil {
		t.Fatalf("TryLock: %v, %v; want false, nil", held, err)
	}
	if claims > pacedRetries+1 {
		t.Errorf("TryLock tried the claim %d times; want at most %d, each retry after a pause", claims, pacedRetries+1)
	}
}
