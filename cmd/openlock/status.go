package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/openlock/openlock"
	"github.com/openlock/openlock/procscan"
)

var statusCommand = &command{
	name:     "status",
	synopsis: "[--json] LOCKFILE",
	params:   []string{"LOCKFILE"},
	summary:  "who holds the lock, since when, and is it alive?",
	help: `
Status reads LOCKFILE and describes its holder: pid, name, host, when the
process started, since when it holds the lock, and the verdict on it with
the reason:

  alive    the holder runs: the lock is held
  unknown  the holder cannot be checked from here (another host, container or
           boot): the lock counts as held
  dead     the holder is gone: the lock is stale, and the next lock takes it
           over at once

A lock file this user may not read is reported as unreadable: its holder
cannot be seen, and it counts as held (a lock waits for it). Status names
the file's owner, who (or root) must remove it if its holder is gone.

A stale lock file of another user's, in a directory with the sticky bit (as
/tmp), is one this user may not take over: status says so, and who may
remove it (its owner or root); a lock by this user fails at once (exit 2).

Shared holders (run -s, the library's RLock) are listed too, each with its
verdict: the lock is "shared" when they hold it and no exclusive holder
does (an exclusive holder listed beside readers waits for them to leave).

Status changes nothing. Exit status: 0 when the lock is held, shared or
counts as held (unreadable), 1 when it is free (no lock file, or a stale one), 2 on
error (for instance LOCKFILE is a directory, or its directory does not exist),
64 on bad usage (LOCKFILE missing or "").`,
	examples: `  openlock status /tmp/backup.lock
  if openlock status /tmp/backup.lock >/dev/null; then echo busy; fi
  openlock status --json /tmp/backup.lock | jq .owner.pid`,
	main: statusMain,
}

// statusJSON is the output of "status --json".
type statusJSON struct {
	Path  string     `json:"path"`
	State string     `json:"state"` // "held", "shared", "unreadable", "free", "stale" or "error"
	Held  bool       `json:"held"`
	Owner *ownerJSON `json:"owner,omitempty"`
	// Readers are the shared holders (RLock), dead ones included.
	Readers []*ownerJSON `json:"readers,omitempty"`
	// Invalid says why the lock file names no holder: it is empty (state
	// "stale"). A file that is not a lock file at all is state "error".
	Invalid string `json:"invalid,omitempty"`
	// Error says what went wrong (state "error"), or why the lock file
	// could not be read and who owns it (state "unreadable").
	Error string `json:"error,omitempty"`
	// Denied says why this user may not take the stale lock over, and who
	// may remove it (state "stale"): it is another user's file.
	Denied string `json:"denied,omitempty"`
}

type ownerJSON struct {
	PID            int        `json:"pid"`
	Name           string     `json:"name"`
	Host           string     `json:"host,omitempty"`
	Started        *time.Time `json:"started,omitempty"`
	Since          time.Time  `json:"since"`
	HeldForSeconds float64    `json:"held_for_seconds"`
	Verdict        string     `json:"verdict"`
	Reason         string     `json:"reason"`
}

func statusMain(c *cli, f *flagSet, args []string) int {
	asJSON := f.Bool("json", false, "write one JSON object (path, state, held, owner) for scripts")
	pos, _, code, ok := f.parse(c, args)
	if !ok {
		return code
	}
	s := inspect(pos[0])
	if *asJSON {
		b, _ := json.MarshalIndent(s, "", "  ")
		fmt.Fprintf(c.stdout, "%s\n", b)
	} else if s.State == "error" {
		c.errorf("status: %s", s.Error)
	} else {
		c.printStatus(s)
	}
	switch s.State {
	case "held", "shared", "unreadable":
		return exitOK
	case "error":
		return exitError
	}
	return exitNo
}

