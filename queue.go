package openlock

import (
	"sync"

	"golang.org/x/sync/semaphore"
)

// A queue lines up the goroutines of this process that use one lock path, so
// that only one of them at a time touches the file system for it and the
// others wait without polling. Its semaphore is also what gives the race
// detector a happens-before edge from one holder to the next: it cannot see
// the file operations that exclude other processes.
type queue struct {
	key  string
	sem  *semaphore.Weighted
	refs int // FileLocks using this path; guarded by registry.mu
}

// registry maps lock paths to queues. It is reference-counted so that a
// process which opens and closes many lock paths keeps no memory for them.
var registry = struct {
	mu sync.Mutex
	m  map[string]*queue
}{m: make(map[string]*queue)}

// join returns the queue for key, creating it on first use.
func join(key string) *queue {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	q := registry.m[key]
	if q == nil {
		q = &queue{key: key, sem: semaphore.NewWeighted(1)}
		registry.m[key] = q
	}
	q.refs++
	return q
}

// leave drops one reference to q, forgetting it after the last.
func (q *queue) leave() {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	if q.refs--; q.refs == 0 {
		delete(registry.m, q.key)
	}
}
