package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// A flagSet is a command's flags: the standard flag package, with long
// aliases of short flags (-w, --wait and --timeout), flags allowed after the
// arguments, errors and help that spell a flag as it is typed (-w, --json),
// and help that lists each flag once.
type flagSet struct {
	*flag.FlagSet
	cmd     *command
	aliases map[string]string   // long name -> short name
	longs   map[string][]string // short name -> its long names, in the order given
}

func (cmd *command) flagSet() *flagSet {
	fs := flag.NewFlagSet("openlock "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return &flagSet{FlagSet: fs, cmd: cmd, aliases: make(map[string]string), longs: make(map[string][]string)}
}

// alias makes each --long another name of the flag -short.
func (f *flagSet) alias(short string, longs ...string) {
	for _, long := range longs {
		f.Var(f.Lookup(short).Value, long, "")
		f.aliases[long] = short
		f.longs[short] = append(f.longs[short], long)
	}
}

// dash spells a flag as it is typed: -w, --json.
func dash(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
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
			c.errorf("%s: %s (see openlock %s --help)", cmd.name, f.explain(err), cmd.name)
			return nil, nil, exitUsage, false
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
	if i := slices.Index(pos, ""); i >= 0 {
		// An unset shell variable ("$LOCK") must not fall back on a default.
		c.errorf("%s: %s is empty (an unset shell variable?); usage: %s", cmd.name, cmd.params[i], usage)
		return nil, nil, exitUsage, false
	}
	switch {
	case len(pos) < len(cmd.params) && !strings.HasPrefix(cmd.params[len(pos)], "["):
		c.errorf("%s: missing %s; usage: %s", cmd.name, cmd.params[len(pos)], usage)
		return nil, nil, exitUsage, false
	case len(rest) > 0 && !cmd.rest:
		c.errorf("%s: unexpected argument %q; usage: %s", cmd.name, rest[0], usage)
		return nil, nil, exitUsage, false
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
		names := dash(fl.Name)
		for _, l := range f.longs[fl.Name] {
			names += ", " + dash(l)
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

// Errors of the flag package, as explain rewrites them.
var (
	undefinedFlag = regexp.MustCompile(`^flag provided but not defined: -(.+)$`)
	badValue      = regexp.MustCompile(`^invalid (boolean )?value ("(?:[^"\\]|\\.)*") for (?:flag )?-(\S+): (.*)$`)
	noArgument    = regexp.MustCompile(`^flag needs an argument: -(.+)$`)
)

// explain rewrites an error of the flag package: the flag spelled as it is
// typed, first ("-E abc: ..."), and for a flag the command does not have but
// flock(1) does, what openlock offers instead (cmd.hints).
func (f *flagSet) explain(err error) string {
	msg := err.Error()
	if m := undefinedFlag.FindStringSubmatch(msg); m != nil {
		if hint, ok := f.cmd.hints[m[1]]; ok {
			return fmt.Sprintf("%s: %s", dash(m[1]), hint)
		}
		return fmt.Sprintf("unknown flag %s", dash(m[1]))
	}
	if m := badValue.FindStringSubmatch(msg); m != nil {
		value, _ := strconv.Unquote(m[2])
		why := m[4]
		if why == "parse error" {
			why = "not a number"
			if m[1] != "" {
				why = "want true or false"
			}
		}
		return fmt.Sprintf("%s %s: %s", dash(m[3]), value, why)
	}
	if m := noArgument.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("%s needs a value", dash(m[1]))
	}
	return msg
}

// An exitCodeFlag is an exit status, 0 to 255.
type exitCodeFlag int

func (e *exitCodeFlag) String() string { return strconv.Itoa(int(*e)) }

func (e *exitCodeFlag) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 255 {
		return errors.New("want an exit status, 0 to 255")
	}
	*e = exitCodeFlag(n)
	return nil
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
			return errors.New("want a duration of 0 or more")
		}
		*d = waitFlag(secs * float64(time.Second))
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil || v < 0 {
		return errors.New("want a duration such as 10s, 1m30s or 0.5 (seconds)")
	}
	*d = waitFlag(v)
	return nil
}
