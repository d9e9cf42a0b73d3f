//go:build !linux

package openlock

import (
	"context"
	"time"

	"github.com/openlock/openlock/procscan"
)

// waitSet is Linux's (waitset_linux.go); elsewhere a waiter uses the
// process's shared watcher and newWaitSet returns nil.
type waitSet struct{}

type wake int

const (
	timedOut wake = iota
	released
	exited
	interrupted
	holderMoved
)

func (l *FileLock) newWaitSet(context.Context) *waitSet { return nil }
func (s *waitSet) join(*holder)                         {}
func (s *waitSet) settle(*holder) bool                  { return false }
func (s *waitSet) wait(time.Duration) wake              { return timedOut }
func (s *waitSet) leave()                               {}
func (s *waitSet) close()                               {}

func (l *FileLock) dropWaitSet()      {}
func (s *waitSet) hold(time.Duration) {}
func (l *FileLock) leftLine()         {}
func (s *waitSet) covered() bool      { return false }
func (s *waitSet) queued() bool       { return false }

func (s *waitSet) waitersAhead() int { return 0 }

func (s *waitSet) exitedProcess() procscan.Process { return procscan.Process{} }

func (s *waitSet) watchHolder() bool    { return false }
func (s *waitSet) watchingHolder() bool { return false }
