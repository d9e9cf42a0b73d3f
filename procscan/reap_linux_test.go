package procscan

import (
	"errors"
	"os/exec"
	"testing"
)

// A process reaped while its /proc/PID/stat is being read (between the open
// and the read, which then fails with ESRCH) is dead, not "cannot check".
// Found by "openlock selftest": a waiter judged a just-killed holder
// unknown, and counted it alive for one more retry period. The race is
// hit in about a third of the rounds here, so 100 rounds find it.
func TestSystemReapedWhileReadIsDead(t *testing.T) {
	tab := System()
	for round := range 100 {
		cmd := exec.Command("sleep", "100")
		if err := cmd.Start(); err != nil {
			t.Skipf("cannot start sleep: %v", err)
		}
		pid := cmd.Process.Pid
		p, err := tab.Process(pid)
		if err != nil {
			t.Fatalf("looking up child %d: %v", pid, err)
		}
		r := selfRecord(t)
		r.PID, r.Start = pid, p.Start
		cmd.Process.Kill()
		reaped := make(chan struct{})
		go func() {
			cmd.Wait()
			close(reaped)
		}()
		for {
			_, err := tab.Process(pid)
			if got := Judge(r, tab); got.Verdict == Unknown {
				<-reaped
				t.Fatalf("round %d: Judge(child %d while it is killed and reaped) = %v; want alive or dead", round, pid, got)
			}
			if errors.Is(err, ErrNoProcess) {
				break
			}
		}
		<-reaped
	}
}
