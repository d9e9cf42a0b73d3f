package bench

import (
	"math"
	"slices"
	"time"
)

// A Summary is the distribution of a set of durations.
type Summary struct {
	N                        int
	P50, P90, P99, P999, Max time.Duration
	Mean                     time.Duration
}

// Summarize sorts d in place and summarizes it. Quantiles are nearest-rank:
// P99 is the smallest value that at least 99% of the samples do not exceed.
func Summarize(d []time.Duration) Summary {
	if len(d) == 0 {
		return Summary{}
	}
	slices.Sort(d)
	var sum time.Duration
	for _, x := range d {
		sum += x
	}
	return Summary{
		N:    len(d),
		P50:  Quantile(d, 0.50),
		P90:  Quantile(d, 0.90),
		P99:  Quantile(d, 0.99),
		P999: Quantile(d, 0.999),
		Max:  d[len(d)-1],
		Mean: sum / time.Duration(len(d)),
	}
}

// Quantile returns the nearest-rank q-quantile (0 < q <= 1) of sorted.
func Quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted))-1e-9)) - 1 // 1e-9: float error must not add a rank
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// Nanos converts nanosecond counts, as workers report them, to durations.
func Nanos(ns []int64) []time.Duration {
	d := make([]time.Duration, len(ns))
	for i, n := range ns {
		d[i] = time.Duration(n)
	}
	return d
}
