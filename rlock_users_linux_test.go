package openlock

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/openlock/openlock/internal/fsx"
	"github.com/openlock/openlock/internal/reexec"
	"github.com/openlock/openlock/internal/testfs"
)

// The shared lock between users (issue 20, item 3.1): no other user may
// remove a reader's registration, nor the directory that holds it
// (readersdir.go). Each test runs as root, with user nobody as the other
// user, in a directory with the sticky bit that both may write, as /tmp.

func init() {
	roles["rattack"] = role(roleRAttack)
	roles["rtry"] = role(roleRTry)
}

// roleRAttack tries, as another user, to take away what keeps a writer out
// of the lock OPENLOCK_TEST_LOCK: it removes every registration in the
// readers' directory and renames the directory, printing "removed <name>"
// or "moved" for each that succeeds, then "done".
func roleRAttack() error {
	dir := readersDir(os.Getenv("OPENLOCK_TEST_LOCK"))
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := os.Remove(filepath.Join(dir, e.Name())); err == nil {
			fmt.Printf("removed %s\n", e.Name())
		}
	}
	if err := os.Rename(dir, dir+".moved"); err == nil {
		fmt.Println("moved")
	}
	fmt.Println("done")
	return nil
}

// roleRTry makes one TryLock and prints "trylock <held> <error>".
func roleRTry() error {
	l, err := roleLock()
	if err != nil {
		return err
	}
	held, err := l.TryLock()
	fmt.Printf("trylock %v %v\n", held, err)
	return l.Close()
}

// otherUser is a way to run roles as user nobody, in a directory with the
// sticky bit that root and nobody may both write.
type otherUser struct {
	t      *testing.T
	dir    string // sticky, world-writable
	bin    string // the test binary, where nobody may run it
	home   string
	noName string // nobody's user name
}

// asNobody prepares an otherUser, or skips the test when this process is
// not root or there is no user nobody.
func asNobody(t *testing.T) *otherUser {
	if os.Geteuid() != 0 {
		t.Skip("needs root, to run a second user (nobody) beside this one")
	}
	u, err := user.LookupId("65534")
	if err != nil {
		t.Skipf("no user with uid 65534 (nobody) to play the other user: %v", err)
	}
	// The users share the lock: its files readable by both, as the usual
	// umask makes them, whatever this process's umask (children inherit it).
	umask := syscall.Umask(0o022)
	t.Cleanup(func() { syscall.Umask(umask) })
	home, bin := testfs.ForNobody(t, os.Args[0])
	dir := filepath.Join(home, "sticky")
	if err := os.Mkdir(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777|fs.ModeSticky); err != nil {
		t.Fatal(err)
	}
	return &otherUser{t: t, dir: dir, bin: bin, home: home, noName: u.Username}
}

// start runs role as nobody on the lock path.
func (o *otherUser) start(role, path string) *child {
	o.t.Helper()
	cmd := reexec.Command(role)
	cmd.Path, cmd.Args[0], cmd.Dir = o.bin, o.bin, o.home
	cmd.Env = append(cmd.Env, "OPENLOCK_TEST_LOCK="+path, "TMPDIR="+o.dir, "HOME="+o.home)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	cmd.Stderr = os.Stderr
	return reexec.StartTest(o.t, long, cmd, reexec.Options{})
}

// attack runs roleRAttack as nobody and fails the test if it removed or
// moved anything.
func (o *otherUser) attack(path string) {
	o.t.Helper()
	c := o.start("rattack", path)
	c.Expect("done")
	if err := c.Err(); err != nil {
		o.t.Fatal(err)
	}
	for _, line := range c.Lines() {
		if strings.HasPrefix(line, "removed") || line == "moved" {
			o.t.Errorf("user nobody, attacking root's reader: %s", line)
		}
	}
}

// rootReadsSafely takes the shared lock as root and checks that it is
// safe from user nobody: the readers' directory is root's, sticky; nobody
// can remove none of it; a writer's TryLock fails while root reads; and
// root's RUnlock finds its registration.
func (o *otherUser) rootReadsSafely(path string) {
	t := o.t
	t.Helper()
	r := mustNew(t, path)
	if err := r.RLock(lockCtx(t)); err != nil {
		t.Fatal(err)
	}
	if uid, mode := dirOwner(t, path); uid != 0 || mode&fs.ModeSticky == 0 || mode.Perm() != 0o777 {
		t.Errorf("root's reader registered in a readers' directory of uid %d, mode %v; want root's, sticky, 0777", uid, mode)
	}
	o.attack(path)
	if ok, err := mustNew(t, path).TryLock(); ok || err != nil {
		t.Errorf("a writer's TryLock while root reads = %v, %v; want false", ok, err)
	}
	if err := r.RUnlock(); err != nil {
		t.Errorf("RUnlock of root's reader = %v; want nil", err)
	}
}

