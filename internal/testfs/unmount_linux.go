package testfs

import (
	"os/exec"
	"syscall"
)

func unmount(mnt string) {
	if exec.Command("fusermount", "-u", mnt).Run() != nil {
		syscall.Unmount(mnt, syscall.MNT_DETACH)
	}
}
