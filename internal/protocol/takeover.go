package protocol

import (
	"errors"
	"io/fs"
	"syscall"
	"time"

	"github.com/openlock/openlock/internal/fsx"
)

// MaxChain bounds how far a claim chain is followed before we wait and look
// again. A chain grows by one link per claimer that died mid-takeover.
const MaxChain = 64

// A Takeover is one takeover of a stale lock file by claims (see the
// package doc): Claim, then wait while CachePause says so, then Reread and
// Replace; Drop if it ends before Replace replaced the file, RemovePassed
// after. Set the exported fields; its zero state is ready to Claim.
type Takeover struct {
	Lock      string                 // the lock path
	Token     Token                  // ours
	Stale     File                   // the incarnation of the lock file judged stale
	ClaimName func(id string) string // the claim on the incarnation id
	CacheTime time.Duration          // how long a read here may lag behind the server
	Faults    *Faults                // nil in production

	started bool
	id      string
	seen    map[string]bool
	passed  []File
	claim   string    // the claim we hold, once claimed
	until   time.Time // the end of the cache wait, once claimed
}

// A ClaimOutcome is what Claim found.
type ClaimOutcome int

const (
	// Claimed: we hold the claim (Takeover.Claimed).
	Claimed ClaimOutcome = iota
	// Blocked: a live process holds the way (the File returned, or none
	// known), or a cycle or absurd chain: wait like any waiter, and look
	// again.
	Blocked
	// Retry: a claim vanished as we looked (its owner dropped it, or the
	// file system's cache hides it): pause, then call Claim again.
	Retry
	// ClaimLinkFailed: a link failed for another reason than an existing name;
	// the error returned is the link's, for the caller to explain.
	ClaimLinkFailed
)

// Claim takes the one-shot claim on the stale incarnation, following the
// chain past claims whose owners are dead, looking at each with look. It
// returns Blocked with the live claimer (nil if unknown), and an error
// only with ClaimLinkFailed or when a look failed.
func (t *Takeover) Claim(fsys FS, look Looker) (ClaimOutcome, *File, error) {
	if !t.started {
		t.started, t.id, t.seen = true, t.Stale.ID, make(map[string]bool)
	}
	for range 2 * MaxChain {
		if t.seen[t.id] || len(t.seen) >= MaxChain {
			return Blocked, nil, nil // a cycle or an absurd chain: wait and look again
		}
		t.seen[t.id] = true
		p := t.ClaimName(t.id)
		linkErr := fsys.Link(t.Token.Path, p)
		if linkErr == nil {
			return t.claimed(fsys, p), nil, nil
		}
		c, err := look.Look(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if !errors.Is(linkErr, fs.ErrExist) {
				return ClaimLinkFailed, nil, linkErr
			}
			delete(t.seen, t.id) // the same name again, after the pause
			return Retry, nil, nil
		case errors.Is(err, fs.ErrPermission):
			return Blocked, &c, nil
		case err != nil:
			return Blocked, nil, err
		case c.Info != nil && fsys.SameFile(c.Info, t.Token.Info):
			return t.claimed(fsys, p), nil, nil // ours already (a lost reply, or an earlier try)
		case !errors.Is(linkErr, fs.ErrExist):
			return ClaimLinkFailed, nil, linkErr
		case !c.Stale:
			return Blocked, &c, nil
		}
		t.passed = append(t.passed, c)
		t.id = c.ID
	}
	return Blocked, nil, nil
}

// claimed records that we hold the claim p, and when the cache wait before
// the re-read ends.
func (t *Takeover) claimed(fsys FS, p string) ClaimOutcome {
	t.claim = p
	t.until = fsys.Now()
	if t.Faults == nil || !t.Faults.SkipCacheWait {
		t.until = t.until.Add(t.CacheTime)
	}
	return Claimed
}

// Claimed is the claim we hold ("" before Claim returned Claimed), and the
// dead claims passed on the way to it.
func (t *Takeover) Claimed() (string, []File) { return t.claim, t.passed }

