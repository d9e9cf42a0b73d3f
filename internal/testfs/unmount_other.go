//go:build !linux

package testfs

import "os/exec"

func unmount(mnt string) { exec.Command("umount", mnt).Run() }
