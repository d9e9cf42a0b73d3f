package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// A flagSet is a command's flags: the standard flag package, with long
// aliases of short flags (-w and --wait), flags allowed after the
// arguments, and help that lists each flag once.
type flagSet struct {
	*flag.FlagSet
	cmd     *command
	aliases map[string]string // long name -> short name
}

func (cmd *command) flagSet() *flagSet {
	fs := flag.NewFlagSet("openlock "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return &flagSet{FlagSet: fs, cmd: cmd, aliases: make(map[string]string)}
}

// alias makes --long another name of the flag -short.
func (f *flagSet) alias(short, long string) {
	f.Var(f.Lookup(short).Value, long, "")
	f.aliases[long] = short
}

// parse reads flags from args wherever they are, and the command's
// arguments (cmd.params; a last one that ends in "..." takes any number of
// arguments, selftest's DIRs). A command with a rest (run) gets whatever follows
// its arguments, or "--", in rest. When help was asked for, a flag is wrong,
// or an argument is missing or unexpected, parse writes help or the error
// and returns false with the exit status.
func (f *flagSet) parse(c *cli, args []string) (pos, rest []string, code int, ok bool) {
	cmd := f.cmd
	for len(args) > 0 {
		if err := f.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				f.printHelp(c.stdout)
				return nil, nil, exitOK, false
			}
			c.errorf("%s: %v (see openlock %s --help)", cmd.name, err, cmd.name)
			return nil, nil, exitError, false
		}
		left := f.Args()
		if used := args[:len(args)-len(left)]; len(used) > 0 && used[len(used)-1] == "--" {
			rest = left
			break
		}
		if len(left) == 0 {
			break
		}
		if len(pos) >= len(cmd.params) && !cmd.variadic() {
			rest = left
			break
		}
		pos, args = append(pos, left[0]), left[1:]
	}
	usage := strings.TrimSpace("openlock " + cmd.name + " " + cmd.synopsis)
	switch {
	case len(pos) < len(cmd.params) && !strings.HasPrefix(cmd.params[len(pos)], "["):
		c.errorf("%s: missing %s; usage: %s", cmd.name, cmd.params[len(pos)], usage)
		return nil, nil, exitError, false
	case len(rest) > 0 && !cmd.rest:
		c.errorf("%s: unexpected argument %q; usage: %s", cmd.name, rest[0], usage)
		return nil, nil, exitError, false
	}
	return pos, rest, exitOK, true
}

// variadic reports whether the command's last argument may be repeated.
func (cmd *command) variadic() bool {
	return len(cmd.params) > 0 && strings.HasSuffix(strings.TrimSuffix(cmd.params[len(cmd.params)-1], "]"), "...")
}

// printHelp writes the command's help: usage, description, flags and
// examples.
func (f *flagSet) printHelp(w io.Writer) {
	cmd := f.cmd
	fmt.Fprintf(w, "Usage: openlock %s %s\n\n%s\n", cmd.name, cmd.synopsis, strings.TrimSpace(cmd.help))
	long := make(map[string]string) // short name -> long name
	for l, s := range f.aliases {
		long[s] = l
	}
	first := true
	f.VisitAll(func(fl *flag.Flag) {
		if _, isAlias := f.aliases[fl.Name]; isAlias {
			return
		}
		if first {
			fmt.Fprintf(w, "\nFlags:\n")
			first = false
		}
		arg, usage := flag.UnquoteUsage(fl)
		names := "-" + fl.Name
		if l := long[fl.Name]; l != "" {
			names += ", --" + l
		}
		if arg != "" {
			names += " " + arg
		}
		if fl.DefValue != "" && fl.DefValue != "false" && fl.DefValue != "0" {
			usage += " (default " + fl.DefValue + ")"
		}
		fmt.Fprintf(w, "  %s\n    \t%s\n", names, strings.ReplaceAll(usage, "\n", "\n    \t"))
	})
	if cmd.examples != "" {
		fmt.Fprintf(w, "\nExamples:\n%s\n", strings.TrimRight(cmd.examples, "\n"))
	}
}

// A waitFlag is a time limit: a Go duration ("90s", "1m30s") or a number of
// seconds as flock(1) takes it ("90", "0.5"). Negative means no limit.
type waitFlag time.Duration

func (d *waitFlag) String() string {
	if *d < 0 {
		return "forever"
	}
	return time.Duration(*d).String()
}

func (d *waitFlag) Set(s string) error {
	if s == "forever" {
		*d = -1
		return nil
	}
	if secs, err := strconv.ParseFloat(s, 64); err == nil {
		if secs < 0 || secs > 1e9 {
			return fmt.Errorf("%q: want a duration of 0 or more", s)
		}
		*d = waitFlag(secs * float64(time.Second))
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil || v < 0 {
		return fmt.Errorf("%q: want a duration such as 10s, 1m30s or 0.5 (seconds)", s)
	}
	*d = waitFlag(v)
	return nil
}
