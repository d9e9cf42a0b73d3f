package benchmarks

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/openlock/openlock"
	"github.com/openlock/openlock/benchmarks/internal/bench"
	"github.com/openlock/openlock/internal/reexec"
)

func TestMain(m *testing.M) {
	reexec.Main(bench.Roles) // a stale lock needs a dead PID: a child of this binary
	os.Exit(m.Run())
}

// BenchmarkUncontended is one Lock+Unlock cycle with no other process
// around: openlock's Lock(ctx)+Unlock, flock's Lock+Unlock, nightlyone's
// TryLock+Unlock.
func BenchmarkUncontended(b *testing.B) {
	for _, lib := range []string{bench.Openlock, bench.Flock, bench.Nightlyone} {
		b.Run(lib, func(b *testing.B) {
			m, err := bench.Open(lib, filepath.Join(b.TempDir(), "bench.lock"))
			if err != nil {
				b.Fatal(err)
			}
			defer m.Close()
			for b.Loop() {
				if err := bench.Cycle(m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRaceWindow takes over a stale lock (a dead holder's record) per
// iteration, in each takeover mode, and reports the race window the library
// traces (observation of the stale file to completed write): p50, p99 and
// max in ns, and p99 as a percentage of the default race delay. Fischer
// mode runs with a 1 ms race delay (bench.FischerRaceDelay), which does not
// change the window but lets more takeovers run. ns/op is the cost of a
// whole takeover cycle, stale file included. Idle machine only; cmd/compare
// adds load.
func BenchmarkRaceWindow(b *testing.B) {
	stale, err := bench.NewStale()
	if err != nil {
		b.Fatal(err)
	}
	for _, mode := range []openlock.Takeover{openlock.Claims, openlock.Fischer} {
		b.Run(mode.String(), func(b *testing.B) {
			t, err := bench.NewTakeovers(b.TempDir(), mode, stale)
			if err != nil {
				b.Fatal(err)
			}
			defer t.Close()
			for b.Loop() {
				if err := t.Take(); err != nil {
					b.Fatal(err)
				}
			}
			s := bench.Summarize(t.Windows)
			b.ReportMetric(float64(s.P50), "p50-ns")
			b.ReportMetric(float64(s.P99), "p99-ns")
			b.ReportMetric(float64(s.Max), "max-ns")
			b.ReportMetric(100*s.P99.Seconds()/openlock.GetDefaults().RaceDelay.Seconds(), "p99-%race_delay")
		})
	}
}
