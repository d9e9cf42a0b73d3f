package openlock

import (
	"context"
	"errors"

	"os"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/openlock/openlock/procscan"
)

// A waitSet is one waiter's own descriptors, gathered in an epoll instance
// of its own, which the waiting goroutine waits on through the Go
// runtime's poller: a wake-up reaches the waiter the way the kernel wakes
// a flock(2) waiter, directly, with no watcher goroutine or channel in
// between, and while it waits the goroutine is parked, not in a system
// call. So the runtime's monitor thread (sysmon) can sleep: a thread
// blocked in a system call (ppoll(2), say) keeps it checking on that
// thread at short intervals for the first milliseconds of every wait, CPU
// that a waiter, which does nothing while it waits, would spend at every
// wait for nothing.
//
//   - ev, an eventfd: the end of ctx, or Close, interrupts the wait.
//   - ino, an inotify descriptor with one watch, on the inode of the token
//     of the one this waiter waits right behind (line_linux.go): the
//     waiter ahead in the line, through its entry, or the holder, through
//     the lock file. Every name of a token is a hard link of it, so a
//     change of its link count (IN_ATTRIB) is that process releasing the
//     lock or leaving the line (an unlink), or joining it (a link); taking
//     the lock from the line renames a name and changes nothing. The
//     release wakes the one waiter behind the releaser, and nobody else.
//   - pid, a pidfd of the same process, so that a dead one is skipped at
//     once rather than waited for, and a crashed holder is taken over.
//   - hino, a second inotify descriptor, for a waiter behind another only
//     (queued), and only for a sleep after a look that found the holder
//     still there: a watch on the holder's token, through the lock file
//     (watchHolder). Its looks are a net for a turn held up by a stopped
//     waiter ahead, which cannot come before the holder's release: the
//     watch lets the waiter sleep through the holder's turn, however long,
//     instead of looking every few retry periods.
//   - timer, a timerfd: the pause between looks.
//
// These are notifications only. Whatever wakes a waiter, it then looks at
// the lock file, which alone decides who holds the lock; a notification
// that never comes costs time (the backoff's poll still looks), never
// safety.
type waitSet struct {
	l      *FileLock
	ev     int
	ino    int  // the inotify descriptor, made on first use; -1 before
	polled bool // ino is in the epoll instance
	wd     int  // the watch in ino; -1 when none
	hino   int  // the inotify descriptor of the holder's watch, made on first use; -1 before
	hwd    int  // the holder's watch in hino; -1 when none
	pid    int  // -1 when none
	// pidOf is the process pid watches; gone, the last one seen to exit.
	pidOf, gone procscan.Process

	line           // this waiter's place in the line (line_linux.go)
	scan *lineScan // join's map of a long line, made on first use

	mu     sync.Mutex // guards ev against the interrupting AfterFuncs
	closed bool       // the wait is over: interrupts no longer write to ev
	held   bool       // the wait took the lock; leftLine is due
	rang   bool       // an interrupt wrote to ev: drain it before the next wait
	stops  [2]func() bool

	timer  int             // a timerfd in ep: the pause; -1 when none
	ep     *os.File        // the epoll instance, in the runtime's poller
	rc     syscall.RawConn // ep's, to wait on it
	parked bool            // rc waits in the poller; false: a blocking epoll_wait
	young  time.Time       // until then, wait blocks in epoll_wait (see wait); set, the release yields (yieldToNext)
	// turn is how long a turn of the lock lasted, as the last wait on
	// this set that took the lock saw it: its wait over the turns it
	// waited for (0: it gave up, or none did yet). turns is what this
	// wait waits for: the holder's turn and those of the waiters ahead
	// (until join, what the last wait waited for; 0 before any).
	turn   time.Duration
	turns  int
	events [4]unix.EpollEvent
	buf    [4096]byte // inotify events
	unread bool       // ino woke the last wait; its events are still queued
}

// A wake says why a wait ended.
type wake int

const (
	timedOut    wake = iota // the pause ended
	released                // the token watched changed: a release, or a turn
	exited                  // the process waited for exited
	interrupted             // ctx ended or the FileLock was closed
	holderMoved             // the holder watched (watchHolder) released, or its lock file went
)

