package fsprobe

import (
	"io/fs"

	"golang.org/x/sys/windows"
)

// sameDevice reports whether the files at paths a and b are on one volume
// (one volume serial number). Package os's FileInfo keeps the serial to
// itself, so the files are opened for it.
func sameDevice(a, b string, _, _ fs.FileInfo) bool {
	va, ok1 := volumeSerial(a)
	vb, ok2 := volumeSerial(b)
	return ok1 && ok2 && va == vb
}

// volumeSerial returns the serial number of the volume path is on.
func volumeSerial(path string) (uint32, bool) {
	p, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return 0, false
	}
	h, err := windows.CreateFile(p, 0, windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE|windows.FILE_SHARE_DELETE,
		nil, windows.OPEN_EXISTING, windows.FILE_FLAG_BACKUP_SEMANTICS, 0)
	if err != nil {
		return 0, false
	}
	defer windows.CloseHandle(h)
	var info windows.ByHandleFileInformation
	if err := windows.GetFileInformationByHandle(h, &info); err != nil {
		return 0, false
	}
	return info.VolumeSerialNumber, true
}
