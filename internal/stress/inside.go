package stress

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/openlock/openlock/procscan"
)

// A marker checks mutual exclusion inside the critical section, independently
// of the lock and of any clock: entering creates the file <lock>.inside
// exclusively (O_EXCL), holding this process's pid and start time; leaving
// removes it. Finding the file there, naming a process that is still alive,
// is an overlap. A marker whose process is dead was left by a holder killed
// inside; it is removed.
type marker struct {
	path  string
	me    string // "<pid> <start>"
	table procscan.Table
}

// MarkerSuffix is appended to the lock path to name the marker file.
const MarkerSuffix = ".inside"

// newMarker returns the marker at path: the lock's name + MarkerSuffix.
func newMarker(path string) (*marker, error) {
	t := procscan.System()
	p, err := t.Process(os.Getpid())
	if err != nil {
		return nil, fmt.Errorf("reading this process's start time: %w", err)
	}
	return &marker{path: path, me: strconv.Itoa(p.PID) + " " + p.Start + "\n", table: t}, nil
}

// enter creates the marker. It returns the pid of a live process found
// inside (an overlap), or 0.
func (m *marker) enter() (int, error) {
	for {
		f, err := os.OpenFile(m.path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			_, err = f.WriteString(m.me)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			return 0, err
		}
		if !errors.Is(err, fs.ErrExist) {
			return 0, err
		}
		b, err := m.read()
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return 0, err
		}
		if pid, alive := m.alive(b); alive {
			return pid, nil
		}
		// Left by a holder that was killed inside.
		if err := os.Remove(m.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return 0, err
		}
	}
}

// read returns the marker's content. An empty marker is being written, or
// was left by a process killed between creating and writing it: read looks
// again after a pause, so that a live writer is seen.
func (m *marker) read() (string, error) {
	b, err := os.ReadFile(m.path)
	if err == nil && len(b) == 0 {
		time.Sleep(20 * time.Millisecond)
		b, err = os.ReadFile(m.path)
	}
	return string(b), err
}

// alive reports whether the marker content names a live process, and which.
// Only a certain answer counts as alive (an overlap is a grave claim): an
// error looking the process up is asked again, since a process being reaped
// can make one read of /proc fail.
func (m *marker) alive(content string) (int, bool) {
	pidText, start, ok := strings.Cut(strings.TrimSpace(content), " ")
	pid, err := strconv.Atoi(pidText)
	if !ok || err != nil {
		return 0, false // empty or garbage: left by a process killed while writing it
	}
	for range 3 {
		p, err := m.table.Process(pid)
		switch {
		case errors.Is(err, procscan.ErrNoProcess):
			return pid, false
		case err == nil:
			return pid, p.Start == start && !p.Zombie
		}
		time.Sleep(time.Millisecond)
	}
	return pid, false
}

// leave removes the marker.
func (m *marker) leave() error { return os.Remove(m.path) }