// newWaitSet returns the waiter's wait set, or nil where notification is
// off (tests) or the kernel refuses an eventfd: the waiter then uses the
// process's shared watcher. A FileLock keeps its wait set (its eventfd and
// inotify descriptor, and the event buffer) from one wait to the next, so
// that a wait makes only what belongs to it: the watches, the pidfd, its
// place in the line.
func (l *FileLock) newWaitSet(ctx context.Context) *waitSet {
	if l.cfg.test.noNotify {
		return nil
	}
	l.mu.Lock()
	s := l.spare
	l.spare = nil
	if s != nil && s.held {
		s.afterHold() // not released by this FileLock (lost, or handed over)
	}
	l.mu.Unlock()
	if s == nil {
		ev, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
		if err != nil {
			l.debug("no eventfd; the shared watcher serves", "err", err)
			return nil
		}
		s = &waitSet{l: l, ev: ev, ino: -1, wd: -1, hino: -1, hwd: -1}
		if err := s.openEpoll(); err != nil {
			unix.Close(ev)
			l.debug("no epoll instance; the shared watcher serves", "err", err)
			return nil
		}
	}
	s.pid, s.closed = -1, false
	s.line = line{}
	s.young = time.Time{}
	s.stops[0] = context.AfterFunc(ctx, s.interrupt)
	s.stops[1] = context.AfterFunc(l.closing, s.interrupt)
	return s
}

// interrupt ends a wait in progress, and the next one at once.
func (s *waitSet) interrupt() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.rang = true
		one := uint64(1)
		unix.Write(s.ev, (*[8]byte)(unsafe.Pointer(&one))[:])
	}
}

// openEpoll makes the set's epoll instance, with ev in it, and hands it to
// the runtime's poller (an epoll instance is readable while one of its
// descriptors is ready). Where the poller will not take it, wait blocks in
// epoll_wait instead.
func (s *waitSet) openEpoll() error {
	fd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return os.NewSyscallError("epoll_create1", err)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return os.NewSyscallError("fcntl", err)
	}
	s.ep = os.NewFile(uintptr(fd), "epoll")
	if s.rc, err = s.ep.SyscallConn(); err != nil {
		s.ep.Close()
		return err
	}
	s.parked = s.ep.SetReadDeadline(time.Time{}) == nil
	s.add(s.ev)
	s.timer = -1
	if fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC); err == nil {
		s.timer = fd
		s.add(fd)
	}
	return nil
}

// add puts fd in the epoll instance; close(2) takes it out again.
func (s *waitSet) add(fd int) {
	s.rc.Control(func(ep uintptr) {
		ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)}
		if err := unix.EpollCtl(int(ep), unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
			s.l.debug("cannot wait on a descriptor; polling serves", "err", err)
		}
	})
}

// del takes fd, which stays open, out of the epoll instance.
func (s *waitSet) del(fd int) {
	s.rc.Control(func(ep uintptr) {
		unix.EpollCtl(int(ep), unix.EPOLL_CTL_DEL, fd, nil)
	})
}

// youngWait is how short a wait must be expected to be to block its
// thread in epoll_wait, and how long it does before it parks in the
// runtime's poller (see wait).
const youngWait = 10 * time.Millisecond

// expectTurns, once join has placed the waiter, sets how long this wait
// blocks in epoll_wait (see wait): for youngWait if the turns it waits
// for, each as long as the last wait saw them, add up to less than that.
func (s *waitSet) expectTurns() {
	s.turns = s.ahead.waiters + 1
	if s.turn > 0 && s.turn*time.Duration(s.turns) < youngWait {
		s.young = time.Now().Add(youngWait)
	}
}

// wait blocks until one of the set's events, or for at most d.
//
// A wait expected to be short (expectTurns) blocks its thread in
// epoll_wait for its first youngWait, as a flock(2) waiter blocks in
// flock: a release then wakes the waiting thread itself, which goes on at
// once, holding the runtime's processor still. Parked in the poller, the
// wake-up would take two more steps before the waiter runs: it first
// reaches the runtime's poller thread, which must take a processor, and
// the waiter's first system call then wakes the runtime's monitor thread
// (sysmon), asleep while every processor was idle. Both lie between a
// release and the next holder's taking the lock.
//
// Blocking has its price, also sysmon's: while a thread is blocked in a
// system call, sysmon checks on it at short intervals, backing off, for
// its first milliseconds (see waitSet). A short wait pays that within
// the time it waits, in a process that runs anyway; a waiter for a lock
// held long, or far back in a long line, would pay it for nothing, at
// every one of its waits, and so parks from the start. Hence the
// expectation, not the wait's own length, decides: a wait cannot know it
// is short until it is over.
//
// The pause is a timerfd in the epoll instance, not a read deadline: a Go
// timer set before every wait would, at each wait, interrupt the thread
// the runtime keeps blocked in its own poller (to make it sleep until the
// new timer), two context switches for nothing; and a waiting process
// with no Go timer lets the runtime's threads sleep until an event comes.
func (s *waitSet) wait(d time.Duration) wake {
	why := s.waitFor(d)
	s.unwatchHolder()
	return why
}

