package procscan

import (
	"fmt"
	"io/fs"
	"strings"
	"testing"

	"github.com/openlock/openlock/fileformat"
)

// fakeTable is a process table for tests: procs by PID, errs by PID.
type fakeTable struct {
	id    Identity
	procs map[int]Process
	names map[int][]string
	errs  map[int]error
}

func (f fakeTable) Identity() Identity { return f.id }

func (f fakeTable) Process(pid int) (Process, error) {
	if err := f.errs[pid]; err != nil {
		return Process{}, err
	}
	p, ok := f.procs[pid]
	if !ok {
		return Process{}, fmt.Errorf("pid %d: %w", pid, ErrNoProcess)
	}
	return p, nil
}

func (f fakeTable) Names(pid int) ([]string, error) {
	if _, err := f.Process(pid); err != nil {
		return nil, err
	}
	return f.names[pid], nil
}

var here = Identity{Host: "h1", Boot: "b1", PIDNS: "pid:[1]"}

func rec(pid int, start string) fileformat.Record {
	return fileformat.Record{PID: pid, Name: "w", Version: 1, Host: here.Host, Boot: here.Boot,
		PIDNS: here.PIDNS, Start: start, Nonce: "n"}
}

func TestJudge(t *testing.T) {
	table := fakeTable{
		id: here,
		procs: map[int]Process{
			10: {PID: 10, Start: "500"},
			11: {PID: 11, Start: "900"},
			12: {PID: 12, Start: "700", Zombie: true},
			20: {PID: 20, Start: "1"},
			21: {PID: 21, Start: "1"},
		},
		names: map[int][]string{
			20: {"/usr/bin/python3", "worker.py", "--fast"},
			21: {"/bin/bash", "other"},
		},
		errs: map[int]error{
			13: fmt.Errorf("pid 13: %w", fs.ErrPermission),
			14: fmt.Errorf("pid 14: disk on fire"),
		},
	}
	other := func(f func(*fileformat.Record)) fileformat.Record { r := rec(10, "500"); f(&r); return r }
	tests := []verdictCase{
		{"running, same start", rec(10, "500"), Alive, "is running"},
		{"no such pid", rec(99, "500"), Dead, "no process 99"},
		{"pid reused", rec(11, "500"), Dead, "reused"},
		{"zombie", rec(12, "700"), Dead, "zombie"},
		{"permission denied means alive", rec(13, "1"), Alive, "may not be inspected"},
		{"other error is unknown", rec(14, "1"), Unknown, "disk on fire"},
		{"other host", other(func(r *fileformat.Record) { r.Host = "h2" }), Unknown, "host"},
		{"other boot", other(func(r *fileformat.Record) { r.Boot = "b0" }), Unknown, "boot"},
		{"other pid namespace", other(func(r *fileformat.Record) { r.PIDNS = "pid:[2]" }), Unknown, "namespace"},
		{"no start time", rec(10, ""), Unknown, "no start time"},
		{"dead pid on other host stays unknown", func() fileformat.Record { r := rec(99, "1"); r.Host = "h2"; return r }(), Unknown, "host"},
		{"seed, name matches argv", fileformat.Record{PID: 20, Name: "worker"}, Alive, "seed-format"},
		{"seed, name matches case-insensitively", fileformat.Record{PID: 20, Name: "WORKER"}, Alive, "seed-format"},
		{"seed, pid reused by another program", fileformat.Record{PID: 21, Name: "worker"}, Dead, "reused"},
		{"seed, no such pid", fileformat.Record{PID: 98, Name: "worker"}, Dead, "no process"},
		{"seed, zombie", fileformat.Record{PID: 12, Name: "w"}, Dead, "zombie"},
		{"seed, permission denied", fileformat.Record{PID: 13, Name: "w"}, Alive, "may not be inspected"},
		{"seed, error", fileformat.Record{PID: 14, Name: "w"}, Unknown, "disk on fire"},
	}
	checkVerdicts(t, tests, func(r fileformat.Record) Result { return Judge(r, table) })
}

// A verdictCase is a record and the verdict on it, with a word of its
// reason.
type verdictCase struct {
	name   string
	r      fileformat.Record
	want   Verdict
	reason string
}

// checkVerdicts runs judge on each case.
func checkVerdicts(t *testing.T, cases []verdictCase, judge func(fileformat.Record) Result) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			got := judge(tt.r)
			if got.Verdict != tt.want || !strings.Contains(got.Reason, tt.reason) {
				t.Errorf("verdict = %v; want %v with a reason containing %q", got, tt.want, tt.reason)
			}
		})
	}
}

// JudgeExited takes a pidfd's word that a process exited over the table's,
// which may lag (or, here, say the opposite), for records in the table's
// scope that name that process by PID and start time; anything else is
// judged as Judge does.
func TestJudgeExited(t *testing.T) {
	table := fakeTable{id: here, procs: map[int]Process{
		10: {PID: 10, Start: "500"},
		11: {PID: 11, Start: "900"},
	}, names: map[int][]string{10: {"/bin/w"}}}
	exited := Process{PID: 10, Start: "500"}
	tests := []verdictCase{
		{"the process seen to exit", rec(10, "500"), Dead, "pidfd"},
		{"same pid, another start", rec(10, "400"), Dead, "reused"},
		{"another process", rec(11, "900"), Alive, "is running"},
		{"on another host", func() fileformat.Record { r := rec(10, "500"); r.Host = "h2"; return r }(), Unknown, "host"},
		{"in another pid namespace", func() fileformat.Record { r := rec(10, "500"); r.PIDNS = "pid:[2]"; return r }(), Unknown, "namespace"},
		{"seed format (no start time): by name", fileformat.Record{PID: 10, Name: "w"}, Alive, "seed-format"},
	}
	checkVerdicts(t, tests, func(r fileformat.Record) Result { return JudgeExited(r, table, exited) })
	if got := JudgeExited(rec(10, "500"), table, Process{}); got.Verdict != Alive {
		t.Errorf("JudgeExited with no process seen to exit = %v; want alive, as Judge", got)
	}
}

func TestSameBoot(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"5f54-aa", "5f54-aa", true},
		{"5f54-aa", "5f54-ab", false},
		{"1700000000", "1700000001", true},
		{"1700000001", "1700000000", true},
		{"1700000000", "1700000002", true},
		{"1700000000", "1700000003", false},
		{"", "", true},
		{"", "1", false},
	}
	for _, tt := range tests {
		if got := sameBoot(tt.a, tt.b); got != tt.want {
			t.Errorf("sameBoot(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestVerdictString(t *testing.T) {
	for v, s := range map[Verdict]string{Alive: "alive", Dead: "dead", Unknown: "unknown", Verdict(42): "unknown"} {
		if v.String() != s {
			t.Errorf("Verdict(%d).String() = %q, want %q", int(v), v.String(), s)
		}
	}
}
