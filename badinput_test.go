package openlock

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openlock/openlock/fileformat"
	"github.com/openlock/openlock/procscan"
)

// Bad input, one test per kind: a missing directory, an empty lock file, a
// user's data file, a hostile nonce, dead, reused and live holders, a holder
// on another host, and one whose liveness cannot be checked.

func TestMissingDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no", "such", "dir", "a.lock")
	l := mustNew(t, path)
	err := l.Lock(lockCtx(t))
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), filepath.Dir(path)) {
		t.Fatalf("Lock in a missing directory = %v; want fs.ErrNotExist naming %s", err, filepath.Dir(path))
	}
	if ok, err := l.TryLock(); ok || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("TryLock in a missing directory = %v, %v; want fs.ErrNotExist", ok, err)
	}
}

func TestEmptyLockFileIsTakenOver(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.lock")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	l := mustNew(t, path)
	if locked, err := l.Locked(); locked || err != nil {
		t.Errorf("Locked() on an empty file = %v, %v; want false (stale)", locked, err)
	}
	if ok, err := l.TryLock(); !ok || err != nil {
		t.Fatalf("TryLock on an empty file = %v, %v; want true", ok, err)
	}
	if r := readRecord(t, path); r.Nonce != l.tok.nonce {
		t.Errorf("lock file after takeover holds %+v, not ours", r)
	}
	l.Close()
	if names := dirNames(t, dir); len(names) != 0 {
		t.Errorf("directory holds %q after Close", names)
	}
}

// A file at the lock path that holds anything but a lock record may be a
// user's data (gofrs/flock users lock the data file itself): it is refused,
// whatever its size, and never overwritten or removed.
func TestDataFileIsNeverTakenOver(t *testing.T) {
	dead := strconv.Itoa(deadPID(t)) // a PID whose record would be stale
	for name, content := range map[string]string{
		"report":                     "2024\nQuarterly report\nrevenue 10\ncosts 5\n",
		"pid 1 and more":             "1\nsystemd\nextra\n",
		"dead pid, name, notes":      dead + "\nworker\nnotes\n",
		"dead pid, name, blank line": dead + "\nworker\n\n",
		"dead pid, name, key=value":  dead + "\nworker\nhost=x\n",
		"our record, then prose":     dead + "\nworker\nopenlock=1\nnonce=ab\nsee the wiki\n",
		"CRLF seed record":           dead + "\r\nworker\r\n",
		"json":                       `{"port": 8080}` + "\n",
		"newline":                    "\n",
		"text":                       "not a lock file at all",
		"binary":                     "\x00\x01\x02\xff",
		"torn record":                "1234\nwork",
		"pid zero":                   "0\nworker\n",
		"dup key":                    "1\nn\nopenlock=1\nhost=a\nhost=a\n",
		"near max size":              strings.Repeat("z", fileformat.MaxSize),
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "config.json")
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			before := snapshot(t, path)
			l := mustNew(t, path)
			err := l.Lock(lockCtx(t))
			if !errors.Is(err, ErrNotLockFile) {
				t.Fatalf("Lock on a data file = %v; want ErrNotLockFile", err)
			}
			for _, want := range []string{path, "left untouched", "lock another path", "config.json.lock"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("Lock's error %q does not say %q", err, want)
				}
			}
			if ok, err := l.TryLock(); ok || !errors.Is(err, ErrNotLockFile) {
				t.Errorf("TryLock on a data file = %v, %v; want ErrNotLockFile", ok, err)
			}
			if _, err := l.Locked(); !errors.Is(err, ErrNotLockFile) {
				t.Errorf("Locked() on a data file = %v; want ErrNotLockFile", err)
			}
			if _, _, err := l.Owner(); !errors.Is(err, ErrNotLockFile) {
				t.Errorf("Owner() on a data file = %v; want ErrNotLockFile", err)
			}
			if err := l.Unlock(); !errors.Is(err, ErrNotHeld) {
				t.Errorf("Unlock after a refused Lock = %v; want ErrNotHeld", err)
			}
			if got, err := l.Clean(false); !errors.Is(err, ErrNotLockFile) || len(got) != 0 {
				t.Errorf("Clean on a data file = %q, %v; want nothing removed, ErrNotLockFile", got, err)
			}
			l.Close()
			if after := snapshot(t, path); after != before {
				t.Errorf("data file changed: before %q, after %q", before, after)
			}
			if names := dirNames(t, dir); len(names) != 1 {
				t.Errorf("directory holds %q; want only the data file", names)
			}
		})
	}
}

