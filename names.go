package openlock

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"
)

// Every name openlock gives a file beside a lock file, and how a directory
// entry's name is told to be one of them.

const nonceBytes = 16

// The names of the helper files beside the lock file <lock>:
//
//	<lock>.<nonce>.token   a FileLock's token
//	<lock>.<nonce>.tmp     a token being written, a second link of it about
//	                       to be renamed over a stale lock file (Fischer
//	                       mode), or a fence file being written
//	<lock>.break.<id>      a one-shot claim on the incarnation <id>
//	<lock>.fence           the fence counter (WithFencing)
//	<lock>.next            a waiter's reservation of the next turn (turn.go)
//	<lock>.<nonce>.after   a waiter's place in the line: a link of its
//	                       token, queued right after the FileLock whose
//	                       token has that nonce (line_linux.go)
//	<lock>.readers/        the directory of the shared lock's readers
//	                       (rlock.go)
//	<lock>.readers/<nonce>.reader
//	                       a reader's registration: a link of its token
//
// The readers' directory is the one helper name that is not a file: it is
// created by a reader and removed (rmdir, so only while empty) by a writer
// or by the Close of a FileLock that read, so that an exclusive Lock with
// no readers about pays one lookup of an absent name (readers.go).
func tokenName(lock, nonce string) string { return lock + "." + nonce + ".token" }
func nextName(lock string) string         { return lock + nextSuffix }
func tmpName(lock, nonce string) string   { return lock + "." + nonce + ".tmp" }
func claimName(lock, id string) string    { return lock + ".break." + id }
func fenceName(lock string) string        { return lock + fenceSuffix }
func readersDir(lock string) string       { return lock + ".readers" }
func readerName(lock, nonce string) string {
	return readersDir(lock) + string(filepath.Separator) + nonce + ".reader"
}

// isReaderName reports whether name, an entry of the readers' directory,
// is a reader's registration.
func isReaderName(name string) bool {
	nonce, ok := strings.CutSuffix(name, ".reader")
	return ok && validNonce(nonce)
}

const (
	nextSuffix  = ".next"
	fenceSuffix = ".fence"
)

func afterName(lock, nonce string) string { return lock + "." + nonce + ".after" }

// MaxNameLen is the longest base name of a lock file, in bytes, that New
// accepts: the helper files beside it add a suffix to that name (at most
// that of a token, ".<nonce>.token", 39 bytes), and a file name may have
// 255 bytes (NAME_MAX on Linux, macOS and the BSDs; 255 UTF-16 units on
// Windows, which a name of 255 bytes never exceeds).
const MaxNameLen = nameMax - longestSuffix

const nameMax = 255

// longestSuffix is the longest suffix a helper name adds to the lock's base
// name: a token's, ".<nonce>.token" (an entry in the line, ".<nonce>.after",
// and a claim, ".break.<id>", are as long; TestHelperNamesFit checks them
// all).
const longestSuffix = len(".") + 2*nonceBytes + len(".token")

// checkNameLen refuses a lock path whose base name is too long for the names
// of its helper files (MaxNameLen): the first helper would fail to be made
// with ENAMETOOLONG, where the lock file itself would not.
func checkNameLen(abs string) error {
	if base := filepath.Base(abs); len(base) > MaxNameLen {
		return fmt.Errorf("%w: its base name has %d bytes; the helper files beside it are named after it "+
			"with a suffix of up to %d bytes (NAME.<nonce>.token), and a file name has at most %d bytes: "+
			"use a base name of at most %d bytes", ErrNameTooLong, len(base), longestSuffix, nameMax, MaxNameLen)
	}
	return nil
}

func newNonce() string {
	b := make([]byte, nonceBytes)
	rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}

// validNonce accepts exactly what newNonce makes: a nonce from a file is
// used in a file name, so nothing else may pass.
func validNonce(s string) bool {
	if len(s) != 2*nonceBytes {
		return false
	}
	for _, c := range []byte(s) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// debrisKind says what a helper file beside the lock file is.
type debrisKind int

const (
	notOurs debrisKind = iota
	tokenFile
	tmpFile
	claimFile
	turnFile
	afterFile
)

// classify tells a helper file of the lock whose base name is base from the
// name of a directory entry.
func classify(base, name string) debrisKind {
	rest, ok := strings.CutPrefix(name, base+".")
	if !ok {
		return notOurs
	}
	if id, ok := strings.CutPrefix(rest, "break."); ok && validNonce(id) {
		return claimFile
	}
	if rest == "next" {
		return turnFile
	}
	nonce, suffix, ok := strings.Cut(rest, ".")
	switch {
	case !ok || !validNonce(nonce):
		return notOurs
	case suffix == "token":
		return tokenFile
	case suffix == "tmp":
		return tmpFile
	case suffix == "after":
		return afterFile
	}
	return notOurs
}

// fenceBase and nextBase return the lock file's name for the name of a fence
// file or a reservation. The name alone does not tell them from a user's
// file: the caller checks the record they hold (LockFiles).
func fenceBase(name string) (string, bool) { return baseBefore(name, fenceSuffix) }
func nextBase(name string) (string, bool)  { return baseBefore(name, nextSuffix) }

func baseBefore(name, suffix string) (string, bool) {
	base, ok := strings.CutSuffix(name, suffix)
	return base, ok && base != ""
}

// helperBase returns the lock file's base name for the name of a helper
// file (<base>.<nonce>.token, .tmp, .after; <base>.break.<id>). A
// reservation, <base>.next, has no nonce in its name to tell it from a
// user's file: LockFiles knows it by its record.
func helperBase(name string) (string, bool) {
	if i := strings.LastIndex(name, ".break."); i > 0 && classify(name[:i], name) == claimFile {
		return name[:i], true
	}
	for _, suffix := range []string{".token", ".tmp", ".after"} {
		rest, ok := strings.CutSuffix(name, suffix)
		if i := strings.LastIndexByte(rest, '.'); ok && i > 0 && classify(rest[:i], name) != notOurs {
			return rest[:i], true
		}
	}
	return "", false
}

// readersBase returns the lock file's base name for a directory entry that
// may be a readers' directory, <base>.readers (LockFiles checks that it is
// a directory).
func readersBase(name string) (string, bool) {
	base, ok := strings.CutSuffix(name, ".readers")
	return base, ok && base != ""
}
