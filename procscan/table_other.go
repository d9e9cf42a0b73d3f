//go:build !linux

package procscan

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/shirou/gopsutil/v3/host"
	"github.com/shirou/gopsutil/v3/process"

	"github.com/openlock/openlock/fileformat"
)

// System returns the process table of this machine, as this process sees it.
//
// Outside Linux it uses gopsutil: the start time is the process creation
// time in milliseconds since the epoch (exact on macOS, Windows and the BSDs,
// where the kernel records it once) and the boot is the boot time in seconds.
func System() Table { return psTable{} }

type psTable struct{}

var identity = sync.OnceValue(func() Identity {
	h, _ := os.Hostname()
	var boot string
	if t, err := host.BootTime(); err == nil {
		boot = strconv.FormatUint(t, 10)
	}
	return Identity{Host: h, Boot: boot}
})

func (psTable) Identity() Identity { return identity() }

func (psTable) Process(pid int) (Process, error) {
	p, err := find(pid)
	if err != nil {
		return Process{}, err
	}
	ms, err := p.CreateTime()
	if err != nil {
		return Process{}, permission(pid, err)
	}
	st, _ := p.Status()
	zombie := len(st) > 0 && st[0] == process.Zombie
	return Process{PID: pid, Start: strconv.FormatInt(ms, 10), Zombie: zombie}, nil
}

func (psTable) Names(pid int) ([]string, error) {
	p, err := find(pid)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, f := range []func() (string, error){p.Cmdline, p.Exe, p.Name} {
		if s, err := f(); err == nil && s != "" {
			names = append(names, s)
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("pid %d: no name readable: %w", pid, fs.ErrPermission)
	}
	return names, nil
}

func find(pid int) (*process.Process, error) {
	if pid <= 0 || pid > 1<<31-1 {
		return nil, fmt.Errorf("pid %d: %w", pid, ErrNoProcess)
	}
	ok, err := process.PidExists(int32(pid))
	if err != nil {
		return nil, permission(pid, err)
	}
	if !ok {
		return nil, fmt.Errorf("pid %d: %w", pid, ErrNoProcess)
	}
	return process.NewProcess(int32(pid))
}

// permission classifies an error from gopsutil: access denied means the
// process exists; anything else leaves the question open.
func permission(pid int, err error) error {
	if errors.Is(err, fs.ErrPermission) || errors.Is(err, os.ErrPermission) {
		return fmt.Errorf("pid %d: %w", pid, fs.ErrPermission)
	}
	return fmt.Errorf("pid %d: %w", pid, err)
}

// StartTime converts a record's start time (milliseconds since the epoch on
// this OS) to wall-clock time, for display.
func StartTime(r fileformat.Record) (time.Time, bool) {
	ms, err := strconv.ParseInt(r.Start, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.UnixMilli(ms), true
}
