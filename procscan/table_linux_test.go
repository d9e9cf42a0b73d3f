package procscan

import (
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openlock/openlock/fileformat"
)

func selfRecord(t *testing.T) fileformat.Record {
	t.Helper()
	tab := System()
	p, err := tab.Process(os.Getpid())
	if err != nil {
		t.Fatalf("looking up this process: %v", err)
	}
	id := tab.Identity()
	return fileformat.Record{PID: os.Getpid(), Name: fileformat.SanitizeName(os.Args[0]), Version: 1,
		Host: id.Host, Boot: id.Boot, PIDNS: id.PIDNS, Start: p.Start, Nonce: "x"}
}

func TestSystemIdentity(t *testing.T) {
	id := System().Identity()
	if id.Host == "" || id.Boot == "" || !strings.HasPrefix(id.PIDNS, "pid:[") {
		t.Errorf("Identity() = %+v; want a host, a boot id and a pid:[...] namespace", id)
	}
}

func TestSystemSelfIsAlive(t *testing.T) {
	if got := Judge(selfRecord(t), System()); got.Verdict != Alive {
		t.Errorf("Judge(this process) = %v, want alive", got)
	}
}

func TestSystemReusedPIDIsDead(t *testing.T) {
	r := selfRecord(t)
	start, _ := strconv.ParseUint(r.Start, 10, 64)
	r.Start = strconv.FormatUint(start+1, 10) // an earlier holder that had this PID
	if got := Judge(r, System()); got.Verdict != Dead || !strings.Contains(got.Reason, "reused") {
		t.Errorf("Judge(record of a reused PID) = %v, want dead (reused)", got)
	}
}

func TestSystemExitedChildIsDead(t *testing.T) {
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skipf("cannot run true: %v", err)
	}
	r := selfRecord(t)
	r.PID = cmd.Process.Pid
	if got := Judge(r, System()); got.Verdict != Dead {
		t.Errorf("Judge(reaped child %d) = %v, want dead", r.PID, got)
	}
}

func TestSystemZombieIsDead(t *testing.T) {
	cmd := exec.Command("true")
	if err := cmd.Start(); err != nil {
		t.Skipf("cannot start true: %v", err)
	}
	defer cmd.Wait()
	pid := cmd.Process.Pid
	// Wait, without reaping, until the child has exited.
	deadline := time.Now().Add(30 * time.Second)
	for {
		p, err := System().Process(pid)
		if err != nil {
			t.Fatalf("looking up child %d: %v", pid, err)
		}
		if p.Zombie {
			r := selfRecord(t)
			r.PID, r.Start = pid, p.Start
			if got := Judge(r, System()); got.Verdict != Dead || !strings.Contains(got.Reason, "zombie") {
				t.Errorf("Judge(zombie) = %v, want dead (zombie)", got)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("child %d did not become a zombie within 30s", pid)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestSystemSeedRecord(t *testing.T) {
	r := fileformat.Record{PID: os.Getpid(), Name: fileformat.SanitizeName(os.Args[0])}
	if got := Judge(r, System()); got.Verdict != Alive {
		t.Errorf("Judge(seed record of this process) = %v, want alive", got)
	}
	r.Name = "surely-not-this-program"
	if got := Judge(r, System()); got.Verdict != Dead {
		t.Errorf("Judge(seed record naming another program) = %v, want dead", got)
	}
}

func TestProbeNoSuchPID(t *testing.T) {
	// PIDs above pid_max never exist.
	if _, err := System().Process(1 << 30); !errors.Is(err, ErrNoProcess) {
		t.Errorf("Process(1<<30) error = %v, want ErrNoProcess", err)
	}
}

func TestParseStat(t *testing.T) {
	const tail = " 4219 4217 1051 0 -1 4227148 225 0 0 0 0 0 0 0 20 0 %s 0 45137 0 0"
	tests := []struct {
		name, line string
		want       Process
	}{
		{"running", "7 (w) S" + strings.Replace(tail, "%s", "3", 1), Process{PID: 7, Start: "45137"}},
		{"zombie", "7 (w) Z" + strings.Replace(tail, "%s", "1", 1), Process{PID: 7, Start: "45137", Zombie: true}},
		{"exited leader, live threads", "7 (w) Z" + strings.Replace(tail, "%s", "2", 1), Process{PID: 7, Start: "45137"}},
		{"name with spaces and parens", "7 (a) b (c) S" + strings.Replace(tail, "%s", "1", 1), Process{PID: 7, Start: "45137"}},
	}
	for _, tt := range tests {
		got, err := parseStat(7, []byte(tt.line))
		if err != nil || got != tt.want {
			t.Errorf("%s: parseStat = %+v, %v; want %+v", tt.name, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "7 (w", "7 (w) S 1 2", "7 (w) S" + strings.Replace(tail, "%s", "x", 1)} {
		if p, err := parseStat(7, []byte(bad)); err == nil {
			t.Errorf("parseStat(%q) = %+v, want an error", bad, p)
		}
	}
}

func TestWatchExit(t *testing.T) {
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Skipf("cannot start sleep: %v", err)
	}
	p, err := System().Process(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	w, err := WatchExit(p)
	if err != nil {
		t.Skipf("cannot watch processes here: %v", err)
	}
	defer w.Stop()
	checkExitWatch(t, cmd, w)
}

// A process that exits before the watch's goroutine starts waiting is still
// seen: the race that made TestWatchExit hang under load.
func TestWatchExitOfProcessAlreadyGone(t *testing.T) {
	for range 50 {
		cmd := exec.Command("sleep", "60")
		if err := cmd.Start(); err != nil {
			t.Skipf("cannot start sleep: %v", err)
		}
		p, err := System().Process(cmd.Process.Pid)
		if err != nil {
			t.Fatal(err)
		}
		cmd.Process.Kill()
		// Not reaped yet: a zombie, so the PID and its start time still
		// match, and the pidfd opens.
		w, err := WatchExit(p)
		if err != nil {
			cmd.Wait()
			t.Skipf("cannot watch processes here: %v", err)
		}
		select {
		case <-w.Exited():
		case <-time.After(time.Minute):
			t.Fatal("Exited did not fire for a process that had exited before the watch began")
		}
		w.Stop()
		cmd.Wait()
	}
}
