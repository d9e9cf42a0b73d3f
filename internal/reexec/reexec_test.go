package reexec

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// long bounds every wait: generous, so that a loaded machine never fails a
// correct test.
const long = time.Minute

var roles = map[string]Role{
	// echo prints its arguments, then echoes its stdin line by line.
	"echo": func(args []string) error {
		fmt.Println("args " + strings.Join(args, " "))
		in := bufio.NewScanner(os.Stdin)
		for in.Scan() {
			fmt.Println("echo " + in.Text())
		}
		return nil
	},
	// fail writes to stdout and stderr and fails.
	"fail": func([]string) error {
		fmt.Println("failing")
		fmt.Fprintln(os.Stderr, "about to fail")
		return errors.New("it failed")
	},
	// env prints what its environment says of roles.
	"env": func([]string) error {
		v, ok := os.LookupEnv(Env)
		fmt.Printf("env %q %v %s\n", v, ok, os.Getenv("EXTRA"))
		return nil
	},
	// partial writes a line without its newline and exits.
	"partial": func([]string) error {
		fmt.Print("first\nunended")
		return nil
	},
}

func TestMain(m *testing.M) {
	Main(roles)
	os.Exit(m.Run())
}

func TestRoleTalks(t *testing.T) {
	c := StartTest(t, long, Command("echo", "a", "b"), Options{})
	if line := c.Expect("args "); line != "args a b" {
		t.Errorf("the role got %q, want its arguments a b", line)
	}
	c.Send("one")
	c.Send("two")
	if line := c.Expect("echo t"); line != "echo two" {
		t.Errorf("Expect(echo t) = %q", line)
	}
	// "echo one" came before and was consumed with it.
	if _, err := c.Child.Expect("echo one", 0); err == nil {
		t.Error("a line before the one Expect returned was found again")
	}
	c.CloseStdin()
	if err := c.Err(); err != nil {
		t.Fatal(err)
	}
	if want := []string{"args a b", "echo one", "echo two"}; !equal(c.Lines(), want) {
		t.Errorf("Lines() = %q, want %q", c.Lines(), want)
	}
}

func TestRoleError(t *testing.T) {
	c := StartTest(t, long, Command("fail"), Options{})
	if code := c.Wait(); code != 1 {
		t.Errorf("exit status %d, want 1", code)
	}
	err := c.Child.Wait(long)
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("Wait = %v, want an *exec.ExitError inside", err)
	}
	for _, s := range []string{"role fail (pid ", "about to fail", "it failed"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("Wait = %q; want it to say %q", err, s)
		}
	}
}

func TestUnknownRole(t *testing.T) {
	c := StartTest(t, long, Command("nosuch"), Options{})
	if code := c.Wait(); code != 2 {
		t.Errorf("exit status %d, want 2", code)
	}
	if s := c.Stderr(); !strings.Contains(s, "no such role") || !strings.Contains(s, "echo, env, fail, partial") {
		t.Errorf("stderr %q; want the roles named", s)
	}
}

// A role sees the caller's settings but not Env, which its own children
// would otherwise inherit.
func TestRoleEnvironment(t *testing.T) {
	cmd := Command("env")
	cmd.Env = append(cmd.Env, "EXTRA=x")
	c := StartTest(t, long, cmd, Options{})
	if line := c.Expect("env "); line != `env "" false x` {
		t.Errorf("the role's environment: %q", line)
	}
}

