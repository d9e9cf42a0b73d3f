package openlock

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
)

// Every name openlock gives a file beside a lock file, and how a directory
// entry's name is told to be one of them.

const nonceBytes = 16

// The names of the helper files beside the lock file <lock>:
//
//	<lock>.<nonce>.token   a FileLock's token
//	<lock>.<nonce>.tmp     a token being written, a second link of it about
//	                       to be renamed over a stale lock file, or a fence
//	                       file being written
//	<lock>.break.<id>      a one-shot claim on the incarnation <id>
//	<lock>.fence           the fence counter (WithFencing)
//	<lock>.next            a waiter's reservation of the next turn (turn.go)
//	<lock>.<nonce>.after   a waiter's place in the line: a link of its
//	                       token, queued right after the FileLock whose
//	                       token has that nonce (line_linux.go)
//	<lock>.<nonce>.bell    a waiting FileLock's doorbell, a FIFO (line_linux.go)
func tokenName(lock, nonce string) string { return lock + "." + nonce + ".token" }
func nextName(lock string) string         { return lock + ".next" }
func tmpName(lock, nonce string) string   { return lock + "." + nonce + ".tmp" }
func claimName(lock, id string) string    { return lock + ".break." + id }
func fenceName(lock string) string        { return lock + ".fence" }
func afterName(lock, nonce string) string { return lock + "." + nonce + ".after" }
func bellName(lock, nonce string) string  { return lock + "." + nonce + ".bell" }

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
	bellFile
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
	case suffix == "bell":
		return bellFile
	}
	return notOurs
}

// helperBase returns the lock file's base name for the name of a helper
// file (<base>.<nonce>.token, .tmp, .after, .bell; <base>.break.<id>). A
// reservation, <base>.next, has no nonce in its name to tell it from a
// user's file: LockFiles knows it by its record.
func helperBase(name string) (string, bool) {
	if i := strings.LastIndex(name, ".break."); i > 0 && classify(name[:i], name) == claimFile {
		return name[:i], true
	}
	for _, suffix := range []string{".token", ".tmp", ".after", ".bell"} {
		rest, ok := strings.CutSuffix(name, suffix)
		if i := strings.LastIndexByte(rest, '.'); ok && i > 0 && classify(rest[:i], name) != notOurs {
			return rest[:i], true
		}
	}
	return "", false
}
