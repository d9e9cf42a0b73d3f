package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/openlock/openlock"
)

var cleanCommand = &command{
	name:     "clean",
	synopsis: "[--dry-run] DIR|LOCKFILE",
	params:   []string{"DIR or LOCKFILE"},
	summary:  "remove what dead processes left: stale locks, claims, tokens",
	help: `
Clean removes what crashed processes left behind: lock files whose holder is
dead (stale), and the helper files of dead processes beside them (tokens
<lock>.<nonce>.token, claims <lock>.break.<id>, temporary links). Given a
directory, it cleans every lock in it that openlock knows; given a lock file,
that lock only.

Only files that name a dead process go. A live or unknown holder's files
(another host, another container) and files that are not openlock's are left
alone. A stale lock file is removed by taking it over and releasing it, so
clean never races a process that takes it over at the same moment.

Locks clean up after themselves as they are used; clean is for directories
no lock visits any more. Exit status: 0, or 2 on error, 64 on bad usage; a
DIR or LOCKFILE that does not exist is an error (unless helper files of a
lock of that name are there to clean).`,
	examples: `  openlock clean --dry-run /var/lock/myapp     # list what would go
  openlock clean /var/lock/myapp
  openlock clean /tmp/backup.lock`,
	main: cleanMain,
}

func cleanMain(c *cli, f *flagSet, args []string) int {
	dry := f.Bool("n", false, "list what would be removed; remove nothing")
	f.alias("n", "dry-run")
	pos, _, code, ok := f.parse(c, args)
	if !ok {
		return code
	}
	target := pos[0]
	locks, err := cleanTargets(target)
	if err != nil {
		c.errorf("clean: %v", err)
		return exitError
	}
	verb := "removed"
	if *dry {
		verb = "would remove"
	}
	n, code := 0, exitOK
	for _, p := range locks {
		removed, err := cleanLock(p, *dry)
		for _, r := range removed {
			fmt.Fprintf(c.stdout, "%s %s\n", verb, r)
		}
		n += len(removed)
		if err != nil {
			c.failed("clean", err)
			code = exitError
		}
	}
	if n == 0 && code == exitOK {
		fmt.Fprintf(c.stdout, "nothing to clean in %s\n", target)
	}
	return code
}

// cleanTargets returns the lock paths to clean for target: those in it, if
// it is a directory; else target itself, if it is a lock file or helper
// files of a lock of that name are beside it. Anything else is an error: a
// directory that does not exist (mistyped, perhaps) is not "clean".
func cleanTargets(target string) ([]string, error) {
	fi, err := os.Stat(target)
	switch {
	case err == nil && fi.IsDir():
		return openlock.LockFiles(target)
	case err == nil || !errors.Is(err, fs.ErrNotExist):
		return []string{target}, nil // a lock file, or the library's error to report
	}
	if err := dirExists(target); err != nil {
		return nil, err
	}
	known, err := openlock.LockFiles(filepath.Dir(target))
	if err != nil {
		return nil, err
	}
	if slices.Contains(known, filepath.Join(filepath.Dir(target), filepath.Base(target))) {
		return []string{target}, nil
	}
	return nil, fmt.Errorf("%s: no such directory or lock file", target)
}

// cleanLock cleans one lock path.
func cleanLock(path string, dry bool) ([]string, error) {
	l, err := openlock.New(path)
	if err != nil {
		return nil, err
	}
	removed, err := l.Clean(dry)
	return removed, errors.Join(err, l.Close())
}
