package bench

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"time"

	"github.com/openlock/openlock/fileformat"
	"github.com/openlock/openlock/procscan"
)

// A Stale writes lock files that a crashed holder on this host would have
// left: the complete record of a process that has exited, each with a new
// nonce (so each is a new incarnation, as after a real crash).
type Stale struct {
	rec fileformat.Record
}

// NewStale finds a dead PID (it runs a short child and reaps it) and returns
// a Stale for it. The record's start time matches no process, so even if the
// PID is reused, the holder it names is dead.
func NewStale() (*Stale, error) {
	c, err := start("exit", Spec{Limit: 10 * time.Second})
	if err != nil {
		return nil, err
	}
	pid := c.PID()
	if err := c.Wait(10 * time.Second); err != nil {
		return nil, err
	}
	id := procscan.System().Identity()
	return &Stale{rec: fileformat.Record{PID: pid, Name: "crashed", Version: fileformat.Version,
		Host: id.Host, Boot: id.Boot, PIDNS: id.PIDNS, Start: "1"}}, nil
}

// Write puts a new stale lock file at path, replacing whatever is there.
func (s *Stale) Write(path string) error {
	r := s.rec
	b := make([]byte, 16)
	rand.Read(b)
	r.Nonce = hex.EncodeToString(b)
	data, err := fileformat.Marshal(r)
	if err != nil {
		return err
	}
	tmp := path + ".stale"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// check verifies that the library judges the record dead.
func (s *Stale) check() error {
	if res := procscan.Judge(s.rec, procscan.System()); res.Verdict != procscan.Dead {
		return fmt.Errorf("the stale record is judged %v, not dead", res)
	}
	return nil
}
