// Package simfs is a simulated file system for the protocol's checker: a
// server that holds names and inodes (link counts, change and modification
// times from a simulated clock) and decides link, rename, exclusive create
// and unlink atomically, and clients that answer lookups, attributes and
// content from caches that may be up to their cache time behind the
// server, as GlusterFS and NFS clients do: positive and negative entries
// alike. Each Client is a protocol.FS. Everything is deterministic: the
// clock moves only when told (Clock.Advance), and nothing iterates a map
// where order shows.
//
// It is not safe for concurrent use: the checker runs one step at a time.
package simfs

import (
	"io/fs"
	"os"
	"syscall"
	"time"

	"github.com/openlock/openlock/internal/fsx"
)

// MaxSize is the largest file ReadSmall reads (fileformat.MaxSize's role).
const MaxSize = 4096

// A Clock is simulated time.
type Clock struct{ now time.Time }

// NewClock is a clock at a fixed epoch.
func NewClock() *Clock { return &Clock{now: time.Unix(1_700_000_000, 0)} }

// Now is the simulated time.
func (c *Clock) Now() time.Time { return c.now }

// Advance moves the clock d forward (never back).
func (c *Clock) Advance(d time.Duration) {
	if d > 0 {
		c.now = c.now.Add(d)
	}
}

// An inode is a file on the server.
type inode struct {
	ino          uint64
	data         []byte
	nlink        int
	ctime, mtime time.Time
}

// A Server holds the names and inodes, and decides every change.
type Server struct {
	clock *Clock
	names map[string]*inode
	last  uint64
}

// NewServer is an empty file system on clock.
func NewServer(clock *Clock) *Server {
	return &Server{clock: clock, names: make(map[string]*inode)}
}

// Create makes name a new file holding data, if name does not exist
// (O_CREAT|O_EXCL and a write, in one step).
func (s *Server) Create(name string, data []byte) error {
	if _, ok := s.names[name]; ok {
		return pathErr("open", name, syscall.EEXIST)
	}
	s.last++
	now := s.clock.Now()
	s.names[name] = &inode{ino: s.last, data: append([]byte(nil), data...), nlink: 1, ctime: now, mtime: now}
	return nil
}

// Names is the set of names, for the checker's view of a state.
func (s *Server) Names() map[string]uint64 {
	m := make(map[string]uint64, len(s.names))
	for n, in := range s.names {
		m[n] = in.ino
	}
	return m
}

// Ino is the inode number at name, 0 if none.
func (s *Server) Ino(name string) uint64 {
	if in, ok := s.names[name]; ok {
		return in.ino
	}
	return 0
}

func (s *Server) link(oldname, newname string) error {
	in, ok := s.names[oldname]
	switch {
	case !ok:
		return linkErr("link", oldname, newname, syscall.ENOENT)
	case s.names[newname] != nil:
		return linkErr("link", oldname, newname, syscall.EEXIST)
	}
	s.names[newname] = in
	in.nlink++
	in.ctime = s.clock.Now()
	return nil
}

func (s *Server) rename(oldname, newname string) error {
	in, ok := s.names[oldname]
	if !ok {
		return linkErr("rename", oldname, newname, syscall.ENOENT)
	}
	if oldname == newname {
		return nil
	}
	now := s.clock.Now()
	if old := s.names[newname]; old != nil {
		old.nlink--
		old.ctime = now
	}
	s.names[newname] = in
	delete(s.names, oldname)
	in.ctime = now
	return nil
}

func (s *Server) remove(name string) error {
	in, ok := s.names[name]
	if !ok {
		return pathErr("remove", name, syscall.ENOENT)
	}
	delete(s.names, name)
	in.nlink--
	in.ctime = s.clock.Now()
	return nil
}

// lookup is the server's answer for name: a snapshot, or absent.
func (s *Server) lookup(name string) entry {
	in, ok := s.names[name]
	if !ok {
		return entry{at: s.clock.Now()}
	}
	return entry{present: true, at: s.clock.Now(), info: info{
		name: name, ino: in.ino, size: int64(len(in.data)), ctime: in.ctime, mtime: in.mtime, nlink: in.nlink,
	}, data: append([]byte(nil), in.data...)}
}

// An entry is what a client remembers of a name: present or not, the
// attributes and the content, as of at.
type entry struct {
	present bool
	at      time.Time
	info    info
	data    []byte
}