// inspect reads the lock file at path.
func inspect(path string) statusJSON {
	s := statusJSON{Path: path}
	l, err := openlock.New(path)
	if err != nil {
		return statusJSON{Path: path, State: "error", Error: describe(err)}
	}
	defer l.Close()
	o, held, err := l.Owner()
	switch {
	case errors.Is(err, openlock.ErrInvalidLockFile):
		s.State, s.Invalid = "stale", describe(err)
	case errors.Is(err, fs.ErrPermission):
		s.State, s.Held, s.Error = "unreadable", true, cause(err)
	case err != nil:
		s.State, s.Error = "error", describe(err)
	case !held:
		if err := dirExists(path); err != nil {
			return statusJSON{Path: path, State: "error", Error: err.Error()}
		}
		s.State = "free"
	default:
		s.Owner = ownerJSONOf(o)
		s.State, s.Held = "held", true
		if o.Verdict == procscan.Dead {
			s.State, s.Held = "stale", false
		}
		if o.Denied != nil {
			s.Denied = o.Denied.Error()
		}
	}
	if s.State == "error" || s.State == "unreadable" {
		return s
	}
	readers, err := l.Readers()
	if err != nil {
		return statusJSON{Path: path, State: "error", Error: describe(err)}
	}
	for _, r := range readers {
		s.Readers = append(s.Readers, ownerJSONOf(r))
		if r.Verdict != procscan.Dead && !s.Held {
			s.State, s.Held = "shared", true
		}
	}
	return s
}

// ownerJSONOf is the JSON of a holder.
func ownerJSONOf(o openlock.Owner) *ownerJSON {
	j := &ownerJSON{PID: o.PID, Name: o.Name, Host: o.Host, Since: o.Since,
		HeldForSeconds: time.Since(o.Since).Seconds(), Verdict: o.Verdict.String(), Reason: o.Reason}
	if !o.Started.IsZero() {
		j.Started = &o.Started
	}
	return j
}

// dirExists returns an error saying so when the directory of the lock path
// does not exist: then the lock is not merely free, the path is wrong.
func dirExists(path string) error {
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%s: the directory %s does not exist", path, dir)
	case err != nil:
		return err
	case !fi.IsDir():
		return fmt.Errorf("%s: %s is not a directory", path, dir)
	}
	return nil
}

func (c *cli) printStatus(s statusJSON) {
	w := c.stdout
	defer func() {
		for _, r := range s.Readers {
			host := ""
			if r.Host != "" {
				host = " on host " + r.Host
			}
			fmt.Fprintf(w, "  reader   pid %d (%s)%s, for %s: %s: %s\n", r.PID, r.Name, host,
				roughly(time.Since(r.Since)), r.Verdict, r.Reason)
		}
	}()
	switch {
	case s.State == "shared":
		fmt.Fprintf(w, "%s: shared by %d reader(s), no exclusive holder\n", s.Path, len(s.Readers))
		return
	case s.State == "free" && len(s.Readers) > 0:
		fmt.Fprintf(w, "%s: free (no lock file; the readers left below are dead, and the next lock removes them)\n", s.Path)
		return
	case s.State == "free":
		fmt.Fprintf(w, "%s: free (no lock file)\n", s.Path)
		return
	case s.State == "unreadable":
		fmt.Fprintf(w, "%s: unreadable: this user may not read it, so it counts as held\n  %s\n", s.Path, s.Error)
		return
	case s.Invalid != "":
		fmt.Fprintf(w, "%s: stale: the lock file is empty; the next lock replaces it\n", s.Path)
		return
	case s.Denied != "":
		fmt.Fprintf(w, "%s: stale: its holder is dead, but this user may not take it over\n", s.Path)
	case s.State == "stale":
		fmt.Fprintf(w, "%s: stale: its holder is dead; the next lock takes it over\n", s.Path)
	default:
		fmt.Fprintf(w, "%s: held\n", s.Path)
	}
	o := s.Owner
	host := ""
	if o.Host != "" {
		host = " on host " + o.Host
	}
	fmt.Fprintf(w, "  holder   pid %d (%s)%s\n", o.PID, o.Name, host)
	if o.Started != nil {
		fmt.Fprintf(w, "  started  %s (%s ago)\n", o.Started.Format(time.DateTime), roughly(time.Since(*o.Started)))
	}
	fmt.Fprintf(w, "  since    %s (held for %s)\n", o.Since.Format(time.DateTime), roughly(time.Since(o.Since)))
	fmt.Fprintf(w, "  verdict  %s: %s\n", o.Verdict, o.Reason)
	if s.Denied != "" {
		fmt.Fprintf(w, "  denied   %s\n", s.Denied)
	}
}
