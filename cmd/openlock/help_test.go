package main

import (
	"strings"
	"testing"
)

// Every command has help with examples, by --help, -h and "help COMMAND".
func TestHelp(t *testing.T) {
	for _, cmd := range commands {
		for _, args := range [][]string{{cmd.name, "--help"}, {cmd.name, "-h"}, {"help", cmd.name}} {
			r := invoke(t, args...)
			r.expectCode(t, 0, strings.Join(args, " "))
			if !strings.HasPrefix(r.stdout, "Usage: openlock "+cmd.name) || !strings.Contains(r.stdout, "Examples:\n  ") {
				t.Errorf("openlock %q wrote %q; want usage and examples", args, r.stdout)
			}
		}
	}
	for _, args := range [][]string{{"--help"}, {"help"}, {"-h"}} {
		r := invoke(t, args...)
		r.expectCode(t, 0, strings.Join(args, " "))
		if !strings.Contains(r.stdout, "openlock demo") {
			t.Errorf("openlock %q wrote %q", args, r.stdout)
		}
	}
}

// No arguments, or an unknown command: the list of commands, status 2.
func TestUnknownCommand(t *testing.T) {
	r := invoke(t)
	r.expectCode(t, exitUsage, "openlock without arguments")
	if !strings.Contains(r.stderr, "Commands:") {
		t.Errorf("openlock without arguments wrote %q", r.stderr)
	}
	r = invoke(t, "frobnicate")
	r.expectCode(t, exitUsage, "openlock frobnicate")
	if !strings.Contains(r.stderr, `unknown command "frobnicate"`) {
		t.Errorf("openlock frobnicate wrote %q", r.stderr)
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		r := invoke(t, args...)
		r.expectCode(t, 0, "openlock version")
		if !strings.HasPrefix(r.stdout, "openlock ") || !strings.Contains(r.stdout, "go1.") {
			t.Errorf("openlock version wrote %q", r.stdout)
		}
	}
	invoke(t, "version", "extra").expectCode(t, exitUsage, "openlock version extra")
}
