package bench

import (
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/openlock/openlock"
)

// FischerRaceDelay is the race delay the takeover sampler gives Fischer
// mode. The race window ends with the write, before the race delay's sleep,
// so the sleep's length does not change the window; a short one only lets
// more takeovers be sampled in a given time. Windows are reported as a
// fraction of the default race delay, openlock.GetDefaults().RaceDelay.
const FischerRaceDelay = time.Millisecond

// A Takeovers samples the race window of openlock's stale-lock takeover:
// each Take writes a stale lock file (a dead holder's record), takes it over
// with TryLock, releases it, and records the window the library reports
// through WithTrace (StepReplaced: from the observation of the stale lock
// to the completed atomic write).
type Takeovers struct {
	Mode    openlock.Takeover
	Windows []time.Duration // one per Take

	path  string
	stale *Stale
	lock  *openlock.FileLock
	got   time.Duration // the window of the takeover in progress
	seen  bool
}

// NewTakeovers prepares to sample takeovers in mode, on a lock file in dir.
// Close it when done.
func NewTakeovers(dir string, mode openlock.Takeover, stale *Stale) (*Takeovers, error) {
	if err := stale.check(); err != nil {
		return nil, err
	}
	t := &Takeovers{Mode: mode, path: filepath.Join(dir, "takeover-"+mode.String()+".lock"), stale: stale}
	l, err := openlock.New(t.path,
		openlock.WithTakeover(mode),
		openlock.WithRaceDelay(FischerRaceDelay),
		// Fischer mode warns when the window exceeds 2/3 of the race delay:
		// with a 1 ms delay it would, and the warning is not what we measure.
		openlock.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
		openlock.WithTrace(func(e openlock.Event) {
			if e.Step == openlock.StepReplaced {
				t.got, t.seen = e.Window, true
			}
		}))
	if err != nil {
		return nil, err
	}
	t.lock = l
	return t, nil
}

// Take makes one stale lock, takes it over and releases it.
func (t *Takeovers) Take() error {
	if err := t.stale.Write(t.path); err != nil {
		return err
	}
	t.seen = false
	ok, err := t.lock.TryLock()
	switch {
	case err != nil:
		return err
	case !ok:
		return fmt.Errorf("%v takeover of a stale lock: TryLock returned false: %w", t.Mode, errUnexpected)
	case !t.seen:
		t.lock.Unlock()
		return fmt.Errorf("%v takeover: the trace reported no race window: %w", t.Mode, errUnexpected)
	}
	t.Windows = append(t.Windows, t.got)
	return t.lock.Unlock()
}

// Close releases the FileLock.
func (t *Takeovers) Close() error { return t.lock.Close() }
