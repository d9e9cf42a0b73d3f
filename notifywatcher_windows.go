package openlock

// keepWatcher: on Windows the process keeps its one watcher once made, with
// no directory to watch. It costs a completion port and a goroutine,
// nothing counted against a small per-user limit as inotify's descriptors
// are; and under Wine 8, fsnotify's Close never returns.
const keepWatcher = true
