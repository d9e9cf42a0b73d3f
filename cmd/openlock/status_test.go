package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// status: held (0), free (1), stale (1), error (2), in text and in JSON.
func TestStatus(t *testing.T) {
	dir := t.TempDir()
	lock := filepath.Join(dir, "a.lock")

	r := invoke(t, "status", lock)
	r.expectCode(t, 1, "status of a free lock")
	if !strings.Contains(r.stdout, "free") {
		t.Errorf("status of a free lock wrote %q", r.stdout)
	}
	s := statusOf(t, lock, 1)
	if s.State != "free" || s.Held || s.Owner != nil {
		t.Errorf("status --json of a free lock = %+v", s)
	}

	h := holder(t, lock)
	pid := h.PID()
	r = invoke(t, "status", lock)
	r.expectCode(t, 0, "status of a held lock")
	for _, want := range []string{"held", "pid " + strconv.Itoa(pid), "verdict  alive", "since", "started"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("status of a held lock wrote %q; want %q in it", r.stdout, want)
		}
	}
	s = statusOf(t, lock, 0)
	host, _ := os.Hostname()
	if s.State != "held" || !s.Held || s.Owner == nil || s.Owner.PID != pid || s.Owner.Verdict != "alive" ||
		s.Owner.Host != host || s.Owner.Started == nil || s.Owner.Reason == "" ||
		time.Since(s.Owner.Since) > long || s.Owner.HeldForSeconds < 0 {
		t.Errorf("status --json of a held lock = %+v, owner %+v; want held by pid %d on %s, alive", s, s.Owner, pid, host)
	}
	h.CloseStdin()
	h.Wait()
}

// A stale lock (holder killed) and an empty lock file are free; a data file
// and a directory are errors.
func TestStatusStaleAndBad(t *testing.T) {
	dir := t.TempDir()
	lock := filepath.Join(dir, "a.lock")
	h := holder(t, lock)
	h.Kill()
	h.Wait()
	s := statusOf(t, lock, 1)
	if s.State != "stale" || s.Held || s.Owner == nil || s.Owner.Verdict != "dead" || s.Owner.PID != h.PID() {
		t.Errorf("status --json of a stale lock = %+v, owner %+v", s, s.Owner)
	}
	r := invoke(t, "status", lock)
	r.expectCode(t, 1, "status of a stale lock")
	if !strings.Contains(r.stdout, "stale") || !strings.Contains(r.stdout, "verdict  dead") {
		t.Errorf("status of a stale lock wrote %q", r.stdout)
	}

	empty := filepath.Join(dir, "empty.lock")
	os.WriteFile(empty, nil, 0o644)
	if s := statusOf(t, empty, 1); s.State != "stale" || s.Invalid == "" {
		t.Errorf("status --json of an empty lock file = %+v", s)
	}
	r = invoke(t, "status", empty)
	r.expectCode(t, 1, "status of an empty lock file")
	if !strings.Contains(r.stdout, "stale: the lock file is empty") {
		t.Errorf("status of an empty lock file wrote %q", r.stdout)
	}

	// A data file at the lock path is not a lock, stale or otherwise.
	data := filepath.Join(dir, "notes.txt")
	os.WriteFile(data, []byte("not a record\n"), 0o644)
	if s := statusOf(t, data, 2); s.State != "error" || !strings.Contains(s.Error, "not a lock file") {
		t.Errorf("status --json of a data file = %+v", s)
	}

	if s := statusOf(t, dir, 2); s.State != "error" || !strings.Contains(s.Error, "not a lock file") {
		t.Errorf("status --json of a directory = %+v", s)
	}
	r = invoke(t, "status", dir)
	r.expectCode(t, 2, "status of a directory")
	if !strings.Contains(r.stderr, "not a lock file") {
		t.Errorf("status of a directory wrote %q", r.stderr)
	}
	invoke(t, "status").expectCode(t, exitUsage, "status without LOCKFILE")
	invoke(t, "status", lock, "extra").expectCode(t, exitUsage, "status with two arguments")
}

// statusOf runs status --json (the flag after the argument, as allowed) and
// parses its output.
func statusOf(t *testing.T, lock string, code int) statusJSON {
	t.Helper()
	r := invoke(t, "status", lock, "--json")
	r.expectCode(t, code, "status --json "+lock)
	var s statusJSON
	if err := json.Unmarshal([]byte(r.stdout), &s); err != nil {
		t.Fatalf("status --json wrote %q: %v", r.stdout, err)
	}
	if s.Path != lock {
		t.Errorf("status --json path = %q, want %q", s.Path, lock)
	}
	return s
}