// waitFor is wait, but for the holder's watch, which outlives it.
func (s *waitSet) waitFor(d time.Duration) wake {
	if s.unread {
		// Read the events that woke the last wait. A later change (a
		// release after the one we lost) may be among them, which this
		// wait would sleep through: any event of the watch means a look
		// first (a bare link).
		s.unread = false
		if s.changed() {
			return released
		}
	}
	if d <= 0 {
		return timedOut // due already (a judgement after a lost race, say)
	}
	if !s.parked {
		return s.waitBlocking(d)
	}
	if young := time.Until(s.young); young > 0 {
		if why := s.waitBlocking(min(d, young)); why != timedOut || d <= young {
			return why
		}
		d -= young
	}
	if !s.arm(d) {
		return s.waitBlocking(d)
	}
	why := timedOut
	err := s.rc.Read(func(ep uintptr) bool {
		w, ok, err := s.poll(int(ep), 0)
		why = w
		return ok || err != nil // an error leaves polling to serve
	})
	if err != nil {
		return timedOut
	}
	return why
}

// arm sets the set's timer to go off after d (at least a nanosecond), or
// disarms it for d < 0. It reports false if there is no timer or the
// kernel refuses.
func (s *waitSet) arm(d time.Duration) bool {
	if s.timer < 0 {
		return false
	}
	var its unix.ItimerSpec
	if d >= 0 {
		its.Value = unix.NsecToTimespec(max(int64(d), 1))
	}
	return unix.TimerfdSettime(s.timer, 0, &its, nil) == nil
}

// waitBlocking is wait in a blocking epoll_wait, where the runtime's
// poller does not take the epoll instance.
func (s *waitSet) waitBlocking(d time.Duration) wake {
	deadline := time.Now().Add(d)
	var why wake
	s.rc.Control(func(ep uintptr) {
		for {
			left := time.Until(deadline)
			if left <= 0 {
				why = timedOut
				return
			}
			ms := int((left + time.Millisecond - 1) / time.Millisecond)
			w, ok, err := s.poll(int(ep), ms)
			if ok || err != nil {
				why = w
				return
			}
		}
	})
	return why
}

// poll takes the ready events of the epoll instance, waiting up to ms
// milliseconds (0: not at all), and tells why the wait ends, or false for
// none or for events that do not concern us (another file of the directory
// changed).
func (s *waitSet) poll(ep, ms int) (wake, bool, error) {
	n, err := unix.EpollWait(ep, s.events[:], ms)
	switch {
	case errors.Is(err, unix.EINTR):
		return timedOut, false, nil
	case err != nil:
		return timedOut, false, err
	}
	return s.woken(s.events[:n])
}

// woken tells why the wait ends, consuming the events, or false for events
// that do not concern us.
func (s *waitSet) woken(events []unix.EpollEvent) (wake, bool, error) {
	ready := func(fd int) bool {
		for _, e := range events {
			if int(e.Fd) == fd && fd >= 0 {
				return true
			}
		}
		return false
	}
	// Every descriptor that is ready must be dealt with before this returns
	// false: the runtime's poller sees the epoll instance edge-triggered,
	// so a descriptor left ready would raise no new edge, and the wait
	// would not end. That holds for the timer above all: a timer that went
	// off beside inotify events that do not concern us must still end the
	// wait, as the pause's end is what makes the waiter look, and only a
	// look finds a lock that came free without an event to say so.
	switch {
	case ready(s.ev):
		return interrupted, true, nil // drained by close
	case ready(s.pid):
		s.gone = s.pidOf
		s.unwatchProcess()
		s.ahead = position{} // the holder crashed, or the waiter ahead is gone
		return exited, true, nil
	case ready(s.timer):
		// The pause is over: a full look, which takes a free lock too.
		s.unread = s.unread || s.polled && ready(s.ino)
		return timedOut, true, nil // settime clears it
	case s.polled && ready(s.ino):
		// Its events are read at the next wait (unread), not on the way
		// to the lock: one system call less between a release and the
		// taking. A wake-up by events of a watch removed since costs a
		// bare link.
		s.unread = true
		return released, true, nil
	case ready(s.hino):
		return holderMoved, true, nil // unwatchHolder reads its events
	}
	return timedOut, false, nil
}

