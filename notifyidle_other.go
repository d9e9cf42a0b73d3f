//go:build !windows

package openlock

import "time"

// notifyIdle is how long a directory stays watched after its last watch
// stops (notify.go says why it lingers).
const notifyIdle = 5 * time.Second

// keepWatcher: the watcher is closed once it watches no directory.
const keepWatcher = false
