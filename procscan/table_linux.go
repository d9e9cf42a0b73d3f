package procscan

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/openlock/openlock/fileformat"
	"github.com/openlock/openlock/internal/fsx"
	"golang.org/x/sys/unix"
)

// System returns the process table of this machine, as this process sees it.
//
// On Linux it reads /proc: the start time is field 22 of /proc/PID/stat,
// exact in clock ticks since boot and immune to wall-clock steps; the boot is
// /proc/sys/kernel/random/boot_id and the PID namespace /proc/self/ns/pid.
func System() Table { return procTable{} }

type procTable struct{}

var identity = sync.OnceValue(func() Identity {
	host, _ := os.Hostname()
	boot, _ := os.ReadFile("/proc/sys/kernel/random/boot_id")
	ns, _ := os.Readlink("/proc/self/ns/pid")
	machine, err := os.ReadFile("/etc/machine-id")
	if err != nil {
		machine, _ = os.ReadFile("/var/lib/dbus/machine-id")
	}
	return Identity{Host: host, Machine: string(bytes.TrimSpace(machine)),
		Boot: string(bytes.TrimSpace(boot)), PIDNS: ns}
})

func (procTable) Identity() Identity { return identity() }

// ownProc reports whether /proc shows this process's own PID namespace. In a
// PID namespace entered without mounting a /proc of its own (unshare --pid
// without --mount-proc, some container setups), /proc/N describes another
// namespace's process N, and judging by it would declare live holders dead.
var ownProc = sync.OnceValue(func() bool {
	self, err := os.Readlink("/proc/self")
	return err == nil && self == strconv.Itoa(os.Getpid())
})

func (procTable) Process(pid int) (Process, error) {
	if pid <= 0 {
		return Process{}, fmt.Errorf("pid %d: %w", pid, ErrNoProcess)
	}
	dir := "/proc/" + strconv.Itoa(pid)
	switch {
	case pid == os.Getpid():
		dir = "/proc/self" // right even when /proc is another namespace's
	case !ownProc():
		return Process{}, fmt.Errorf("cannot check pid %d: /proc shows another PID namespace than this process's (mount a /proc of its own)", pid)
	}
	var buf [statBuf]byte
	b, err := readStat(dir+"/stat", buf[:])
	if errors.Is(err, syscall.ESRCH) {
		// Reaped between the open and the read: look again, which finds
		// it gone (or a new process with its PID, and its start time).
		b, err = readStat(dir+"/stat", buf[:])
	}
	if errors.Is(err, fs.ErrNotExist) {
		// /proc may hide other users' processes (hidepid=2); the kernel's
		// own answer to kill(pid, 0) does not.
		return Process{}, probe(pid)
	}
	if err != nil {
		return Process{}, err
	}
	return parseStat(pid, b)
}

// statBuf holds any /proc/PID/stat: 52 numeric fields and a command name of
// at most 64 bytes come to well under a kilobyte.
const statBuf = 1024

// readStat reads the small /proc file at path into buf with bare system
// calls (waiters judge holders often; package os would add an allocation,
// a finalizer and three system calls), and through package os if buf is
// too small. Its errors are package os's.
func readStat(path string, buf []byte) ([]byte, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	n, err := fsx.ReadFull(fd, buf)
	switch {
	case err != nil:
		return nil, &fs.PathError{Op: "read", Path: path, Err: err}
	case n < len(buf):
		return buf[:n], nil
	}
	return os.ReadFile(path)
}

// probe asks the kernel whether pid exists. ESRCH is the only certain "no".
func probe(pid int) error {
	switch err := syscall.Kill(pid, 0); err {
	case syscall.ESRCH:
		return fmt.Errorf("pid %d: %w", pid, ErrNoProcess)
	case nil, syscall.EPERM:
		return fmt.Errorf("pid %d is hidden in /proc: %w", pid, fs.ErrPermission)
	default:
		return fmt.Errorf("probing pid %d: %w", pid, err)
	}
}

// parseStat reads the state (field 3), the thread count (field 20) and the
// start time (field 22) of /proc/PID/stat. The command name (field 2) may
// hold spaces and parentheses, so fields are counted after its last ')'.
func parseStat(pid int, b []byte) (Process, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return Process{}, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	const state, threads, start = 0, 17, 19 // fields 3, 20 and 22, counted from field 3
	var f [start + 1][]byte
	k := 0
	for field := range bytes.FieldsSeq(b[i+1:]) {
		if k > start {
			break
		}
		f[k] = field
		k++
	}
	if k <= start {
		return Process{}, fmt.Errorf("/proc/%d/stat: only %d fields after the name", pid, k)
	}
	if _, err := strconv.ParseUint(string(f[start]), 10, 64); err != nil {
		return Process{}, fmt.Errorf("/proc/%d/stat: start time %q: %w", pid, f[start], err)
	}
	n, err := strconv.Atoi(string(f[threads]))
	if err != nil {
		return Process{}, fmt.Errorf("/proc/%d/stat: thread count %q: %w", pid, f[threads], err)
	}
	// A thread-group leader that has exited while other threads run shows
	// as a zombie too; it is dead only when no thread is left.
	st := string(f[state])
	exited := st == "Z" || st == "X"
	return Process{PID: pid, Start: string(f[start]), Zombie: exited && n <= 1}, nil
}

func (procTable) Names(pid int) ([]string, error) {
	if !ownProc() {
		return nil, fmt.Errorf("cannot check pid %d: /proc shows another PID namespace than this process's", pid)
	}
	dir := "/proc/" + strconv.Itoa(pid)
	cmd, err := os.ReadFile(dir + "/cmdline")
	if errors.Is(err, fs.ErrNotExist) {
		return nil, probe(pid)
	}
	if err != nil {
		return nil, err
	}
	names := strings.Split(strings.TrimRight(string(cmd), "\x00"), "\x00")
	if exe, err := os.Readlink(dir + "/exe"); err == nil {
		names = append(names, exe)
	}
	if comm, err := os.ReadFile(dir + "/comm"); err == nil {
		names = append(names, strings.TrimSpace(string(comm)))
	}
	return names, nil
}

// userHZ is the unit of /proc/PID/stat times: USER_HZ, 100 on every Linux
// architecture Go supports.
const userHZ = 100

// bootTime is when this machine booted, by the wall clock: now minus the
// time since boot (CLOCK_BOOTTIME, which counts suspended time as start
// times do). /proc/stat's btime would do, but it is rounded to the second.
func bootTime() (time.Time, bool) {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
		return time.Time{}, false
	}
	return time.Now().Add(-time.Duration(ts.Nano())), true
}

// StartTime converts a record's start time to wall-clock time, for display.
// It needs the holder's boot to be this one; ok is false otherwise. The
// result is exact to 1/100 s but moves with the wall clock; liveness checks
// never use it.
func StartTime(r fileformat.Record) (t time.Time, ok bool) {
	ticks, err := strconv.ParseUint(r.Start, 10, 64)
	boot, ok := bootTime()
	if err != nil || r.Boot != identity().Boot || !ok {
		return time.Time{}, false
	}
	return boot.Add(time.Duration(ticks) * (time.Second / userHZ)).Round(time.Second / userHZ), true
}
