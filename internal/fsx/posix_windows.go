package fsx

import (
	"errors"
	"os"
	"path/filepath"
	"unsafe"

	"golang.org/x/sys/windows"
)

// On Windows, a file that another process has open (sharing deletion)
// can be removed or replaced by rename only with POSIX semantics
// (FileDispositionInfoEx, FileRenameInfoEx; Windows 10 1607 and later, on
// NTFS): the name goes at once, while the old file lives on for its open
// handles. Without them, a removed file stays "delete pending", its name
// taken, and a rename over an open file is denied. Where they are missing
// (older Windows, FAT, a network share, Wine 8), package os's DeleteFile
// and MoveFileEx are used, with the retries of Retry.

// removeFile removes path, with POSIX semantics where Windows has them.
func removeFile(path string) error {
	err := posixRemove(path)
	if err == nil || !posixUnsupported(err) {
		return pathError("remove", path, err)
	}
	return os.Remove(path)
}

// posixRemove removes path with FileDispositionInfoEx's POSIX semantics.
func posixRemove(path string) error {
	var info struct{ Flags uint32 }
	info.Flags = windows.FILE_DISPOSITION_DELETE | windows.FILE_DISPOSITION_POSIX_SEMANTICS |
		windows.FILE_DISPOSITION_IGNORE_READONLY_ATTRIBUTE
	return setInfo(path, windows.FileDispositionInfoEx, (*byte)(unsafe.Pointer(&info)), uint32(unsafe.Sizeof(info)))
}

// removeVia removes path, with POSIX semantics where Windows has them, or
// else by renaming it to via (RemoveVia says why) and removing that.
func removeVia(path, via string) error {
	err := posixRemove(path)
	if err == nil || !posixUnsupported(err) {
		return pathError("remove", path, err)
	}
	if err := renameFile(path, via); err != nil { // retried by RemoveVia
		return err
	}
	// path is free now; via, if it stays, is the caller's debris to sweep.
	os.Remove(via)
	return nil
}

// renameFile renames oldpath to newpath, replacing it, with POSIX
// semantics where Windows has them.
func renameFile(oldpath, newpath string) error {
	abs, err := filepath.Abs(newpath)
	if err != nil {
		return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: err}
	}
	name, err := windows.UTF16FromString(abs)
	if err != nil {
		return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: err}
	}
	// FILE_RENAME_INFO: Flags (a union with BOOLEAN ReplaceIfExists),
	// RootDirectory, FileNameLength in bytes, then the name, unterminated.
	type renameInfo struct {
		Flags          uint32
		RootDirectory  windows.Handle
		FileNameLength uint32
		FileName       [1]uint16
	}
	size := unsafe.Offsetof(renameInfo{}.FileName) + uintptr(len(name))*2
	buf := make([]uint64, (size+7)/8) // aligned as the struct is
	info := (*renameInfo)(unsafe.Pointer(&buf[0]))
	info.Flags = windows.FILE_RENAME_REPLACE_IF_EXISTS | windows.FILE_RENAME_POSIX_SEMANTICS
	info.FileNameLength = uint32(len(name)-1) * 2
	copy(unsafe.Slice(&info.FileName[0], len(name)), name)
	err = setInfo(oldpath, windows.FileRenameInfoEx, (*byte)(unsafe.Pointer(info)), uint32(size))
	if err == nil {
		return nil
	}
	if !posixUnsupported(err) {
		return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: err}
	}
	return os.Rename(oldpath, newpath)
}

// setInfo opens path itself (never a reparse point's target) for deletion,
// sharing everything, and sets its information of class to buf.
func setInfo(path string, class uint32, buf *byte, size uint32) error {
	p, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return err
	}
	h, err := windows.CreateFile(p, windows.DELETE|windows.SYNCHRONIZE,
		windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE|windows.FILE_SHARE_DELETE, nil,
		windows.OPEN_EXISTING, windows.FILE_FLAG_OPEN_REPARSE_POINT|windows.FILE_FLAG_BACKUP_SEMANTICS, 0)
	if err != nil {
		return err
	}
	defer windows.CloseHandle(h)
	return windows.SetFileInformationByHandle(h, class, buf, size)
}

// posixUnsupported reports whether err says that this Windows, or this
// file system, has no POSIX-semantics delete or rename.
func posixUnsupported(err error) bool {
	return errors.Is(err, windows.ERROR_INVALID_PARAMETER) ||
		errors.Is(err, windows.ERROR_NOT_SUPPORTED) ||
		errors.Is(err, windows.ERROR_INVALID_FUNCTION) ||
		errors.Is(err, windows.ERROR_CALL_NOT_IMPLEMENTED)
}

// pathError is nil for a nil err, else err wrapped with op and path.
func pathError(op, path string, err error) error {
	if err == nil {
		return nil
	}
	return &os.PathError{Op: op, Path: path, Err: err}
}
