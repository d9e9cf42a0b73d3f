package bench

import "golang.org/x/sys/unix"

// Mono returns CLOCK_MONOTONIC in nanoseconds. Unlike time.Now, its readings
// can be compared between processes of one machine: a release stamped by one
// process and an acquisition stamped by another.
func Mono() int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		panic(err) // CLOCK_MONOTONIC exists on every Linux
	}
	return ts.Nano()
}
