package check

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/openlock/openlock/internal/protocol"
)

// program is what each process does: attempts at the lock, each as
// package openlock's attempt makes it (the protocol's Take, AfterTake and
// Takeover, with its pauses where the protocol asks for them), until it
// holds the lock once and releases it, or its attempts are spent.
func (p *proc) program() {
	for range p.w.cfg.Attempts {
		if p.attempt() {
			p.hold()
			return
		}
		p.pause(retryPeriod) // a waiter's look again
	}
}

// attempt is one attempt at the lock: true when p holds it.
func (p *proc) attempt() bool {
	fsys := gated{p}
	for range pacedTries {
		linkErr := protocol.Take(fsys, lock, p.tok)
		if linkErr == nil {
			return true
		}
		f, lookErr := p.Look(lock)
		switch protocol.AfterTake(fsys, p.tok, linkErr, f, lookErr) {
		case protocol.Held:
			return true
		case protocol.Vanished:
			p.pause(pacedPause)
			continue
		case protocol.TakeOver:
		default:
			return false
		}
		if p.w.cfg.Fischer && p.fischer() || !p.w.cfg.Fischer && p.takeOver(f) {
			return true
		}
		p.pause(pacedPause)
	}
	return false
}

// takeOver is package openlock's takeOver: claim, wait out the cache while
// linking now and then, re-read, replace.
func (p *proc) takeOver(f protocol.File) bool {
	fsys := gated{p}
	t := &protocol.Takeover{Lock: lock, Token: p.tok, Stale: f, ClaimName: claimName,
		CacheTime: p.client.CacheTime(), Faults: &p.w.cfg.Faults}
	for tries := 0; ; tries++ {
		r, _, _ := t.Claim(fsys, p)
		if r == protocol.Claimed {
			break
		}
		if r != protocol.Retry || tries >= pacedTries {
			return false
		}
		p.pause(pacedPause)
	}
	for {
		d := t.CachePause(fsys, retryPeriod)
		if d <= 0 {
			break
		}
		p.pause(d)
		if protocol.Take(fsys, lock, p.tok) == nil {
			t.Drop(fsys)
			return true
		}
	}
	if same, _, err := t.Reread(fsys); err != nil || !same {
		t.Drop(fsys)
		return false
	}
	switch r, _ := t.Replace(fsys); r {
	case protocol.Won:
		t.RemovePassed(fsys)
		return true
	case protocol.NotOurs:
		t.RemovePassed(fsys)
		return false
	}
	t.Drop(fsys)
	return false
}

// fischer is package openlock's fischer: overwrite, pause the race delay,
// look again; process 0 first stalls for Config.Stall.
func (p *proc) fischer() bool {
	fsys := gated{p}
	for range pacedTries {
		if p.id == 0 && p.w.cfg.Stall > 0 {
			p.pause(p.w.cfg.Stall)
		}
		if _, err := protocol.Overwrite(fsys, lock, lock+"."+p.nonce+".tmp", p.tok); err != nil {
			return false
		}
		p.pause(p.w.cfg.RaceDelay)
		cur, err := p.Look(lock)
		switch protocol.AfterOverwrite(fsys, p.tok, cur, err) {
		case protocol.FischerHeld:
			return true
		case protocol.FischerEmptied:
			continue
		}
		return false
	}
	return false
}

// hold checks that no other live process holds the lock, then releases
// it as Unlock does (protocol.Undo: remove the lock file if it is ours).
func (p *proc) hold() {
	p.holding = true
	p.w.acquisitions++
	for _, q := range p.w.procs {
		if q != p && q.holding && !q.crashed {
			p.w.fail("two exclusive holders: P%d and P%d", q.id, p.id)
			panic(crashedPanic{})
		}
	}
	p.w.trace = append(p.w.trace, fmt.Sprintf("P%d holds the lock", p.id))
	if p.w.cfg.Hold > 0 {
		p.pause(p.w.cfg.Hold)
	}
	err := protocol.Undo(gated{p}, lock, p.tok)
	p.holding = false
	if err != nil {
		p.w.fail("P%d: release: %v", p.id, err)
	}
}

// Look is the protocol's Looker: a read, and the injected verdict: a
// record is stale iff its process crashed (or is the dead holder of the
// start); an empty file is stale.
func (p *proc) Look(path string) (protocol.File, error) {
	data, fi, err := gated{p}.ReadSmall(path)
	if err != nil {
		return protocol.File{Path: path}, err
	}
	nonce := strings.TrimSuffix(string(data), "\n")
	return protocol.File{Path: path, Info: fi, Data: data, ID: nonce, Who: nonce,
		Stale: len(data) == 0 || p.w.dead[nonce]}, nil
}

// gated is p's client, each call a step the scheduler lets p take.
type gated struct{ p *proc }

func (g gated) Link(oldname, newname string) error {
	g.p.park("link " + oldname + " " + newname)
	return g.p.note(g.p.client.Link(oldname, newname))
}

func (g gated) Rename(oldname, newname string) error {
	g.p.park("rename " + oldname + " " + newname)
	return g.p.note(g.p.client.Rename(oldname, newname))
}

func (g gated) Remove(name string) error {
	g.p.park("remove " + name)
	return g.p.note(g.p.client.Remove(name))
}

func (g gated) Lstat(name string) (fs.FileInfo, error) {
	g.p.park("lstat " + name)
	fi, err := g.p.client.Lstat(name)
	return fi, g.p.note(err)
}

func (g gated) ReadSmall(name string) ([]byte, fs.FileInfo, error) {
	g.p.park("read " + name)
	data, fi, err := g.p.client.ReadSmall(name)
	if err == nil {
		g.p.w.trace = append(g.p.w.trace, fmt.Sprintf("    -> %q", data))
	}
	return data, fi, g.p.note(err)
}

func (g gated) SameFile(a, b fs.FileInfo) bool      { return g.p.client.SameFile(a, b) }
func (g gated) ChangeTime(fi fs.FileInfo) time.Time { return g.p.client.ChangeTime(fi) }
func (g gated) Now() time.Time                      { return g.p.client.Now() }

// note adds a failed step's error to the trace.
func (p *proc) note(err error) error {
	if err != nil {
		var short string
		switch {
		case errors.Is(err, fs.ErrExist):
			short = "EEXIST"
		case errors.Is(err, fs.ErrNotExist):
			short = "ENOENT"
		default:
			short = err.Error()
		}
		p.w.trace = append(p.w.trace, "    -> "+short)
	}
	return err
}
