// Package fsprobe tells what a directory's file system does with the
// operations a lock file relies on: exclusive create, hard links, and
// rename over an existing file.
package fsprobe

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// A Result is what Probe found. Each error field is nil when the file system
// behaves as a lock needs, else what went wrong.
type Result struct {
	Dir string
	// Type, Mount and Source describe the file system, where the OS tells
	// (Linux: /proc/self/mountinfo): "xfs", "fuse.bindfs"; its mount
	// point; its device or source.
	Type, Mount, Source string
	// Exclusive: creating an existing name with O_EXCL fails with EEXIST.
	Exclusive error
	// Link: a hard link to a new name works and names the same file.
	Link error
	// LinkExisting: a hard link onto an existing name fails with EEXIST
	// (unknown when Link failed).
	LinkExisting error
	// RenameOver: rename over an existing file replaces it.
	RenameOver error
}

// Probe tries the operations in dir, with files of its own that it
// removes. It returns an error only when it cannot create a file in dir.
func Probe(dir string) (Result, error) {
	r := Result{Dir: dir}
	r.Mount, r.Type, r.Source = mountOf(dir)
	tag := make([]byte, 6)
	rand.Read(tag)
	name := func(s string) string {
		return filepath.Join(dir, ".openlock-probe-"+hex.EncodeToString(tag)+"-"+s)
	}
	a, b, c, d := name("a"), name("b"), name("c"), name("d")
	defer func() {
		for _, p := range []string{a, b, c, d} {
			os.Remove(p)
		}
	}()
	if err := create(a, "a"); err != nil {
		return r, fmt.Errorf("cannot create a file in %s: %w", dir, err)
	}
	r.Exclusive = expectExist("a second exclusive create", create(a, "x"))
	if err := os.Link(a, b); err != nil {
		r.Link = err
		r.LinkExisting = errors.New("not tried: no hard links")
	} else {
		r.Link = sameFile(a, b)
		if err := create(c, "c"); err != nil {
			r.LinkExisting = err
		} else {
			r.LinkExisting = expectExist("a link onto an existing name", os.Link(a, c))
		}
	}
	if err := create(d, "d"); err != nil {
		r.RenameOver = err
	} else if err := os.Rename(d, a); err != nil {
		r.RenameOver = err
	} else if got, err := os.ReadFile(a); err != nil || string(got) != "d" {
		r.RenameOver = fmt.Errorf("after renaming over it the file holds %q (%v), not the new content", got, err)
	}
	return r, nil
}

// create makes path exclusively with content.
func create(path, content string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	_, err = f.WriteString(content)
	return errors.Join(err, f.Close())
}

// expectExist turns the result of an operation that must fail with EEXIST
// into nil when it did.
func expectExist(what string, err error) error {
	switch {
	case err == nil:
		return fmt.Errorf("%s succeeded", what)
	case errors.Is(err, fs.ErrExist):
		return nil
	}
	return fmt.Errorf("%s failed with %w, not EEXIST", what, err)
}

// sameFile checks that two names are links of one file.
func sameFile(a, b string) error {
	fa, err := os.Lstat(a)
	if err != nil {
		return err
	}
	fb, err := os.Lstat(b)
	if err != nil {
		return err
	}
	if !os.SameFile(fa, fb) {
		return errors.New("the link reports another file (inode) than its source")
	}
	return nil
}

// Summary says in one line what works: "O_EXCL yes, link yes, link onto an
// existing name refused yes, rename over a file yes".
func (r Result) Summary() string {
	yes := func(err error) string {
		if err == nil {
			return "yes"
		}
		return "NO (" + err.Error() + ")"
	}
	parts := []string{
		"exclusive create (O_EXCL) " + yes(r.Exclusive),
		"hard link " + yes(r.Link),
	}
	if r.Link == nil {
		parts = append(parts, "link onto an existing name refused "+yes(r.LinkExisting))
	}
	parts = append(parts, "rename over a file "+yes(r.RenameOver))
	return strings.Join(parts, ", ")
}

// Where describes the file system: "xfs on /dev/loop0 at /mnt/x".
func (r Result) Where() string {
	if r.Type == "" {
		return "file system of unknown type"
	}
	return fmt.Sprintf("%s (%s at %s)", r.Type, r.Source, r.Mount)
}
