package openlock

// notifyIdle is 0 on Windows: the watch of a directory is removed as soon
// as its last watch stops. A watched directory is held open, and where
// deletes are not POSIX-style (Windows before 10 1607, FAT, Wine) an open
// directory cannot go: removed, it stays "delete pending" and its parent
// cannot be removed either.
const notifyIdle = 0

// keepWatcher: on Windows the process keeps its one watcher once made,
// without directories to watch. It costs a completion port and a
// goroutine, nothing counted against a small per-user limit as inotify's
// descriptors are; and under Wine 8, fsnotify's Close never returns.
const keepWatcher = true
