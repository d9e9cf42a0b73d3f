package fsx

import (
	"strings"

	"golang.org/x/sys/windows"
)

// localFileSystems are the file systems of a fixed volume that only this
// machine can mount. FAT and exFAT are absent: they are also what a USB
// stick or a virtual machine's shared folder reports.
var localFileSystems = map[string]bool{"NTFS": true, "REFS": true}

// Local reports whether dir is on a volume that only this machine can
// mount, so that every process that ever wrote there ran on this machine: a
// fixed drive (not DRIVE_REMOTE, not removable) formatted NTFS or ReFS. An
// SMB share, mapped to a letter or named by UNC path, is DRIVE_REMOTE.
func Local(dir string) bool {
	root, err := volumeRoot(dir)
	if err != nil {
		return false
	}
	p, err := windows.UTF16PtrFromString(root)
	if err != nil {
		return false
	}
	if windows.GetDriveType(p) != windows.DRIVE_FIXED {
		return false
	}
	var name [windows.MAX_PATH + 1]uint16
	if err := windows.GetVolumeInformation(p, nil, 0, nil, nil, nil, &name[0], uint32(len(name))); err != nil {
		return false
	}
	return localFileSystems[strings.ToUpper(windows.UTF16ToString(name[:]))]
}

// volumeRoot returns the root of the volume dir is on ("C:\", or a mount
// point's directory), with its trailing backslash, as GetDriveType wants.
func volumeRoot(dir string) (string, error) {
	p, err := windows.UTF16PtrFromString(dir)
	if err != nil {
		return "", err
	}
	var root [windows.MAX_PATH + 1]uint16
	if err := windows.GetVolumePathName(p, &root[0], uint32(len(root))); err != nil {
		return "", err
	}
	return windows.UTF16ToString(root[:]), nil
}
