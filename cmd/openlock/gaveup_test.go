package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openlock/openlock"
)

// A bounded attempt that gave up on a lock that a look then finds free
// does not claim to know why: "released just now" was said on sshfs of a
// lock nobody held, whose links the file system had undone. It names both
// causes it may be.
func TestGaveUpOnFreeLockNamesTheCauses(t *testing.T) {
	l, err := openlock.New(filepath.Join(t.TempDir(), "a.lock"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var stderr bytes.Buffer
	r := &runner{cli: &cli{stderr: &stderr}, name: "run", lock: l}
	r.gaveUp(time.Now())
	msg := stderr.String()
	if strings.Contains(msg, "released just now") || !strings.Contains(msg, "released it in between") ||
		!strings.Contains(msg, "answers disagree") {
		t.Errorf("gave up on a free lock with %q; want both possible causes named", msg)
	}
}
