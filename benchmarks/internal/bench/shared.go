package bench

import (
	"fmt"
	"os"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A Board is a few words of memory shared by the processes of one
// measurement (a file mapped by each of them). The uint32 words double as
// futexes: a process waits for a word to change without polling, and the
// process that changes it wakes the waiters.
type Board struct {
	Gen      atomic.Uint32 // handoff: acquisitions so far
	Waiting  atomic.Uint32 // handoff: processes inside Lock
	Run      atomic.Uint32 // handoff: 0 before the start, 1 running, 2 stopping
	_        uint32
	Holder   atomic.Int64 // handoff: ID of the last process to acquire
	Released atomic.Int64 // handoff: Mono() when the last holder began to release
	Stopped  atomic.Int64 // handoff: Mono() of the acquisition that ended the run
	First    atomic.Int64 // handoff: Mono() of the run's first acquisition
}

// The states of Board.Run.
const (
	runWaiting  = 0
	runRunning  = 1
	runStopping = 2
)

const boardSize = int(unsafe.Sizeof(Board{}))

// MapBoard maps the board in file path, creating the file (zeroed) if create.
// The mapping lives as long as the process.
func MapBoard(path string, create bool) (*Board, error) {
	flag := os.O_RDWR
	if create {
		flag |= os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(path, flag, 0o600)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if create {
		if err := f.Truncate(int64(boardSize)); err != nil {
			return nil, err
		}
	}
	mem, err := unix.Mmap(int(f.Fd()), 0, boardSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("mapping board %s: %w", path, err)
	}
	return (*Board)(unsafe.Pointer(&mem[0])), nil
}

// The futex operations (linux/futex.h). Not the _PRIVATE ones: the words are
// shared between processes.
const (
	futexWait = 0
	futexWake = 1
)

// Wake wakes every process waiting (in Await) on w.
func Wake(w *atomic.Uint32) {
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(w)), futexWake, uintptr(1<<31-1), 0, 0, 0)
}

// Await waits until cond holds for the value of w, or until deadline; it
// reports whether cond holds. It sleeps in the kernel until w changes (a
// futex), in slices of at most 100 ms, and never spins.
func Await(w *atomic.Uint32, cond func(uint32) bool, deadline time.Time) bool {
	for {
		v := w.Load()
		if cond(v) {
			return true
		}
		left := time.Until(deadline)
		if left <= 0 {
			return false
		}
		ts := unix.NsecToTimespec(int64(min(left, 100*time.Millisecond)))
		// EAGAIN (w is no longer v), EINTR and ETIMEDOUT all mean: look again.
		unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(w)), futexWait, uintptr(v),
			uintptr(unsafe.Pointer(&ts)), 0, 0)
	}
}
