package main

import (
	"os"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"
)

// childAttr sets nothing on Windows: adopt ties the command to openlock
// once it has started.
func childAttr() *syscall.SysProcAttr { return nil }

// job is openlock's kill-on-close job object. However openlock's process
// ends, killed included, Windows closes its handles, this one among them,
// and then kills every process in the job: the command must never run
// without the lock it was started under.
var job = sync.OnceValues(func() (windows.Handle, error) {
	h, err := windows.CreateJobObject(nil, nil)
	if err != nil {
		return 0, err
	}
	var info windows.JOBOBJECT_EXTENDED_LIMIT_INFORMATION
	info.BasicLimitInformation.LimitFlags = windows.JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
	if _, err := windows.SetInformationJobObject(h, windows.JobObjectExtendedLimitInformation,
		uintptr(unsafe.Pointer(&info)), uint32(unsafe.Sizeof(info))); err != nil {
		windows.CloseHandle(h)
		return 0, err
	}
	return h, nil
})

// adopt puts the started command p into openlock's job, and with it the
// processes it starts from then on (one started in the moment before is
// not: Go starts the command running).
func adopt(p *os.Process) error {
	j, err := job()
	if err != nil {
		return err
	}
	h, err := windows.OpenProcess(windows.PROCESS_SET_QUOTA|windows.PROCESS_TERMINATE, false, uint32(p.Pid))
	if err != nil {
		return err
	}
	defer windows.CloseHandle(h)
	return windows.AssignProcessToJobObject(j, h)
}
