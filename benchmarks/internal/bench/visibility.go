package bench

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"
)

// Visibility measures the floor of a handoff between two clients of a
// network file system for any lock made of names: how long after a name is
// removed through mount a a link onto that name through mount b succeeds.
// A client answers a lookup of a name it has looked up lately from its
// cache, without asking the server, for up to its cache time (on GlusterFS:
// the client's md-cache, 1 s by default, counted from the answer that
// filled it). Each trial creates the name through a, links onto it through
// b until b's client has asked the server and been refused (as a waiter
// finds the lock held), waits a hold drawn uniformly from [0, 2*hold] (as
// the handoff benchmark's holders do), removes the name through a and
// times b's links, one a millisecond, until one succeeds. dirs are two
// paths to one directory.
func Visibility(dirs []string, hold time.Duration, trials int) ([]time.Duration, error) {
	if len(dirs) < 2 {
		return nil, errors.New("visibility: needs two paths to one directory")
	}
	a, b := dirs[0], dirs[1]
	src := filepath.Join(b, "visibility-source")
	if err := os.WriteFile(src, nil, 0o644); err != nil {
		return nil, err
	}
	defer os.Remove(src)
	var lat []time.Duration
	for i := range trials {
		d, err := visibilityTrial(filepath.Join(a, "visibility"), filepath.Join(b, "visibility"), src, hold)
		if err != nil {
			return nil, fmt.Errorf("visibility, trial %d: %w", i+1, err)
		}
		lat = append(lat, d)
	}
	return lat, nil
}

// visibilityTrial is one trial of Visibility: name is the name through
// mount a, alias the same name through mount b, src a file to link from
// through b.
func visibilityTrial(name, alias, src string, hold time.Duration) (time.Duration, error) {
	if err := os.WriteFile(name, nil, 0o644); err != nil {
		return 0, err
	}
	if err := linkUntil(src, alias, fs.ErrExist, time.Minute); err != nil {
		os.Remove(name)
		return 0, fmt.Errorf("waiting for %s to be seen held: %w", alias, err)
	}
	time.Sleep(rand.N(2*hold + 1))
	released := time.Now()
	if err := os.Remove(name); err != nil {
		return 0, err
	}
	if err := linkUntil(src, alias, nil, time.Minute); err != nil {
		return 0, fmt.Errorf("waiting for %s to be seen free: %w", alias, err)
	}
	d := time.Since(released)
	return d, os.Remove(alias)
}

// linkUntil links src to dst every millisecond until the link's error is
// want (nil: it succeeded; fs.ErrExist: it was refused), for at most
// timeout.
func linkUntil(src, dst string, want error, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		err := os.Link(src, dst)
		switch {
		case want == nil && err == nil, want != nil && errors.Is(err, want):
			return nil
		case err == nil: // linked while we wanted a refusal: undo and look again
			os.Remove(dst)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no %v after %v (last: %v)", want, timeout, err)
		}
		time.Sleep(time.Millisecond)
	}
}
