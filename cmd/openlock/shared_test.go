package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// run -s (--shared), as flock -s: shared holders run together, status lists
// them, an exclusive run waits for them (or gives up, naming one), and a
// shared run gives up while an exclusive one holds.
func TestRunShared(t *testing.T) {
	dir := t.TempDir()
	lock := filepath.Join(dir, "a.lock")
	r1 := start(t, nil, runArgs([]string{"run", "-s", lock, "--"}, "hold", "held1")...)
	r1.Expect("held1")
	r2 := start(t, nil, runArgs([]string{"run", "--shared", "-n", lock, "--"}, "hold", "held2")...)
	r2.Expect("held2") // -n: taken at once, beside the first

	s := invoke(t, "status", "--json", lock)
	s.expectCode(t, 0, "status of a shared lock")
	var st statusJSON
	if err := json.Unmarshal([]byte(s.stdout), &st); err != nil {
		t.Fatalf("status --json: %v: %q", err, s.stdout)
	}
	if st.State != "shared" || !st.Held || len(st.Readers) != 2 || st.Owner != nil {
		t.Fatalf("status --json of two shared holders = %+v", st)
	}
	if out := invoke(t, "status", lock).stdout; strings.Count(out, "reader ") != 2 {
		t.Errorf("status lists %q; want both readers", out)
	}
	x := invoke(t, runArgs([]string{"run", "-n", lock, "--"}, "echo", "never")...)
	x.expectCode(t, 1, "run -n while two share the lock")
	if x.stdout != "" || !strings.Contains(x.stderr, "shared by 2 reader(s)") {
		t.Errorf("run -n wrote %q, %q; want no command and the readers named", x.stdout, x.stderr)
	}
	w := start(t, nil, runArgs([]string{"run", lock, "--"}, "echo", "exclusive", "ran")...)
	r1.CloseStdin()
	r2.CloseStdin()
	w.Expect("exclusive ran")
	for _, r := range []*running{r1, r2, w} {
		if code := r.Wait(); code != 0 {
			t.Errorf("%v exited %d; it wrote %q", r, code, output(r))
		}
	}

	h := holder(t, lock)
	invoke(t, runArgs([]string{"run", "-s", "-n", lock, "--"}, "echo", "never")...).expectCode(t, 1, "run -s -n while an exclusive holder holds")
	h.CloseStdin()
	h.Wait()
	if names := files(t, dir); len(names) != 0 {
		t.Errorf("left behind: %q", names)
	}
}