func TestExpectFailures(t *testing.T) {
	c, err := Start(Command("fail"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Expect("never", long)
	if err == nil || !strings.Contains(err.Error(), "exited") || !strings.Contains(err.Error(), "failing") {
		t.Errorf("Expect of a line never written = %v; want it to say the child exited, and what it wrote", err)
	}

	silent, err := Start(Command("echo"), Options{}) // waits on its stdin
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Kill()
	if _, err := silent.Expect("echo", 10*time.Millisecond); err == nil || !strings.Contains(err.Error(), "did not write") {
		t.Errorf("Expect of a silent child = %v; want a timeout", err)
	}
	if err := silent.Wait(10 * time.Millisecond); err == nil || !strings.Contains(err.Error(), "killed") || !silent.Exited() {
		t.Errorf("Wait of a child that does not exit = %v; want it killed", err)
	}
}

func TestPartialLineAndMergedStderr(t *testing.T) {
	c := StartTest(t, long, Command("partial"), Options{})
	c.Wait()
	if want := []string{"first", "unended"}; !equal(c.Lines(), want) {
		t.Errorf("Lines() = %q, want %q", c.Lines(), want)
	}

	var seen []string
	sh := exec.Command("sh", "-c", "echo out; echo err >&2")
	m, err := Start(sh, Options{MergeStderr: true, OnLine: func(l string) { seen = append(seen, l) }})
	if err != nil {
		t.Skipf("meaningless without a POSIX sh (Windows): the test's child is a sh script; %v", err)
	}
	if err := m.Wait(long); err != nil {
		t.Fatal(err)
	}
	if want := []string{"out", "err"}; !equal(seen, want) || len(m.Lines()) != 0 {
		t.Errorf("OnLine saw %q, Lines() = %q; want %q, and nothing kept", seen, m.Lines(), want)
	}
}

func TestStartRefusesStdout(t *testing.T) {
	cmd := Command("echo")
	cmd.Stdout = os.Stdout
	if _, err := Start(cmd, Options{}); err == nil || !strings.Contains(err.Error(), "cmd.Stdout must be nil") {
		t.Errorf("Start with cmd.Stdout set = %v", err)
	}
}

func TestKeep(t *testing.T) {
	var k keep
	k.Write([]byte("start "))
	k.Write([]byte(strings.Repeat("x", 3*keepSize)))
	k.Write([]byte(" end"))
	s := k.String()
	if !strings.HasPrefix(s, "start ") || !strings.HasSuffix(s, " end") || !strings.Contains(s, "bytes left out") || len(s) > 2*keepSize+100 {
		t.Errorf("keep of %d bytes kept %d: %.40q...%q", 3*keepSize+10, len(s), s, s[len(s)-40:])
	}
}

func equal(a, b []string) bool {
	return strings.Join(a, "\n") == strings.Join(b, "\n") && len(a) == len(b)
}

// A program runs itself again in a role and reads what it writes.
func ExampleCommand() {
	// main (or TestMain) starts with: reexec.Main(roles)
	c, err := Start(Command("echo", "hello"), Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	line, err := c.Expect("args ", time.Minute)
	fmt.Println(line, err)
	c.CloseStdin()
	fmt.Println(c.Wait(time.Minute))
	// Output:
	// args hello <nil>
	// <nil>
}

// A start that fails for a reason that passes is made again, with a copy
// of the command; one that fails for another reason is not. (The copy
// leaves out the cancelled context that failed the first start.)
func TestStartAgainWhenFailurePasses(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	role := Command("echo", "again")
	cmd := exec.CommandContext(ctx, role.Path, role.Args[1:]...)
	cmd.Env = role.Env
	tries := 0
	passes := func(err error) bool { tries++; return errors.Is(err, context.Canceled) }
	c, err := start(cmd, Options{}, passes)
	if err != nil {
		t.Fatalf("start with a failure that passes: %v", err)
	}
	test := &Test{Child: c, tb: t, patience: long}
	t.Cleanup(func() { c.CloseStdin(); c.Wait(long) })
	if line := test.Expect("args "); line != "args again" || tries != 1 {
		t.Errorf("the copy said %q after %d failed starts; want \"args again\" after 1", line, tries)
	}
	if cmd.Process != nil {
		t.Errorf("the cancelled command itself started (pid %d)", cmd.Process.Pid)
	}

	tries = 0
	never := func(error) bool { tries++; return false }
	cmd = exec.CommandContext(ctx, role.Path, role.Args[1:]...)
	if _, err := start(cmd, Options{}, never); !errors.Is(err, context.Canceled) || tries != 1 {
		t.Errorf("start with a failure that does not pass: %v after %d tries; want context.Canceled after 1", err, tries)
	}
}
