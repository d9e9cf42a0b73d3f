//go:build !unix

package stress

import "time"

// Now returns the wall clock in nanoseconds, the one clock all processes
// share here. A step of the wall clock during a run skews the figures.
func Now() int64 { return time.Now().UnixNano() }
