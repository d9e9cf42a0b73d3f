package procscan

import (
	"fmt"

	"golang.org/x/sys/windows"
)

// An ExitWatch reports the exit of one process, without polling: on
// Windows a process handle is signalled when the process exits.
type ExitWatch struct {
	stop  windows.Handle // an event: set by Stop
	done  chan struct{}  // closed when the process exits
	ended chan struct{}  // closed when wait returns
}

// WatchExit starts watching p, as System() found it. It fails if the
// process cannot be opened, or if p's PID now belongs to another process
// (it checks the start time after opening the handle, so the watch never
// follows a reused PID).
func WatchExit(p Process) (*ExitWatch, error) {
	h, err := windows.OpenProcess(windows.SYNCHRONIZE|windows.PROCESS_QUERY_LIMITED_INFORMATION, false, uint32(p.PID))
	if err != nil {
		return nil, fmt.Errorf("opening pid %d to watch its exit: %w", p.PID, err)
	}
	if now, err := (psTable{}).Process(p.PID); err != nil || now.Start != p.Start {
		windows.CloseHandle(h)
		return nil, fmt.Errorf("pid %d is no longer the process watched", p.PID)
	}
	stop, err := windows.CreateEvent(nil, 1, 0, nil)
	if err != nil {
		windows.CloseHandle(h)
		return nil, err
	}
	w := &ExitWatch{stop: stop, done: make(chan struct{}), ended: make(chan struct{})}
	go w.wait(h)
	return w, nil
}

// wait closes w.done when the process exits, and returns without when
// Stop is called first; it closes the process handle.
func (w *ExitWatch) wait(h windows.Handle) {
	defer close(w.ended)
	defer windows.CloseHandle(h)
	ev, err := windows.WaitForMultipleObjects([]windows.Handle{h, w.stop}, false, windows.INFINITE)
	if err == nil && ev == windows.WAIT_OBJECT_0 {
		close(w.done)
	}
}

// Exited returns a channel that is closed when the process exits.
func (w *ExitWatch) Exited() <-chan struct{} { return w.done }

// Stop ends the watch and frees what it holds. Exited is then never
// closed, unless the process had exited already.
func (w *ExitWatch) Stop() {
	windows.SetEvent(w.stop)
	<-w.ended
	windows.CloseHandle(w.stop)
}