// drain reads fd until it would block.
func drain(fd int, buf []byte) {
	for {
		if n, err := unix.Read(fd, buf); n <= 0 || err != nil {
			return
		}
	}
}

// tokenEvents is what a watch on a token's inode (watchFile, watchHolder)
// waits for: a change of its link count, or its removal; not following a
// symlink at the name watched.
const tokenEvents = unix.IN_ATTRIB | unix.IN_DELETE_SELF | unix.IN_DONT_FOLLOW

// watchFile makes the set's one watch watch the inode at path (not
// following a symlink), for a change of its link count or its removal. Not
// for a rename of one of its names: the waiter ahead takes the lock by
// renaming its entry (takeFromLine), which the one behind must sleep
// through. (A name replaced by a rename lowers the replaced inode's link
// count: IN_ATTRIB.) It reports whether a new watch began (another inode than the
// one watched, or none is there any more), after which the caller must
// look once more: a change before the watch raised no event.
//
// The inotify descriptor is kept from one wait to the next, as closing one
// makes the kernel wait for a grace period; a watch is cheap to add and to
// remove, so each wait adds its own and removes it at the end.
func (s *waitSet) watchFile(path string) bool {
	if s.ino < 0 {
		fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
		if err != nil {
			s.l.debug("no inotify descriptor; polling only", "err", err)
			return false
		}
		s.ino = fd
	}
	wd, err := unix.InotifyAddWatch(s.ino, path, tokenEvents)
	if err != nil {
		s.unwatchFile()
		if errors.Is(err, unix.ENOENT) {
			return true // gone already: look
		}
		s.l.debug("cannot watch; polling only", "path", path, "err", err)
		return false
	}
	began := false
	if !s.polled {
		// A watch kept from an earlier wait (afterHold) has queued what
		// changed since: drop it, and look once more.
		s.dropEvents()
		s.add(s.ino)
		s.polled, began = true, true
	}
	if wd == s.wd {
		return began
	}
	if s.wd >= 0 {
		// Its IN_IGNORED, and what it queued, would wake the wait for
		// nothing: drop them, with whatever the new watch queued already
		// (the caller looks once more).
		unix.InotifyRmWatch(s.ino, uint32(s.wd))
		s.dropEvents()
	}
	s.wd = wd
	return true
}

// dropEvents discards the inotify events queued.
func (s *waitSet) dropEvents() {
	drain(s.ino, s.buf[:])
	s.unread = false
}

// unpoll takes the inotify descriptor out of the epoll instance: its watch
// raises nothing here until watchFile puts it back.
func (s *waitSet) unpoll() {
	if s.polled {
		s.del(s.ino)
		s.polled = false
	}
}

// unwatchFile removes the watch, with no event left for the next wait.
func (s *waitSet) unwatchFile() {
	s.unpoll()
	if s.wd >= 0 {
		unix.InotifyRmWatch(s.ino, uint32(s.wd))
		s.wd = -1
	}
	if s.ino >= 0 {
		s.dropEvents()
	}
}

// watchHolder watches, for the coming wait, the inode at the lock path (the
// holder's token, as a look just found it) for a change of its link count
// or its removal: the holder's release, or a takeover replacing its lock
// file. The wait then ends with holderMoved. It reports whether the watch
// began; a lock file gone already (a release since the look) is none.
func (s *waitSet) watchHolder() bool {
	if s.hino < 0 {
		fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
		if err != nil {
			return false
		}
		s.hino = fd
		s.add(fd)
	}
	wd, err := unix.InotifyAddWatch(s.hino, s.l.abs, tokenEvents)
	if err != nil {
		return false
	}
	s.hwd = wd
	return true
}

