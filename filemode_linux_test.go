package openlock

import (
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// Lock files follow the umask, as any file does, unless WithFileMode gave
// a mode, which is applied exactly: with umask 077 a lock file is 0600, and
// 0640 with WithFileMode(0640). The umask is the process's, so the test
// runs in a process of its own.
func TestFileModeFollowsUmask(t *testing.T) {
	if os.Getenv("OPENLOCK_TEST_UMASK") == "" {
		rerun(t, "TestFileModeFollowsUmask", nil, "OPENLOCK_TEST_UMASK=077")
		return
	}
	syscall.Umask(0o077) // this process runs this test only
	for _, c := range []struct {
		name     string
		opts     []Option
		defaults []Option
		want     fs.FileMode
	}{
		{"default", nil, nil, 0o600},
		{"WithFileMode(0640)", []Option{WithFileMode(0o640)}, nil, 0o640},
		{"SetDefaults(WithFileMode(0640))", nil, []Option{WithFileMode(0o640)}, 0o640},
	} {
		if err := SetDefaults(c.defaults...); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "a.lock")
		l := mustNew(t, path, c.opts...)
		if err := l.Lock(lockCtx(t)); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != c.want {
			t.Errorf("%s: lock file mode with umask 077 = %v; want %v", c.name, got, c.want)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
