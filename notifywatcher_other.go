//go:build !windows

package openlock

// keepWatcher: the watcher is closed once it watches no directory.
const keepWatcher = false
