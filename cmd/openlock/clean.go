package main

import (
	"errors"
	"fmt"
	"os"

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
no lock visits any more. Exit status: 0, or 2 on error.`,
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
	locks := []string{target}
	if fi, err := os.Stat(target); err == nil && fi.IsDir() {
		if locks, err = openlock.LockFiles(target); err != nil {
			c.errorf("clean: %v", err)
			return exitError
		}
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
			c.errorf("clean: %s", describe(err))
			code = exitError
		}
	}
	if n == 0 && code == exitOK {
		fmt.Fprintf(c.stdout, "nothing to clean in %s\n", target)
	}
	return code
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
