package main

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// clean removes a dead holder's lock and token, and leaves a live holder's
// files, and files that are not openlock's, untouched.
func TestClean(t *testing.T) {
	dir := t.TempDir()
	live := filepath.Join(dir, "live.lock")
	stale := filepath.Join(dir, "stale.lock")
	h := holder(t, live)
	dead := holder(t, stale)
	dead.Kill()
	dead.Wait()
	notes := filepath.Join(dir, "notes.txt")
	os.WriteFile(notes, []byte("keep me\n"), 0o644)
	before := snapshot(t, dir)

	r := invoke(t, "clean", "--dry-run", dir)
	r.expectCode(t, 0, "clean --dry-run")
	var staleFiles []string
	for name := range before {
		if strings.HasPrefix(name, "stale.lock") {
			staleFiles = append(staleFiles, name)
		}
	}
	if len(staleFiles) != 2 { // the lock file and the dead holder's token
		t.Fatalf("the killed holder left %q; want its lock file and token", staleFiles)
	}
	for _, name := range staleFiles {
		if !strings.Contains(r.stdout, "would remove "+filepath.Join(dir, name)) {
			t.Errorf("clean --dry-run wrote %q; want it to list %s", r.stdout, name)
		}
	}
	if strings.Contains(r.stdout, "live.lock") || strings.Contains(r.stdout, "notes") {
		t.Errorf("clean --dry-run would remove a live holder's or a foreign file: %q", r.stdout)
	}
	if after := snapshot(t, dir); !maps.Equal(before, after) {
		t.Fatalf("clean --dry-run changed the directory: %v -> %v", before, after)
	}

	invoke(t, "clean", dir).expectCode(t, 0, "clean")
	after := snapshot(t, dir)
	for name, content := range before {
		now, kept := after[name]
		if strings.HasPrefix(name, "stale.lock") == kept {
			t.Errorf("after clean %s is kept: %v", name, kept)
		}
		if kept && now != content {
			t.Errorf("clean changed %s", name)
		}
	}
	if len(after) != len(before)-2 {
		t.Errorf("after clean the directory holds %v", slices.Sorted(maps.Keys(after)))
	}
	h.CloseStdin()
	if code := h.Wait(); code != 0 {
		t.Errorf("the live holder exited with %d after clean; it wrote %q", code, output(h))
	}

	r = invoke(t, "clean", dir)
	if r.code != 0 || !strings.Contains(r.stdout, "nothing to clean") {
		t.Errorf("clean of a clean directory: %d, %q", r.code, r.stdout)
	}
	invoke(t, "clean", filepath.Join(dir, "missing", "x.lock")).expectCode(t, 2, "clean in a missing directory")
	invoke(t, "clean").expectCode(t, exitUsage, "clean without argument")
}

// snapshot maps each file in dir to its content.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := make(map[string]string)
	for _, name := range files(t, dir) {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		m[name] = string(b)
	}
	return m
}