// watchingHolder reports whether the coming wait watches the holder.
func (s *waitSet) watchingHolder() bool { return s != nil && s.hwd >= 0 }

// unwatchHolder removes the holder's watch, if any, and what it queued.
func (s *waitSet) unwatchHolder() {
	if s.hwd >= 0 {
		unix.InotifyRmWatch(s.hino, uint32(s.hwd))
		s.hwd = -1
		drain(s.hino, s.buf[:])
	}
}

// dropWaitSet closes the wait set the FileLock keeps, if no waiter holds
// it. l.mu must be held.
func (l *FileLock) dropWaitSet() {
	if s := l.spare; s != nil {
		l.spare = nil
		if s.held {
			s.afterHold()
		}
		s.free()
	}
}

// free closes the descriptors kept from wait to wait; the inotify one in
// the background, as the kernel makes its close wait a grace period.
func (s *waitSet) free() {
	s.ep.Close()
	unix.Close(s.ev)
	if s.timer >= 0 {
		unix.Close(s.timer)
	}
	for _, fd := range []int{s.ino, s.hino} {
		if fd >= 0 {
			go unix.Close(fd)
		}
	}
}

// changed reads the pending inotify events and reports whether one is of
// the current watch (or says that events were lost, or that the kernel
// ended the watch); events of a watch removed since are not.
func (s *waitSet) changed() bool {
	found := false
	for {
		n, err := unix.Read(s.ino, s.buf[:])
		if n <= 0 || err != nil {
			return found
		}
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			e := (*unix.InotifyEvent)(unsafe.Pointer(&s.buf[off]))
			switch {
			case e.Mask&unix.IN_Q_OVERFLOW != 0:
				found = true // events were lost: look
			case int(e.Wd) != s.wd:
				// A watch removed since: nothing to do with us now.
			case e.Mask&unix.IN_IGNORED != 0:
				s.wd = -1 // the kernel ended the watch (its inode went): look
				found = true
			default:
				found = true
			}
			off += unix.SizeofInotifyEvent + int(e.Len)
		}
		if n <= len(s.buf)-maxInotifyEvent {
			// read(2) stops only at an event that does not fit: the queue
			// was empty, and a later event raises a new edge. One read
			// less on the wake-up's path.
			return found
		}
	}
}

// maxInotifyEvent is the size of the largest inotify event.
const maxInotifyEvent = unix.SizeofInotifyEvent + unix.NAME_MAX + 1

// watchProcess makes pid watch p, the holder or the waiter ahead; a
// process that cannot be watched from here leaves it to polling. judged
// says that Judge found p alive a moment ago (procscan.OpenJudgedPidfd).
func (s *waitSet) watchProcess(p procscan.Process, judged bool) {
	if s.pid >= 0 && s.pidOf == p {
		return
	}
	s.unwatchProcess()
	open := procscan.OpenPidfd
	if judged {
		open = procscan.OpenJudgedPidfd
	}
	fd, err := open(p)
	if err != nil {
		return
	}
	s.pid, s.pidOf = fd, p
	s.add(fd)
}

func (s *waitSet) unwatchProcess() {
	if s.pid >= 0 {
		unix.Close(s.pid)
		s.pid, s.pidOf = -1, procscan.Process{}
	}
}

// close ends a wait that did not take the lock: the watches go, and the
// FileLock keeps the rest for its next wait (or frees it, once closed).
func (s *waitSet) close() {
	s.turn = 0
	s.unwatchHolder()
	s.endWait()
	s.unwatchFile()
	s.unwatchProcess()
	s.keep()
}

// hold ends a wait that took the lock, waited after Lock was called, doing
// as little as it can, so that Lock returns at once: the interrupts stop,
// and the inotify descriptor leaves the epoll instance (the watch stays in
// the kernel until the release, but raises nothing here). Our place in the
// line and the timer stay until the release (leftLine).
func (s *waitSet) hold(waited time.Duration) {
	if s == nil {
		return
	}
	s.stopInterrupts()
	s.held = true
	if waited > 0 && s.turns > 0 {
		s.turn = waited / time.Duration(s.turns)
	}
	s.unpoll()
	s.keep()
}

// endWait ends a wait: the interrupts stop and the timer is disarmed, so
// that the kept set raises nothing until its next wait.
func (s *waitSet) endWait() {
	s.stopInterrupts()
	s.arm(-1)
}

