package openlock

import (
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/openlock/openlock/internal/testfs"
)

// Through FUSE, a mkdir of the readers' directory fails with ENOENT when
// another path removes the new directory before libfuse has looked it up
// for its reply (CI saw a writer fail so on bindfs). Readers and writers
// through the FUSE path must take that as "look again", not as an error;
// the goroutine removing the directory through the underlying path stands
// for FileLocks there closing while the directory is empty.
func TestReadersDirRemovedThroughAnotherPath(t *testing.T) {
	src := t.TempDir()
	view, err := testfs.BindfsOf(t, src)
	if err != nil {
		t.Skipf("needs bindfs: %v", err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		dir := readersDir(filepath.Join(src, "a.lock"))
		for {
			select {
			case <-stop:
				return
			default:
				syscall.Rmdir(dir)
				time.Sleep(time.Millisecond) // a pace, not a wait: closes come and go
			}
		}
	}()
	defer wg.Wait()
	defer close(stop)

	l := mustNew(t, filepath.Join(view, "a.lock"))
	for i := range 200 {
		if err := l.Lock(lockCtx(t)); err != nil {
			t.Fatalf("Lock %d: %v", i, err)
		}
		if err := l.Unlock(); err != nil {
			t.Fatalf("Unlock %d: %v", i, err)
		}
		if err := l.RLock(lockCtx(t)); err != nil {
			t.Fatalf("RLock %d: %v", i, err)
		}
		if err := l.RUnlock(); err != nil {
			t.Fatalf("RUnlock %d: %v", i, err)
		}
	}
}
