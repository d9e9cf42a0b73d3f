package fsx

import "syscall"

// localTypes are file systems that live on this machine only (statfs f_type
// magic numbers). Network and FUSE file systems (which may be sshfs, or a
// host directory seen from a VM) are absent on purpose.
var localTypes = map[int64]bool{
	0xEF53:     true, // ext2, ext3, ext4
	0x58465342: true, // xfs
	0x9123683E: true, // btrfs
	0x01021994: true, // tmpfs
	0x858458F6: true, // ramfs
	0xF2F52010: true, // f2fs
	0x2FC12FC1: true, // zfs
	0xCA451A4E: true, // bcachefs
	0x794C7630: true, // overlay (its upper directory cannot be a network file system)
}

// Local reports whether dir is on a file system that only this machine can
// mount, so that every process that ever wrote there ran on this machine.
func Local(dir string) bool {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return false
	}
	return localTypes[int64(st.Type)]
}
