package main

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// flock(1)'s spellings: -n/--nonblock/--nb, --timeout, -c/--command,
// --conflict-exit-code.
func TestRunFlockSpellings(t *testing.T) {
	needShell(t)
	dir := t.TempDir()
	lock := filepath.Join(dir, "a.lock")
	r := invoke(t, "run", lock, "-c", `echo "$0 ran"; exit 3`)
	r.expectCode(t, 3, "run LOCK -c")
	if r.stdout != "sh ran\n" {
		t.Errorf("run -c wrote %q; want the command run by sh", r.stdout)
	}
	invoke(t, "run", "--command", "exit 4", lock).expectCode(t, 4, "run --command")

	h := holder(t, lock)
	for _, args := range [][]string{
		{"-n"}, {"--nonblock"}, {"--nb"}, {"--timeout", "0.2"}, {"--timeout=0"},
		{"-n", "-w", "1h"}, // as in flock, -n wins
	} {
		args = append(append([]string{"run"}, args...), lock, "-c", "echo never")
		r := invoke(t, args...)
		r.expectCode(t, 1, strings.Join(args, " ")+" on a busy lock")
		if r.stdout != "" || !strings.Contains(r.stderr, "held by pid") {
			t.Errorf("openlock %q wrote %q, %q; want no command and the holder named", args, r.stdout, r.stderr)
		}
	}
	invoke(t, "run", "-n", "--conflict-exit-code", "75", lock, "true").expectCode(t, 75, "run -n --conflict-exit-code 75")
	h.CloseStdin()
	h.Wait()
}

// A flag of flock(1) that openlock does not have gets a hint, not only
// "unknown flag".
func TestRunFlockHints(t *testing.T) {
	lock := filepath.Join(t.TempDir(), "a.lock")
	for flag, want := range map[string]string{
		"-x": "exclusive already", "-e": "exclusive already", "--exclusive": "exclusive already",
		"-u": "openlock unlock", "--unlock": "openlock unlock",
		"-o": "nothing to close", "--close": "nothing to close",
		"-F": "always forks", "--no-fork": "always forks",
		"-V": "openlock version",
		"-s": "run -s", "--shared": "run -s",
	} {
		for _, cmd := range []string{"run", "lock"} {
			if cmd == "run" && strings.Contains(want, "run -s") {
				continue // run has -s
			}
			r := invoke(t, cmd, flag, lock, self)
			r.expectCode(t, exitUsage, cmd+" "+flag)
			if !strings.Contains(r.stderr, flag+": ") || !strings.Contains(r.stderr, want) || strings.Contains(r.stderr, "not defined") {
				t.Errorf("openlock %s %s wrote %q; want a hint saying %q", cmd, flag, r.stderr, want)
			}
		}
	}
}

// An empty LOCKFILE (an unset $LOCK) is an error, and creates nothing in
// the current directory: "" must not mean the library's default path.
func TestEmptyPath(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"run", "", "--", self}, {"run", "", "-c", "true"}, {"status", ""}, {"status", "--json", ""},
		{"clean", ""}, {"lock", "--pid", "1", ""}, {"unlock", "--pid", "1", ""},
	} {
		r := invokeWith(t, inDir(dir), args...)
		r.expectCode(t, exitUsage, strings.Join(args, " "))
		if !strings.Contains(r.stderr, "is empty (an unset shell variable?)") {
			t.Errorf("openlock %q wrote %q; want it to say the path is empty", args, r.stderr)
		}
	}
	if names := files(t, dir); len(names) != 0 {
		t.Errorf("the current directory now holds %q", names)
	}
}

// Every help text spells flags one way: -w, --json (never -json).
func TestHelpFlagStyle(t *testing.T) {
	singleDashLong := regexp.MustCompile(`(^|[\s,\[({|/"'])-[a-zA-Z][a-zA-Z-]+`)
	for _, cmd := range commands {
		r := invoke(t, cmd.name, "--help")
		for _, line := range strings.Split(r.stdout, "\n") {
			if m := singleDashLong.FindString(line); m != "" {
				t.Errorf("openlock %s --help: %q spells a long flag with one dash (%q)", cmd.name, line, m)
			}
		}
	}
}

// inDir runs a command in dir.
func inDir(dir string) func(*exec.Cmd) { return func(c *exec.Cmd) { c.Dir = dir } }

// status and clean of a path whose directory does not exist, or of a
// directory that does not exist, say so and exit 2: such a lock is not
// merely free, the path is wrong.
func TestMissingDirectory(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"status", filepath.Join(missing, "a.lock")}, "the directory " + missing + " does not exist"},
		{[]string{"status", "--json", filepath.Join(missing, "a.lock")}, "the directory " + missing + " does not exist"},
		{[]string{"clean", filepath.Join(missing, "a.lock")}, "the directory " + missing + " does not exist"},
		{[]string{"clean", missing}, missing + ": no such directory or lock file"},
		{[]string{"clean", "--dry-run", missing + "/"}, missing + " does not exist"},
	} {
		r := invoke(t, tt.args...)
		r.expectCode(t, 2, strings.Join(tt.args, " "))
		quoted, _ := json.Marshal(tt.want) // as --json writes it: a Windows path's \ doubled
		if out := r.stderr + r.stdout; !strings.Contains(out, tt.want) && !strings.Contains(out, string(quoted[1:len(quoted)-1])) {
			t.Errorf("openlock %q wrote %q, %q; want %q", tt.args, r.stdout, r.stderr, tt.want)
		}
	}
	// A free lock in a directory that exists is free, as before.
	invoke(t, "status", filepath.Join(dir, "a.lock")).expectCode(t, 1, "status of a free lock")
}