// On a file system that may cache, a lock file whose record ends without
// its newline may be this client's cut of a file replaced under the same
// name (reads through bindfs came back so): it counts as held, and is read
// again at each look, until the cache time has passed since the first such
// read; only then is it refused as a data file, as on a local file system
// at once. Whole, the same record (a dead holder's) would be taken over.
func TestCutRecordIsHeldForACacheTime(t *testing.T) {
	const cacheTime = 200 * time.Millisecond
	path := filepath.Join(t.TempDir(), "a.lock")
	b, err := fileformat.Marshal(hereRecord(deadPID(t), "12345"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b[:len(b)-1], 0o644); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, path)
	l := mustNew(t, path, withRemote(cacheTime))
	first := time.Now()
	if ok, err := l.TryLock(); ok || err != nil {
		t.Fatalf("TryLock on a cut record = %v, %v; want false, nil (held while the client may cut reads)", ok, err)
	}
	if o, ok, err := l.Owner(); err != nil || !ok || !strings.Contains(o.Reason, "cut short") {
		t.Errorf("Owner() = %+v, %v, %v; want a holder read cut short", o, ok, err)
	}
	deadline := time.Now().Add(long)
	for {
		ok, err := l.TryLock()
		if errors.Is(err, ErrNotLockFile) {
			break
		}
		if ok || err != nil || time.Now().After(deadline) {
			t.Fatalf("TryLock %v after the first = %v, %v; want false, nil, then ErrNotLockFile", time.Since(first), ok, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if d := time.Since(first); d < cacheTime {
		t.Errorf("refused %v after the first cut read; want the cache time (%v) first", d, cacheTime)
	}
	l.Close()
	if after := snapshot(t, path); after != before {
		t.Errorf("the file changed: before %q, after %q", before, after)
	}
}

func TestHostileNonceIsNotAFileName(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "a.lock")
	os.Mkdir(filepath.Dir(path), 0o755)
	r := hereRecord(deadPID(t), "1")
	r.Nonce = "../../escaped"
	writeRecord(t, path, r)
	if ok, err := mustNew(t, path).TryLock(); !ok || err != nil {
		t.Fatalf("TryLock on a dead holder with a hostile nonce = %v, %v; want true", ok, err)
	}
	if names := dirNames(t, dir); len(names) != 1 || names[0] != "sub" {
		t.Errorf("files appeared outside the lock directory: %q", names)
	}
}

func TestOwnerOfEmptyLockFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.lock")
	os.WriteFile(path, nil, 0o644)
	_, ok, err := mustNew(t, path).Owner()
	if ok || !errors.Is(err, ErrInvalidLockFile) || !strings.Contains(err.Error(), "empty") {
		t.Errorf("Owner() of an empty lock file = %v, %v; want ErrInvalidLockFile saying it is empty", ok, err)
	}
}

func TestDeadHolderIsTakenOver(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.lock")
	dead := writeStale(t, path)
	l := mustNew(t, path)
	o, ok, err := l.Owner()
	if !ok || err != nil || o.PID != dead.PID || o.Verdict != procscan.Dead {
		t.Errorf("Owner() of a dead holder's lock = %+v, %v, %v; want pid %d, dead", o, ok, err, dead.PID)
	}
	if locked, _ := l.Locked(); locked {
		t.Error("Locked() = true for a dead holder's lock")
	}
	if ok, err := l.TryLock(); !ok || err != nil {
		t.Fatalf("TryLock on a dead holder's lock = %v, %v; want true", ok, err)
	}
	if r := readRecord(t, path); r.Nonce != l.tok.nonce {
		t.Errorf("lock file holds %+v after takeover, not ours", r)
	}
}

// The seed's own record of a dead process is taken over: exactly two lines,
// its PID and its argv[0] (the stem since 1.1, the raw argv[0] before).
func TestSeedRecordOfDeadProcessIsTakenOver(t *testing.T) {
	dead := strconv.Itoa(deadPID(t))
	for name, content := range map[string]string{
		"stem":          dead + "\nworker\n",
		"raw argv[0]":   dead + "\n/home/u/my work/worker.py\n",
		"Windows argv0": dead + "\nC:\\fishtest\\worker.py\n",
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "a.lock")
			if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			l := mustNew(t, path)
			if ok, err := l.TryLock(); !ok || err != nil {
				t.Fatalf("TryLock on the seed's record of a dead process = %v, %v; want true", ok, err)
			}
			if r := readRecord(t, path); r.Nonce != l.tok.nonce {
				t.Errorf("lock file holds %+v after takeover, not ours", r)
			}
		})
	}
}

