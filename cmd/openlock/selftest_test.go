package main

import (
	"strings"
	"testing"
)

// A short selftest on the test's temporary directory passes and leaves
// nothing behind.
func TestSelftest(t *testing.T) {
	dir := t.TempDir()
	r := invoke(t, "selftest", "-n", "3", "--cycles", "40", "--kills", "4", "--races", "4", dir)
	r.expectCode(t, 0, "selftest")
	for _, want := range []string{"hard link yes", "rename over a file yes", "selftest PASS", "overlaps 0", "debris 0"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("the selftest's output lacks %q:\n%s", want, r.stdout)
		}
	}
	if names := files(t, dir); len(names) != 0 {
		t.Errorf("the selftest left %q", names)
	}
}

func TestSelftestBadUsage(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"selftest"}, "missing DIR"},
		{[]string{"selftest", dir + "/missing"}, "no such file"},
		{[]string{"selftest", "-n", "1", dir}, "2 to 64"},
		{[]string{"selftest", "--hold", "2ms,1ms", dir}, "MIN <= MAX"},
	} {
		r := invoke(t, tt.args...)
		r.expectCode(t, 2, strings.Join(tt.args, " "))
		if !strings.Contains(r.stderr, tt.want) {
			t.Errorf("openlock %q wrote %q; want %q", tt.args, r.stderr, tt.want)
		}
	}
	if names := files(t, dir); len(names) != 0 {
		t.Errorf("bad selftests left %q", names)
	}
}
