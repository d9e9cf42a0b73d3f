// Package bench holds the measurements of the openlock benchmarks, shared by
// the testing.B benchmarks of package benchmarks and by cmd/compare: the
// lock libraries behind one interface, the race window of takeovers (read
// from the library's own trace), and the multi-process measurements (handoff,
// crash recovery, cost of waiting), whose workers are this same program
// re-executed in a role.
//
// Linux only: processes share a clock (CLOCK_MONOTONIC), a small shared
// memory board and futexes to wait on each other's events without polling,
// and every child dies with its parent (Pdeathsig).
package bench