// dirOwner returns the uid and mode of the readers' directory of path.
func dirOwner(t *testing.T, path string) (int, fs.FileMode) {
	t.Helper()
	fi, err := os.Lstat(readersDir(path))
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := fsx.Owner(fi)
	return uid, fi.Mode()
}

// Another user can neither remove root's registration nor move the readers'
// directory that root made.
func TestReadersSafeFromOtherUser(t *testing.T) {
	o := asNobody(t)
	o.rootReadsSafely(filepath.Join(o.dir, "a.lock"))
}

// A readers' directory another user made beforehand, empty, is replaced by
// one of root's; while it holds that user's live readers, root refuses to
// register in it, with an error that names its owner.
func TestReadersDirOfOtherUser(t *testing.T) {
	o := asNobody(t)
	path := filepath.Join(o.dir, "a.lock")
	c := o.start("rhold", path) // nobody reads: its readers' directory
	c.Expect("held")
	r := mustNew(t, path)
	err := r.RLock(lockCtx(t))
	if !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), "user "+o.noName) ||
		!strings.Contains(err.Error(), readersDir(path)) {
		t.Errorf("RLock in a readers' directory of user %s that holds its reader = %v; want fs.ErrPermission naming the directory and its owner", o.noName, err)
	}
	if err == nil {
		r.RUnlock()
	}
	t.Logf("RLock beside user %s's readers' directory: %v", o.noName, err)
	c.CloseStdin()
	if err := c.Err(); err != nil {
		t.Fatal(err)
	}
	// Left by nobody empty, as a hostile user could leave it, not sticky.
	if err := os.Mkdir(readersDir(path), 0o777); err != nil && !errors.Is(err, fs.ErrExist) {
		t.Fatal(err)
	}
	os.Chmod(readersDir(path), 0o777)
	os.Chown(readersDir(path), 65534, 65534)
	o.rootReadsSafely(path)
}

// A readers' directory of root's without the sticky bit, as an older
// version made it, is given the sticky bit before root registers in it.
func TestReadersDirGetsStickyBit(t *testing.T) {
	o := asNobody(t)
	path := filepath.Join(o.dir, "a.lock")
	if err := os.Mkdir(readersDir(path), 0o777); err != nil {
		t.Fatal(err)
	}
	os.Chmod(readersDir(path), 0o777)
	o.rootReadsSafely(path)
}

// A symlink planted at the readers' directory's name is not followed: RLock
// fails with ErrNotLockFile and registers nowhere.
func TestReadersDirSymlink(t *testing.T) {
	o := asNobody(t)
	path := filepath.Join(o.dir, "a.lock")
	elsewhere := filepath.Join(o.home, "elsewhere")
	if err := os.Mkdir(elsewhere, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(elsewhere, readersDir(path)); err != nil {
		t.Fatal(err)
	}
	err := mustNew(t, path).RLock(lockCtx(t))
	if !errors.Is(err, ErrNotLockFile) {
		t.Errorf("RLock with a symlink at the readers' directory = %v; want ErrNotLockFile", err)
	}
	if names := dirNames(t, elsewhere); len(names) != 0 {
		t.Errorf("the symlink's target now holds %q; want nothing", names)
	}
}

// Once root's readers have left, the other user's writer gets in, though
// it may not remove root's empty readers' directory (the lock's directory
// is sticky).
func TestWriterBesideOtherUsersEmptyReadersDir(t *testing.T) {
	o := asNobody(t)
	path := filepath.Join(o.dir, "a.lock")
	r := mustNew(t, path)
	if err := r.RLock(lockCtx(t)); err != nil {
		t.Fatal(err)
	}
	if err := r.RUnlock(); err != nil {
		t.Fatal(err)
	}
	c := o.start("rtry", path)
	if got := c.Expect("trylock"); got != "trylock true <nil>" {
		t.Errorf("user nobody's TryLock after root's reader left: %q; want true", got)
	}
	if err := c.Err(); err != nil {
		t.Fatal(err)
	}
}

// A dead reader's registration that the writer's user may not remove (in
// the sticky readers' directory, another user's) fails the writer at once
// with an error that names its owner and what to do.
func TestWriterBesideOtherUsersDeadReader(t *testing.T) {
	o := asNobody(t)
	path := filepath.Join(o.dir, "a.lock")
	c := startChild(t, "rhold", []string{"OPENLOCK_TEST_LOCK=" + path})
	c.Expect("held")
	c.Kill()
	c.Wait()
	w := o.start("rtry", path)
	got := w.Expect("trylock")
	if !strings.HasPrefix(got, "trylock false ") || !strings.Contains(got, "belongs to user root") ||
		!strings.Contains(got, "root must remove it") {
		t.Errorf("user nobody's TryLock beside root's dead reader: %q; want false and an error naming root", got)
	}
	if err := w.Err(); err != nil {
		t.Fatal(err)
	}
	if ok, err := mustNew(t, path).TryLock(); !ok || err != nil {
		t.Errorf("root's TryLock beside its dead reader = %v, %v; want true", ok, err)
	}
}
