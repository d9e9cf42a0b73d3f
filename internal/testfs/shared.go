package testfs

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// DirsEnv names the environment variable that gives multi-process tests
// several paths to one directory, separated by colons: two mounts of one
// network volume, say, as two hosts would mount it (.ci/gluster makes
// them). Each path is used as a different machine would use it.
const DirsEnv = "OPENLOCK_TEST_DIRS"

// SharedDirs returns paths to one new, empty directory, for a test that
// spreads its processes over them: one path per entry of DirsEnv, or, when
// it is unset, the one path of a temporary directory. The directory is
// removed when the test ends.
func SharedDirs(t testing.TB) []string {
	t.Helper()
	roots := filepath.SplitList(os.Getenv(DirsEnv))
	if len(roots) == 0 {
		return []string{t.TempDir()}
	}
	name := fmt.Sprintf("%s-%d-%d", strings.ReplaceAll(t.Name(), "/", "_"), os.Getpid(), time.Now().UnixNano())
	dirs := make([]string, len(roots))
	for i, r := range roots {
		dirs[i] = filepath.Join(r, name)
	}
	if err := os.Mkdir(dirs[0], 0o755); err != nil {
		t.Fatalf("%s: %v", DirsEnv, err)
	}
	t.Cleanup(func() { os.RemoveAll(dirs[0]) })
	for _, d := range dirs[1:] {
		waitVisible(t, d)
	}
	return dirs
}

// waitVisible waits until dir, made through another path, can be seen
// through this one: a network client may answer "no such file" from its
// cache for a while.
func waitVisible(t testing.TB, dir string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		fi, err := os.Stat(dir)
		if err == nil && fi.IsDir() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s never became visible (%v): are the paths one directory?", DirsEnv, dir, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// SshfsDirsEnv names the environment variable that gives the tests of the
// refusal of sshfs two paths to one directory, separated by colons: two
// sshfs mounts of it, each its own sshfs process (.ci/sshfs makes them).
const SshfsDirsEnv = "OPENLOCK_TEST_SSHFS_DIRS"

// SshfsDirs returns the paths of SshfsDirsEnv, or skips the test, saying
// why, when it is unset; fewer than two paths fail the test.
func SshfsDirs(t testing.TB) []string {
	t.Helper()
	dirs := filepath.SplitList(os.Getenv(SshfsDirsEnv))
	switch {
	case len(dirs) == 0:
		t.Skipf("no sshfs mounts to try: %s is unset (bash .ci/sshfs up DIR prints two mounts)", SshfsDirsEnv)
	case len(dirs) < 2:
		t.Fatalf("%s=%q: want two paths to one directory, separated by colons", SshfsDirsEnv, os.Getenv(SshfsDirsEnv))
	}
	return dirs
}
