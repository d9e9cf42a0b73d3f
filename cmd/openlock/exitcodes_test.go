package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// The main help has one table of every exit status, and each status in it
// is what the commands exit with in its case.
func TestExitCodeTable(t *testing.T) {
	help := invoke(t, "--help").stdout
	_, table, ok := strings.Cut(help, "\nExit status:\n")
	if !ok {
		t.Fatalf("openlock --help has no exit status table:\n%s", help)
	}
	for _, e := range exitCodes {
		if !strings.Contains(table, "\n  "+e.code+" ") && !strings.HasPrefix(table, "  "+e.code+" ") {
			t.Errorf("openlock --help lists no exit status %s:\n%s", e.code, table)
		}
	}
	dir := t.TempDir()
	lock := filepath.Join(dir, "a.lock")
	notExecutable := 126
	if runtime.GOOS == "windows" {
		notExecutable = 127 // a directory: no program there, Windows tells programs by their extension
	}
	cases := []struct {
		code int
		args []string
	}{
		{0, runArgs([]string{"run", lock, "--"}, "exit", "0")},
		{7, runArgs([]string{"run", lock, "--"}, "exit", "7")}, // COMMAND's own
		{2, runArgs([]string{"run", dir, "--"}, "exit", "0")},  // not a lock file
		{2, runArgs([]string{"run", filepath.Join(dir, "missing", "a.lock"), "--"}, "exit", "0")},
		{exitUsage, runArgs([]string{"run", "--frob", lock, "--"}, "exit", "0")},
		{exitUsage, []string{"frobnicate"}},
		{exitUsage, []string{"status"}},
		{76, runArgs([]string{"run", lock, "--"}, "rm", "0", lock)},
		{notExecutable, []string{"run", lock, "--", dir}},
		{127, []string{"run", lock, "--", filepath.Join(dir, "missing")}},
		{1, []string{"status", lock}},
	}
	if runtime.GOOS != "windows" { // no signals there
		cases = append(cases, struct {
			code int
			args []string
		}{128 + int(syscall.SIGTERM), []string{"run", lock, "--", "sh", "-c", "kill -TERM $$"}})
	}
	for _, tt := range cases {
		invoke(t, tt.args...).expectCode(t, tt.code, strings.Join(tt.args, " "))
	}
	h := holder(t, lock)
	invoke(t, runArgs([]string{"run", "-n", lock, "--"}, "exit", "0")...).expectCode(t, 1, "run -n on a busy lock")
	invoke(t, "status", lock).expectCode(t, 0, "status of a held lock")
	h.CloseStdin()
	h.Wait()
}

// A COMMAND that cannot be started once the lock is held, for want of
// openlock's own resources, says what ran out and exits 71 (EX_OSERR), not
// 126 with "cannot execute", which blames the command.
func TestStartFailureText(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want string
		code int
	}{
		{&exec.Error{Name: "true", Err: syscall.EMFILE}, "openlock ran out of file descriptors", exitOSErr},
		{fmt.Errorf("fork/exec /bin/true: %w", syscall.ENFILE), "the system's limit", exitOSErr},
		{fmt.Errorf("fork/exec /bin/true: %w", syscall.EAGAIN), "ran out of memory or processes", exitOSErr},
		{fmt.Errorf("fork/exec /bin/true: %w", syscall.EACCES), "true: cannot execute", 126},
		{fmt.Errorf("fork/exec /bin/true: %w", syscall.ENOENT), "true: command not found", 127},
	} {
		msg, code := startFailure("true", tt.err)
		if code != tt.code || !strings.Contains(msg, tt.want) {
			t.Errorf("startFailure(%v) = %q, %d; want %q, %d", tt.err, msg, code, tt.want, tt.code)
		}
	}
}

// With a limit on descriptors that lets the lock be taken but not COMMAND
// started, run says that descriptors ran out. The limit where that happens
// depends on the build, so the test tries each small one (prlimit sets the
// hard limit too: Go raises the soft limit to the hard one at start).
func TestRunOutOfDescriptors(t *testing.T) {
	prlimit, err := exec.LookPath("prlimit")
	if err != nil {
		t.Skip("prlimit (util-linux) is not installed: cannot run openlock with a small descriptor limit")
	}
	lock := filepath.Join(t.TempDir(), "a.lock")
	seen := false
	for n := 3; n <= 64; n++ {
		limit := "--nofile=" + strconv.Itoa(n) + ":" + strconv.Itoa(n)
		r := invokeWith(t, func(c *exec.Cmd) {
			c.Path, c.Args = prlimit, append([]string{"prlimit", limit, bin}, c.Args[1:]...)
		}, "run", lock, "--", "true")
		if strings.Contains(r.stderr, "cannot execute: too many open files") {
			t.Errorf("with %s, run blamed the command: %q", limit, r.stderr)
		}
		if r.code == exitOSErr && strings.Contains(r.stderr, "openlock ran out of file descriptors") {
			seen = true
		}
		if r.code == 0 {
			break
		}
	}
	if !seen {
		t.Errorf("no descriptor limit made run exit %d saying that descriptors ran out", exitOSErr)
	}
}

// The README's exit status table has the statuses of exitCodes, in order,
// so that the two tables cannot drift apart.
func TestREADMEExitTable(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Skipf("no README beside the module (%v): nothing to compare", err)
	}
	_, table, ok := strings.Cut(string(b), "\n### Exit status\n")
	if !ok {
		t.Fatal(`README.md has no "### Exit status" section`)
	}
	var codes []string
	for _, line := range strings.Split(table, "\n") {
		if rest, ok := strings.CutPrefix(line, "| "); ok && !strings.HasPrefix(rest, "status") {
			code, _, _ := strings.Cut(rest, " |")
			codes = append(codes, code)
		} else if len(codes) > 0 && !strings.HasPrefix(line, "|") {
			break
		}
	}
	var want []string
	for _, e := range exitCodes {
		want = append(want, e.code)
	}
	if !slices.Equal(codes, want) {
		t.Errorf("README.md's exit status table lists %q; openlock --help lists %q", codes, want)
	}
}
