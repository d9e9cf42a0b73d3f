//go:build !linux && !windows

package procscan

import "errors"

// An ExitWatch reports the exit of one process. Outside Linux and Windows
// there is none: WatchExit always fails, and waiters rely on polling.
type ExitWatch struct{ done chan struct{} }

// WatchExit fails outside Linux and Windows.
func WatchExit(Process) (*ExitWatch, error) {
	return nil, errors.New("watching a process's exit is only supported on Linux and Windows")
}

// Exited is never closed.
func (w *ExitWatch) Exited() <-chan struct{} { return w.done }

// Stop does nothing.
func (w *ExitWatch) Stop() {}
