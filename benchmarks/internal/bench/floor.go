package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"unsafe"

	"golang.org/x/sys/unix"
)

// floorMutex is the least a lock made of a name can do on Linux, with none
// of openlock's safety: Lock links a token file of its own to the lock path
// and, while that fails, waits for the path's removal through inotify
// (read through the Go runtime's poller, as openlock's waiters do); Unlock
// removes the path. A crashed holder leaves it locked forever, and every
// release wakes every waiter. It is measured beside openlock and flock so
// that the table shows what the kernel allows a handoff through the file
// system (the wake-up by inotify, the link): the floor of any lock of this
// kind.
type floorMutex struct {
	path, token string
	ino         *os.File // inotify on the lock's directory
	buf         [4096]byte
}

func openFloor(path string) (*floorMutex, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	m := &floorMutex{path: abs, token: fmt.Sprintf("%s.%d.floor", abs, os.Getpid())}
	if err := os.WriteFile(m.token, nil, 0o644); err != nil {
		return nil, err
	}
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		os.Remove(m.token)
		return nil, os.NewSyscallError("inotify_init1", err)
	}
	m.ino = os.NewFile(uintptr(fd), "inotify")
	if _, err := unix.InotifyAddWatch(fd, filepath.Dir(abs), unix.IN_DELETE); err != nil {
		m.Close()
		return nil, os.NewSyscallError("inotify_add_watch", err)
	}
	return m, nil
}

func (m *floorMutex) Lock(ctx context.Context) error {
	if d, ok := ctx.Deadline(); ok {
		m.ino.SetReadDeadline(d)
	}
	for {
		err := unix.Link(m.token, m.path)
		if err == nil {
			return nil
		}
		if !errors.Is(err, unix.EEXIST) {
			return &os.LinkError{Op: "link", Old: m.token, New: m.path, Err: err}
		}
		// The watch is never removed, so a release after the failed link
		// has queued its event: read until the lock file's removal.
		if err := m.awaitRemoval(); err != nil {
			return err
		}
	}
}

// awaitRemoval reads inotify events until one says the lock file was
// removed.
func (m *floorMutex) awaitRemoval() error {
	name := filepath.Base(m.path)
	for {
		n, err := m.ino.Read(m.buf[:])
		if err != nil {
			return err
		}
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			e := (*unix.InotifyEvent)(unsafe.Pointer(&m.buf[off]))
			b := m.buf[off+unix.SizeofInotifyEvent : off+unix.SizeofInotifyEvent+int(e.Len)]
			if i := bytes.IndexByte(b, 0); i >= 0 {
				b = b[:i]
			}
			if string(b) == name || e.Mask&unix.IN_Q_OVERFLOW != 0 {
				return nil
			}
			off += unix.SizeofInotifyEvent + int(e.Len)
		}
	}
}

func (m *floorMutex) Unlock() error { return os.Remove(m.path) }

func (m *floorMutex) Close() error {
	m.ino.Close()
	return os.Remove(m.token)
}
