package openlock_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/openlock/openlock"
)

// The whole life of a lock: New, Lock with a deadline, Unlock, Close.
func Example() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)

	l, err := openlock.New(filepath.Join(dir, "job.lock"))
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := l.Lock(ctx); err != nil {
		log.Fatal(err) // errors.Is(err, openlock.ErrTimeout) after 10 s
	}
	fmt.Println("holding the lock")
	if err := l.Unlock(); err != nil {
		log.Fatal(err)
	}
	// Output: holding the lock
}

// Held is this FileLock's own state, with no I/O; Locked reads the lock file
// and sees any holder.
func ExampleFileLock_Held() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "job.lock")

	a, _ := openlock.New(path)
	defer a.Close()
	b, _ := openlock.New(path)
	defer b.Close()

	a.TryLock()
	locked, _ := b.Locked()
	fmt.Println("a holds it:", a.Held())
	fmt.Println("b holds it:", b.Held())
	fmt.Println("b sees it locked:", locked)
	a.Unlock()
	fmt.Println("a after Unlock:", a.Held())
	// Output:
	// a holds it: true
	// b holds it: false
	// b sees it locked: true
	// a after Unlock: false
}

// TryLock never waits for another process.
func ExampleFileLock_TryLock() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "job.lock")

	a, _ := openlock.New(path)
	defer a.Close()
	b, _ := openlock.New(path)
	defer b.Close()

	ok, _ := a.TryLock()
	fmt.Println("a:", ok)
	ok, _ = b.TryLock()
	fmt.Println("b while a holds:", ok)
	a.Unlock()
	ok, _ = b.TryLock()
	fmt.Println("b after a let go:", ok)
	// Output:
	// a: true
	// b while a holds: false
	// b after a let go: true
}

// A deadline that passes reports both ErrTimeout and
// context.DeadlineExceeded, and names the holder.
func ExampleFileLock_Lock_timeout() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "job.lock")

	holder, _ := openlock.New(path)
	defer holder.Close()
	holder.Lock(context.Background())

	waiter, _ := openlock.New(path, openlock.WithTimeout(20*time.Millisecond))
	defer waiter.Close()
	err := waiter.Lock(context.Background())
	fmt.Println(errors.Is(err, openlock.ErrTimeout), errors.Is(err, context.DeadlineExceeded))
	// Output: true true
}

// Owner says who holds the lock, since when, and whether it lives.
func ExampleFileLock_Owner() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)

	l, _ := openlock.New(filepath.Join(dir, "job.lock"))
	defer l.Close()
	l.Lock(context.Background())

	o, held, err := l.Owner()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(held, o.PID == os.Getpid(), o.Verdict)
	// Output: true true alive
}

// Locker adapts a FileLock to code that takes a sync.Locker.
func ExampleFileLock_Locker() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)

	l, _ := openlock.New(filepath.Join(dir, "job.lock"))
	defer l.Close()

	cond := sync.NewCond(l.Locker()) // any API that wants a sync.Locker
	cond.L.Lock()
	fmt.Println("locked through sync.Locker")
	cond.L.Unlock()
	// Output: locked through sync.Locker
}

// Workers coordinated by errgroup share one lock path; other processes
// running the same code share it too. Each worker has its own FileLock; they
// queue inside the process and see each other's writes.
func Example_errgroup() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "counter.lock")

	total := 0
	g, ctx := errgroup.WithContext(context.Background())
	for range 4 {
		g.Go(func() error {
			l, err := openlock.New(path)
			if err != nil {
				return err
			}
			defer l.Close()
			for range 10 {
				if err := l.Lock(ctx); err != nil {
					return err // ctx is cancelled when another worker fails
				}
				total++ // guarded by the lock, in this process and across processes
				if err := l.Unlock(); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		log.Fatal(err)
	}
	fmt.Println(total)
	// Output: 40
}

// SetDefaults changes the settings of FileLocks created afterwards.
func ExampleSetDefaults() {
	before := openlock.GetDefaults()
	defer openlock.SetDefaults(openlock.WithTimeout(before.Timeout))

	if err := openlock.SetDefaults(openlock.WithTimeout(30 * time.Second)); err != nil {
		log.Fatal(err)
	}
	l, _ := openlock.New("job.lock")
	defer l.Close()
	fmt.Println(l.Timeout())

	err := openlock.SetDefaults(openlock.WithRetryPeriod(-time.Second))
	fmt.Println(errors.Is(err, openlock.ErrInvalidOption))
	// Output:
	// 30s
	// true
}

// LockContext hands the work a context that ends if the lock is lost (here,
// someone removes the lock file by hand), so errgroup workers stop.
func ExampleFileLock_LockContext() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "job.lock")

	l, _ := openlock.New(path)
	defer l.Close()
	held, err := l.LockContext(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	g, ctx := errgroup.WithContext(held)
	g.Go(func() error {
		<-ctx.Done() // a long job would check ctx between steps
		return context.Cause(ctx)
	})
	os.Remove(path) // an operator removes the lock file
	err = g.Wait()
	fmt.Println(errors.Is(err, openlock.ErrLockLost))
	fmt.Println(errors.Is(l.Unlock(), openlock.ErrLockLost))
	// Output:
	// true
	// true
}

// A lease lets other machines take over the lock of a holder they cannot
// check once it stops refreshing; fencing numbers the acquisitions.
func ExampleWithLease() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)

	l, _ := openlock.New(filepath.Join(dir, "job.lock"),
		openlock.WithLease(30*time.Second), openlock.WithFencing(true))
	defer l.Close()
	if err := l.Lock(context.Background()); err != nil {
		log.Fatal(err)
	}
	fence, _ := l.Fence()
	fmt.Println("fence", fence) // send it with every write to the guarded system
	l.Unlock()
	// Output: fence 1
}