func TestReusedPIDIsTakenOver(t *testing.T) {
	// A child that lives, and a record of its PID with another start time:
	// an earlier process that had the PID.
	r := liveRecord(t)
	start, _ := strconv.ParseUint(r.Start, 10, 64)
	r.Start = strconv.FormatUint(start-1, 10)
	path := filepath.Join(t.TempDir(), "a.lock")
	writeRecord(t, path, r)
	if ok, err := mustNew(t, path).TryLock(); !ok || err != nil {
		t.Fatalf("TryLock on a lock whose PID was reused = %v, %v; want true", ok, err)
	}
}

func TestSeedRecordOfLiveProcessIsRespected(t *testing.T) {
	pid := liveRecord(t).PID
	path := filepath.Join(t.TempDir(), "a.lock")
	// The seed writes the stem of argv[0]; ours is the test binary.
	name := strings.TrimSuffix(filepath.Base(os.Args[0]), ".test")
	os.WriteFile(path, []byte(strconv.Itoa(pid)+"\n"+name+"\n"), 0o644)
	l := mustNew(t, path)
	if ok, err := l.TryLock(); ok || err != nil {
		t.Fatalf("TryLock on a live seed-format holder = %v, %v; want false", ok, err)
	}
	if o, ok, _ := l.Owner(); !ok || o.PID != pid || o.Verdict != procscan.Alive {
		t.Errorf("Owner() = %+v, %v; want pid %d, alive", o, ok, pid)
	}
	// The same PID under another name is an earlier process: stale.
	os.WriteFile(path, []byte(strconv.Itoa(pid)+"\nsomething-else\n"), 0o644)
	if ok, err := l.TryLock(); !ok || err != nil {
		t.Fatalf("TryLock on a seed record naming another program = %v, %v; want true", ok, err)
	}
}

func TestOtherHostIsRespected(t *testing.T) {
	for name, change := range map[string]func(*fileformat.Record){
		"host":          func(r *fileformat.Record) { r.Host = "elsewhere" },
		"boot":          func(r *fileformat.Record) { r.Boot = "00000000-0000-0000-0000-000000000000" },
		"pid namespace": func(r *fileformat.Record) { r.PIDNS = "pid:[1]" },
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "a.lock")
			r := hereRecord(deadPID(t), "1") // dead, were it here
			change(&r)
			writeRecord(t, path, r)
			l := mustNew(t, path)
			if ok, err := l.TryLock(); ok || err != nil {
				t.Fatalf("TryLock on a holder we cannot check = %v, %v; want false", ok, err)
			}
			if locked, err := l.Locked(); !locked || err != nil {
				t.Errorf("Locked() = %v, %v; want true", locked, err)
			}
			if o, _, _ := l.Owner(); o.Verdict != procscan.Unknown {
				t.Errorf("Owner().Verdict = %v, want unknown", o.Verdict)
			}
		})
	}
}

// uncertainTable is the real process table, except that it cannot tell
// anything about other processes.
type uncertainTable struct{ procscan.Table }

func (u uncertainTable) Process(pid int) (procscan.Process, error) {
	if pid == os.Getpid() {
		return u.Table.Process(pid)
	}
	return procscan.Process{}, errors.New("process table unavailable")
}

// When in doubt, held: a holder whose liveness cannot be checked is never
// taken over, however dead it may be.
func TestUnknownVerdictIsHeld(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.lock")
	writeStale(t, path)
	l := mustNew(t, path, withTable(uncertainTable{procscan.System()}))
	if ok, err := l.TryLock(); ok || err != nil {
		t.Fatalf("TryLock when liveness cannot be checked = %v, %v; want false", ok, err)
	}
	if o, _, _ := l.Owner(); o.Verdict != procscan.Unknown || !strings.Contains(o.Reason, "unavailable") {
		t.Errorf("Owner() = %+v; want unknown, with the table's error as reason", o)
	}
}