// CachePause is how long to pause before the re-read, at most most: 0 once
// the cache time since the claim has passed, and a read of this client
// can no longer show a file as it was before the claim. Between pauses the
// caller may Take the lock (see the package doc), and Drop the claim if
// that succeeds.
func (t *Takeover) CachePause(fsys FS, most time.Duration) time.Duration {
	return max(min(most, t.until.Sub(fsys.Now())), 0)
}

// Reread reads the lock file and each dead claim passed again. It reports
// whether all are the incarnations read before, untouched (Same); if not,
// the path that changed ("" if it is gone), and the takeover is to start
// over.
func (t *Takeover) Reread(fsys FS) (same bool, changed string, err error) {
	if t.Faults != nil && t.Faults.SkipReread {
		return true, "", nil
	}
	for _, f := range append([]File{t.Stale}, t.passed...) {
		same, err := Same(fsys, f)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return false, "", nil // released or replaced since: start over
		case err != nil:
			return false, "", err
		case !same:
			return false, f.Path, nil
		}
	}
	return true, "", nil
}

// Same reads the file at f's path again and reports whether it is still
// the file f was read from: the same inode, content and change time (a
// holder that refreshed its lease since we judged it expired is not the
// file we judged). A file that is no lock file now has changed.
func Same(fsys FS, f File) (bool, error) {
	data, fi, err := fsys.ReadSmall(f.Path)
	switch {
	case errors.Is(err, fsx.ErrNotRegular), errors.Is(err, fsx.ErrTooLarge):
		return false, nil
	case err != nil:
		return false, err
	}
	return SameIncarnation(fsys, f, File{Info: fi, Data: data}), nil
}

// SameIncarnation reports whether a and b are looks at one incarnation of
// a file, not touched in between: the same inode, content and change time.
func SameIncarnation(fsys FS, a, b File) bool {
	return a.Info != nil && b.Info != nil && fsys.SameFile(a.Info, b.Info) &&
		string(a.Data) == string(b.Data) && fsys.ChangeTime(a.Info).Equal(fsys.ChangeTime(b.Info))
}

// A ReplaceOutcome is what Replace did.
type ReplaceOutcome int

const (
	// Won: our claim is the lock file now, and it is ours: we hold the
	// lock.
	Won ReplaceOutcome = iota
	// ClaimGone: our claim was removed before the rename; look again.
	ClaimGone
	// NotOurs: the claim's name held another file, renamed onto the lock
	// path (a third party removed our claim and another process claimed
	// anew): that file is the lock file now, the next look judges it.
	NotOurs
)

// Replace renames our claim over the lock file, after Reread found it
// unchanged, and checks that what it renamed was ours. An error is the
// rename's (such as a permission's), or with NotOurs why it is not ours.
func (t *Takeover) Replace(fsys FS) (ReplaceOutcome, error) {
	if err := fsys.Rename(t.claim, t.Lock); errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESTALE) {
		return ClaimGone, nil
	} else if err != nil {
		return ClaimGone, err
	}
	t.claim = "" // it is the lock file now
	if err := Owned(fsys, t.Lock, t.Token); err != nil {
		return NotOurs, err
	}
	return Won, nil
}

// Drop removes our claim, while it is ours: once it was gone, the name is
// anyone's. Call it when the takeover ends before Replace.
func (t *Takeover) Drop(fsys FS) error {
	if t.claim == "" {
		return nil
	}
	err := Undo(fsys, t.claim, t.Token)
	t.claim = ""
	return err
}

// RemovePassed removes the dead claims passed, once Replace replaced the
// lock file: they were links in the chain of the file replaced, which is
// gone for good, so they are debris (re-read unchanged after the wait).
func (t *Takeover) RemovePassed(fsys FS) {
	for _, c := range t.passed {
		fsys.Remove(c.Path)
	}
}
