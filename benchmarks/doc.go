// Package benchmarks measures openlock against the locks people would use
// instead: github.com/gofrs/flock (the kernel's flock) and
// github.com/nightlyone/lockfile (a PID lock file).
//
// It is its own module, so that the peers never become dependencies of the
// library. Its benchmarks (go test -bench .) give the in-process figures:
// the uncontended Lock+Unlock cycle of each library, and the race window of
// openlock's two takeover modes. The command cmd/compare gives the
// multi-process figures (handoff between processes, recovery from a killed
// holder, the cost of waiting, the race window under load) as one markdown
// table, with ratios against flock from interleaved runs. The measurements
// themselves live in internal/bench; README.md has the results.
package benchmarks
