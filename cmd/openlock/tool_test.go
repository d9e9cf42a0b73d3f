package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The tests give "openlock run" commands that this test binary plays
// itself (tool), rather than sh, true and echo, which Windows lacks. The
// binary plays one when its first argument is toolArg (TestMain).
const toolArg = "openlock-test-tool"

// self is this test binary, set by TestMain.
var self string

// tool returns the command line of one of the commands runTool plays.
func tool(args ...string) []string { return append([]string{self, toolArg}, args...) }

// runArgs is args followed by the command line of tool(command...).
func runArgs(args []string, command ...string) []string {
	return append(append([]string(nil), args...), tool(command...)...)
}

// runTool plays the command args names and returns its exit status:
//
//	exit N           exit with status N
//	echo WORDS...    print WORDS and exit 0
//	hold LINE        print LINE, wait for a line on stdin (or its end),
//	                 print "released" and exit 0
//	pid              print "pid PID" and sleep until killed (10 minutes at most)
//	rm N GLOB...     remove what each GLOB names, then exit with status N
//	status BIN LOCK  print "parent PPID", then run BIN status --json LOCK
func runTool(args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "tool: no command")
		return 2
	}
	switch cmd, rest := args[0], args[1:]; {
	case cmd == "exit" && len(rest) == 1:
		return atoi(rest[0])
	case cmd == "echo":
		fmt.Println(strings.Join(rest, " "))
		return 0
	case cmd == "hold" && len(rest) == 1:
		fmt.Println(rest[0])
		bufio.NewReader(os.Stdin).ReadString('\n')
		fmt.Println("released")
		return 0
	case cmd == "pid" && len(rest) == 0:
		fmt.Printf("pid %d\n", os.Getpid())
		time.Sleep(10 * time.Minute) // until killed; bounded, should nobody kill it
		return 0
	case cmd == "rm" && len(rest) >= 1:
		for _, g := range rest[1:] {
			names, _ := filepath.Glob(g)
			for _, n := range names {
				os.Remove(n)
			}
		}
		return atoi(rest[0])
	case cmd == "status" && len(rest) == 2:
		fmt.Printf("parent %d\n", os.Getppid())
		c := exec.Command(rest[0], "status", "--json", rest[1])
		c.Stdout, c.Stderr = os.Stdout, os.Stderr
		if err := c.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "tool status:", err)
			return 1
		}
		return 0
	}
	fmt.Fprintf(os.Stderr, "tool: no command %q\n", args)
	return 2
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		fmt.Fprintf(os.Stderr, "tool: %q is no exit status\n", s)
		return 2
	}
	return n
}

// needShell skips t where there is no sh: "run -c" runs its command with
// sh -c.
func needShell(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skipf("meaningless without a POSIX sh (Windows): run -c runs sh -c; %v", err)
	}
}
