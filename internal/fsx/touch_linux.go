package fsx

import "syscall"

// utimeNow asks utimensat(2) for "now": with both times UTIME_NOW the
// kernel behaves as for a NULL times argument, so on NFS the server's clock
// sets the time, not ours.
const utimeNow = 1<<30 - 1

// Touch sets the file's access and modification times (and so its change
// time) to the file system's "now", without opening it.
func Touch(path string) error {
	now := syscall.Timespec{Nsec: utimeNow}
	return syscall.UtimesNano(path, []syscall.Timespec{now, now})
}