// stopInterrupts stops the interrupts and drains what they wrote.
func (s *waitSet) stopInterrupts() {
	for _, stop := range s.stops {
		stop()
	}
	s.mu.Lock()
	s.closed = true
	if s.rang {
		s.rang = false
		var b [8]byte
		unix.Read(s.ev, b[:])
	}
	s.mu.Unlock()
}

// keep gives the set back to the FileLock for its next wait.
func (s *waitSet) keep() {
	l := s.l
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed || l.spare != nil {
		if s.held {
			s.afterHold()
		}
		s.free()
		return
	}
	l.spare = s
}

// leftLine, at the release of a lock taken from the line, removes our place
// in it and the watches kept since, after yielding the processor to the
// waiter the release woke if the wait was expected to be short (yieldToNext).
// l.mu must be held.
func (l *FileLock) leftLine() {
	if s := l.spare; s != nil && s.held {
		if !s.young.IsZero() {
			l.yieldToNext()
		}
		s.afterHold()
	}
}

// yieldToNext gives up this thread's processor once (sched_yield(2)), right
// after a release woke the waiter behind us. The kernel wakes a task near
// its waker, often on the waker's processor, where it runs only when the
// waker stops or its time there is up (Linux's EEVDF scheduler no longer
// preempts for every wake-up): the next holder would wait for the rest of
// our release and for whatever our caller runs next. A flock(2) waiter
// waits so too, behind a releaser that is back in user space at once.
//
// The yield is for short waits only (expectTurns: few waiters, turns that
// come fast), as there the waiter it lets run first is, by all odds, the
// one just woken. In a long line, other processes of the line are often
// ready on this processor too, and our own return waits for all of them:
// a yield there shortens the handoff but delays our own next request at
// every release, which a long line pays in throughput.
func (l *FileLock) yieldToNext() {
	if l.cfg.test.yielded != nil {
		l.cfg.test.yielded()
	}
	syscall.Syscall(syscall.SYS_SCHED_YIELD, 0, 0, 0)
}

// afterHold is leftLine's work. The waiter after us watches our token: the
// lock file's removal, just made, woke it. Our entry is gone already where
// we took the lock by renaming it (takeFromLine); where we linked instead,
// its removal here raises one more event, for it or for a newcomer behind
// us. l.mu must be held.
func (s *waitSet) afterHold() {
	s.held = false
	s.leaveLine()
	s.endWait()
	s.unwatchProcess()
	// The watch stays, out of the epoll instance, until the next wait
	// replaces it (watchFile) or Close: its removal would cost the release
	// the kernel's teardown of the watch, when the next holder should run.
}

// covered reports whether notification covers every way the lock can come
// free to this waiter, so that its looks are only a safety net: the lock
// directory is local (on a network file system, other machines' changes
// raise no event here), and the waiter waits right behind the holder (or
// behind a waiter that holds the lock now) and watches its token and its
// process (a release, a removal, a crash). A waiter behind another that
// waits is not covered: it waits for that one's turn, which a stopped
// process may hold up, so it keeps looking every two retry periods (queued). A
// holder that cannot be watched (another PID namespace, a lease to run
// out) leaves the wait uncovered.
func (s *waitSet) covered() bool {
	return s != nil && s.local && s.wd >= 0 && s.pid >= 0 && (s.ahead.behindHolder() || s.ahead.holds)
}

// queued reports whether this waiter waits in the line behind another
// waiter, whose token it watches: its own looks are only a net for a turn
// that does not come.
func (s *waitSet) queued() bool {
	return s != nil && s.local && s.wd >= 0 && !s.ahead.behindHolder() && !s.ahead.holds
}

// exitedProcess is the process whose exit ended the last wait (exited).
func (s *waitSet) exitedProcess() procscan.Process { return s.gone }

// waitersAhead is how many waiters were ahead of this one when it joined
// the line.
func (s *waitSet) waitersAhead() int { return s.ahead.waiters }

// holderProcess is the process a holder's record names, if it can be
// watched from here.
func holderProcess(h *holder) (procscan.Process, bool) {
	if h == nil || h.fi == nil || h.bad != nil || h.res.Verdict != procscan.Alive || h.rec.Seed() {
		return procscan.Process{}, false
	}
	return procscan.Process{PID: h.rec.PID, Start: h.rec.Start}, true
}
