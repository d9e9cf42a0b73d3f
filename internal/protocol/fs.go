package protocol

import (
	"io/fs"
	"time"
)

// FS is what the protocol asks of a file system. Names are paths. Errors
// are those of package os: errors.Is finds fs.ErrExist, fs.ErrNotExist,
// fs.ErrPermission in them.
type FS interface {
	// Link makes newname a hard link of oldname; it fails with an error
	// wrapping fs.ErrExist if newname exists.
	Link(oldname, newname string) error
	// Rename renames oldname over newname in one step.
	Rename(oldname, newname string) error
	// Remove removes the name.
	Remove(name string) error
	// Lstat describes the file at name, not following a symlink.
	Lstat(name string) (fs.FileInfo, error)
	// ReadSmall reads the regular file at name, of at most MaxSize
	// bytes, and describes exactly the file read. Another kind of file
	// is an error wrapping fsx.ErrNotRegular, a larger one
	// fsx.ErrTooLarge.
	ReadSmall(name string) ([]byte, fs.FileInfo, error)
	// SameFile reports whether a and b, from this FS, describe one file.
	SameFile(a, b fs.FileInfo) bool
	// ChangeTime is the change time of the file fi describes.
	ChangeTime(fi fs.FileInfo) time.Time
	// Now is the current time, by the clock the protocol's waits use.
	Now() time.Time
}

// A File is one look at a lock file or a claim: the file read, its
// content, and the caller's verdict on the process it names.
type File struct {
	Path string
	Info fs.FileInfo // nil if there was no file to read
	Data []byte
	// Stale: the file names a dead process, or names none (empty); it
	// may be taken over.
	Stale bool
	// ID names this incarnation in the claim chain: its record's nonce,
	// or a hash of its identity and content.
	ID string
	// Who describes the holder, for the caller's logs.
	Who any
}

// A Looker reads and judges a file at a path: the caller's, since the
// verdict on a process is not the protocol's to make.
type Looker interface {
	Look(path string) (File, error)
}

// A Token is this process's token: the file the lock path and claims are
// hard links of.
type Token struct {
	Path string
	Info fs.FileInfo // its identity
	Data []byte      // its record, as written
}

// Faults re-introduces known failures, for the checker to show that it
// catches them. Nil in production.
type Faults struct {
	// SkipReread: a takeover renames over the lock without its claim's
	// re-read.
	SkipReread bool
	// SkipCacheWait: a takeover re-reads at once after its claim, whatever
	// its cache time (the stale re-read of the GlusterFS case).
	SkipCacheWait bool
}
