package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"
)

// roles are what a re-executed benchmark program can be asked to do.
var roles = map[string]func(Spec) error{
	"exit":    func(Spec) error { return nil },
	"hog":     roleHog,
	"fsync":   roleFsync,
	"hold":    roleHold,
	"acquire": roleAcquire,
	"handoff": roleHandoff,
	"wait":    roleWait,
	"reader":  roleReader,
}

// RunRole plays the role named by $OPENLOCK_BENCH_ROLE and exits, if that
// is set; otherwise it returns at once. Programs whose measurements start
// processes (cmd/compare, test binaries) call it first thing.
func RunRole() {
	name := os.Getenv(RoleEnv)
	if name == "" {
		return
	}
	f := roles[name]
	if f == nil {
		fmt.Fprintf(os.Stderr, "unknown role %q\n", name)
		os.Exit(2)
	}
	var s Spec
	if err := json.Unmarshal([]byte(os.Getenv(SpecEnv)), &s); err != nil {
		fmt.Fprintf(os.Stderr, "role %s: bad %s: %v\n", name, SpecEnv, err)
		os.Exit(2)
	}
	if s.Limit <= 0 {
		s.Limit = time.Minute
	}
	time.AfterFunc(s.Limit, func() {
		fmt.Fprintf(os.Stderr, "role %s (pid %d): still running after %v; exiting\n", name, os.Getpid(), s.Limit)
		os.Exit(3)
	})
	if err := f(s); err != nil {
		fmt.Fprintf(os.Stderr, "role %s (pid %d): %v\n", name, os.Getpid(), err)
		os.Exit(1)
	}
	os.Exit(0)
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
