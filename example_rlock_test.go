package openlock_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"sync"

	"github.com/openlock/openlock"
)

// Readers share the lock; a writer waits until they have left, and no new
// reader comes in while it waits. Each FileLock here could be in another
// process.
func ExampleFileLock_RLock() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "cache.lock")

	r1, _ := openlock.New(path)
	defer r1.Close()
	r2, _ := openlock.New(path)
	defer r2.Close()
	w, _ := openlock.New(path)
	defer w.Close()

	ctx := context.Background()
	if err := r1.RLock(ctx); err != nil {
		log.Fatal(err)
	}
	ok, _ := r2.TryRLock()
	fmt.Println("second reader in:", ok)
	ok, _ = w.TryLock()
	fmt.Println("writer in while two read:", ok)

	r1.RUnlock()
	r2.RUnlock()
	if err := w.Lock(ctx); err != nil {
		log.Fatal(err)
	}
	fmt.Println("writer in once they left")
	ok, _ = r1.TryRLock()
	fmt.Println("reader in while the writer holds:", ok)
	w.Unlock()
	// Output:
	// second reader in: true
	// writer in while two read: false
	// writer in once they left
	// reader in while the writer holds: false
}

// RLocker adapts the shared lock to sync.Locker, as sync.RWMutex's does.
func ExampleFileLock_RLocker() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	l, err := openlock.New(filepath.Join(dir, "cache.lock"))
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()

	var rl sync.Locker = l.RLocker()
	rl.Lock()
	readers, _ := l.Readers()
	fmt.Println("readers:", len(readers), readers[0].Verdict)
	rl.Unlock()
	// Output:
	// readers: 1 alive
}