// A Client is one machine's mount of the server: a protocol.FS whose
// lookups, attributes and content may come from its cache for up to
// CacheTime after it filled them. Changes go to the server, which decides
// them; the client then knows the names it changed. A change the server
// refused teaches the client nothing: a negative entry may go on hiding a
// name that a link just found taken, as GlusterFS's negative entry cache
// was seen to.
type Client struct {
	srv       *Server
	cacheTime time.Duration
	cache     map[string]entry
	stale     int // answers from the cache that the server would not give
}

// NewClient mounts srv with the given cache time (0: every lookup asks the
// server, as a local file system does).
func NewClient(srv *Server, cacheTime time.Duration) *Client {
	return &Client{srv: srv, cacheTime: cacheTime, cache: make(map[string]entry)}
}

// StaleAnswers counts the lookups this client answered from its cache
// that the server would have answered otherwise (another file, or none):
// how often the cache model bit.
func (c *Client) StaleAnswers() int { return c.stale }

// CacheTime is the client's cache time.
func (c *Client) CacheTime() time.Duration { return c.cacheTime }

// lookup answers for name from the cache while its entry is fresh, and
// from the server (filling the cache) otherwise.
func (c *Client) lookup(name string) entry {
	if e, ok := c.cache[name]; ok && c.srv.clock.Now().Sub(e.at) < c.cacheTime {
		if s := c.srv.lookup(name); s.present != e.present || s.info.ino != e.info.ino {
			c.stale++
		}
		return e
	}
	e := c.srv.lookup(name)
	if c.cacheTime > 0 {
		c.cache[name] = e
	}
	return e
}

// learn refreshes the cache for names this client just changed.
func (c *Client) learn(names ...string) {
	if c.cacheTime <= 0 {
		return
	}
	for _, n := range names {
		c.cache[n] = c.srv.lookup(n)
	}
}

// Link asks the server to link oldname to newname, unless the cache holds
// a fresh entry for newname: then the client answers EEXIST itself.
func (c *Client) Link(oldname, newname string) error {
	if e, ok := c.cache[newname]; ok && e.present && c.srv.clock.Now().Sub(e.at) < c.cacheTime {
		return linkErr("link", oldname, newname, syscall.EEXIST)
	}
	err := c.srv.link(oldname, newname)
	if err == nil {
		c.learn(oldname, newname)
	}
	return err
}

// Rename asks the server to rename oldname over newname.
func (c *Client) Rename(oldname, newname string) error {
	err := c.srv.rename(oldname, newname)
	if err == nil {
		c.learn(oldname, newname)
	}
	return err
}

// Remove asks the server to remove name.
func (c *Client) Remove(name string) error {
	err := c.srv.remove(name)
	if err == nil {
		c.learn(name)
	}
	return err
}

// Lstat describes the file at name, as the cache or the server knows it.
func (c *Client) Lstat(name string) (fs.FileInfo, error) {
	e := c.lookup(name)
	if !e.present {
		return nil, pathErr("lstat", name, syscall.ENOENT)
	}
	return e.info, nil
}

// ReadSmall reads the file at name, as the cache or the server knows it.
func (c *Client) ReadSmall(name string) ([]byte, fs.FileInfo, error) {
	e := c.lookup(name)
	switch {
	case !e.present:
		return nil, nil, pathErr("open", name, syscall.ENOENT)
	case e.info.size > MaxSize:
		return nil, e.info, pathErr("read", name, fsx.ErrTooLarge)
	}
	return append([]byte(nil), e.data...), e.info, nil
}

// SameFile reports whether a and b describe one inode of this file system.
func (c *Client) SameFile(a, b fs.FileInfo) bool {
	x, ok1 := a.(info)
	y, ok2 := b.(info)
	return ok1 && ok2 && x.ino == y.ino
}

// ChangeTime is the change time fi was read with.
func (c *Client) ChangeTime(fi fs.FileInfo) time.Time {
	if x, ok := fi.(info); ok {
		return x.ctime
	}
	return time.Time{}
}

// Now is the simulated clock's time.
func (c *Client) Now() time.Time { return c.srv.clock.Now() }

// info is a file's attributes as a client read them.
type info struct {
	name         string
	ino          uint64
	size         int64
	ctime, mtime time.Time
	nlink        int
}

func (i info) Name() string       { return i.name }
func (i info) Size() int64        { return i.size }
func (i info) Mode() fs.FileMode  { return 0o644 }
func (i info) ModTime() time.Time { return i.mtime }
func (i info) IsDir() bool        { return false }
func (i info) Sys() any           { return nil }

func pathErr(op, name string, err error) error {
	return &fs.PathError{Op: op, Path: name, Err: err}
}

func linkErr(op, oldname, newname string, err error) error {
	return &os.LinkError{Op: op, Old: oldname, New: newname, Err: err}
}
