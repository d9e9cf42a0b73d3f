package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openlock/openlock/internal/stress"
)

// The demo runs, kills a holder, sees it recovered, verifies no overlap and
// leaves nothing behind in the temporary directory.
func TestDemo(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // the demo works in a directory it makes there
	r := invoke(t, "demo", "--workers", "3", "--kills", "1", "--duration", "3s")
	r.expectCode(t, 0, "demo")
	for _, want := range []string{
		"SIGKILL to pid", "took over the stale lock",
		"overlaps      0, checked two ways",
		"kills         1 with SIGKILL, 1 of them holding the lock",
		"recoveries    1 of 1",
		"left behind   nothing",
		"All checks passed.",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("the demo's output lacks %q:\n%s", want, r.stdout)
		}
	}
	if names := files(t, tmp); len(names) != 0 {
		t.Errorf("the demo left %q in TMPDIR", names)
	}
}

func TestDemoBadUsage(t *testing.T) {
	for _, args := range [][]string{
		{"demo", "--workers", "1"},
		{"demo", "--kills", "4", "--workers", "4"},
		{"demo", "--duration", "10ms"},
		{"demo", "extra"},
	} {
		r := invoke(t, args...)
		r.expectCode(t, exitUsage, strings.Join(args, " "))
		if r.stderr == "" {
			t.Errorf("openlock %q said nothing", args)
		}
	}
}

// A takeover with no kill before it (a worker that died of itself) is
// told without a time "after the kill", which would count from 0.
func TestDemoTakeoverWithoutKill(t *testing.T) {
	var out strings.Builder
	v := newDemoView(&cli{stdout: &out, stderr: &out}, filepath.Join(t.TempDir(), "demo.lock"), false, time.Second)
	w := &stress.Worker{ID: 1, PID: 4242}
	now := stress.Now()
	v.event(stress.Event{Worker: w, Kind: stress.Try, T: now})
	v.event(stress.Event{Worker: w, Kind: stress.Acquired, T: now + 1000, N: 500})
	if got := strings.Join(v.notes, "\n") + out.String(); strings.Contains(got, "after the kill") || !strings.Contains(got, "took over the stale lock of a worker that died") {
		t.Errorf("a takeover without a kill is told as %q", got)
	}
}

// A killed holder's death, when its lock was already taken over, is told
// after the takeover, although the pool may observe the takeover later
// than the death.
func TestDemoTellsTakeoverBeforeDeath(t *testing.T) {
	var out strings.Builder
	c := &cli{stdout: &out, stderr: &out}
	v := newDemoView(c, filepath.Join(t.TempDir(), "demo.lock"), false, time.Second)
	killed, taker := &stress.Worker{ID: 1, PID: 101}, &stress.Worker{ID: 2, PID: 102}
	t0 := stress.Now()
	v.event(stress.Event{Worker: killed, Kind: stress.Killing, T: t0})
	v.event(stress.Event{Worker: killed, Kind: stress.Killed, T: t0, T2: t0 + 2e6, N: 1})
	v.event(stress.Event{Worker: taker, Kind: stress.Try, T: t0})
	v.event(stress.Event{Worker: taker, Kind: stress.Acquired, T: t0 + 1e6, N: 5e4})
	v.stop()
	text := out.String()
	took := strings.Index(text, "took over the stale lock")
	dead := strings.Index(text, "is dead; its lock was already taken over")
	if took < 0 || dead < 0 || dead < took {
		t.Errorf("the demo told a death before the takeover it mentions, or left one out:\n%s", text)
	}
}
