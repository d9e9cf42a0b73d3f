package openlock

import "time"

// A Step names a point in acquiring or releasing a lock.
type Step string

// The steps a trace function sees (WithTrace), in the order they happen.
const (
	// StepQueued: Lock waits behind another goroutine of this process that
	// holds or is taking the same lock path (it does not poll the file).
	StepQueued Step = "queued"
	// StepObserved: a lock file was read and judged stale; a takeover
	// starts. In Fischer mode it is repeated before each write.
	StepObserved Step = "observed"
	// StepClaimed: claims mode, the one-shot claim on the stale lock file is
	// ours.
	StepClaimed Step = "claimed"
	// StepValidated: claims mode, holding the claim, the lock file was read
	// again and is still the stale one.
	StepValidated Step = "validated"
	// StepReplaced: the stale lock file was replaced by ours. Event.Window is
	// the race window: the time from the observation the takeover rests on
	// to the completed write.
	StepReplaced Step = "replaced"
	// StepAcquired: the lock is held.
	StepAcquired Step = "acquired"
	// StepWaiting: the lock is held by a live process; Lock pauses before it
	// looks again.
	StepWaiting Step = "waiting"
	// StepWoken: Lock's pause ended early: a file-change notification (the
	// lock file was removed) or the exit of the holder's process.
	StepWoken Step = "woken"
	// StepReleased: Unlock removed the lock file.
	StepReleased Step = "released"
)

// An Event reports a Step to a trace function.
type Event struct {
	Step Step
	Path string // the lock file, as given to New
	// Window is set for StepReplaced: the race window of the takeover. In
	// Fischer mode, correctness needs it to stay below the race delay; in
	// claims mode nothing depends on it, and it is reported for comparison.
	Window time.Duration
}

// WithTrace sets a function that is called at each step of acquiring and
// releasing the lock, for measurement (the race window) and for tests. It is
// called synchronously, while the FileLock's internal mutex is held: it must
// not call the same FileLock's methods, and a slow function slows the lock
// down (tests use exactly that to inject pauses between steps).
func WithTrace(f func(Event)) Option {
	return Option{func(c *config) error {
		c.trace = f
		return nil
	}}
}

// step reports a step to the trace function, if any.
func (l *FileLock) step(s Step) { l.stepWindow(s, 0) }

func (l *FileLock) stepWindow(s Step, window time.Duration) {
	if l.cfg.trace != nil {
		l.cfg.trace(Event{Step: s, Path: l.path, Window: window})
	}
}
