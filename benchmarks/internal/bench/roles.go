package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/openlock/openlock/internal/reexec"
)

// Roles are what a re-executed benchmark program can be asked to do.
// Programs whose measurements start processes (cmd/compare, test binaries)
// call reexec.Main(bench.Roles) first thing.
var Roles = map[string]reexec.Role{
	"exit":    role("exit", func(Spec) error { return nil }),
	"hog":     role("hog", roleHog),
	"fsync":   role("fsync", roleFsync),
	"hold":    role("hold", roleHold),
	"acquire": role("acquire", roleAcquire),
	"handoff": role("handoff", roleHandoff),
	"wait":    role("wait", roleWait),
	"reader":  role("reader", roleReader),
}

// role makes f a role: its one argument is the Spec, as JSON, and it exits
// with status 3 once the Spec's Limit (default a minute) has passed.
func role(name string, f func(Spec) error) reexec.Role {
	return func(args []string) error {
		var s Spec
		if len(args) != 1 {
			return fmt.Errorf("want one argument, the Spec as JSON; got %q", args)
		}
		if err := json.Unmarshal([]byte(args[0]), &s); err != nil {
			return fmt.Errorf("bad Spec: %w", err)
		}
		if s.Limit <= 0 {
			s.Limit = time.Minute
		}
		time.AfterFunc(s.Limit, func() {
			fmt.Fprintf(os.Stderr, "role %s (pid %d): still running after %v; exiting\n", name, os.Getpid(), s.Limit)
			os.Exit(3)
		})
		return f(s)
	}
}

// printResult writes v as the child's "result" line.
func printResult(v any) error {
	js, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Printf("result %s\n", js)
	return err
}

// withMutex opens the lock s names with s's library and calls f with it and
// a context that ends with the child's time limit; it closes the lock after.
func withMutex(s Spec, f func(context.Context, Mutex) error) error {
	m, err := Open(s.Lib, s.Lock)
	if err != nil {
		return err
	}
	defer m.Close()
	ctx, cancel := context.WithTimeout(context.Background(), s.Limit)
	defer cancel()
	return f(ctx, m)
}
