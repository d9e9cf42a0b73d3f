package main

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// errPhaseUnfinished is wrapped by the error of a selftest phase that did
// not return in time.
var errPhaseUnfinished = errors.New("did not finish")

// phaseGrace is how long a phase may take past its context's deadline
// beyond a retry period: a call that honours its context returns within a
// retry period of it, and a loaded machine may add a second or two.
const phaseGrace = 2 * time.Second

// within runs one phase of a selftest, f, with a context that ends after
// limit, and returns f's results; or, when f has not returned by grace
// after that (a file-system call that never answers, a library call that
// ignores its context), an error wrapping errPhaseUnfinished that names the
// phase. f then goes on in its goroutine, abandoned, its results unread:
// the selftest gives its verdict, and its process exits.
func within[T any](phase string, limit, grace time.Duration, f func(ctx context.Context) (T, error)) (T, error) {
	type outcome struct {
		v   T
		err error
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	done := make(chan outcome, 1)
	go func() {
		v, err := f(ctx)
		done <- outcome{v, err}
	}()
	select {
	case o := <-done:
		return o.v, o.err
	case <-ctx.Done():
	}
	late := time.NewTimer(grace)
	defer late.Stop()
	select {
	case o := <-done:
		return o.v, o.err
	case <-late.C:
		var zero T
		return zero, fmt.Errorf("the %s %w within %v", phase, errPhaseUnfinished, limit+grace)
	}
}
