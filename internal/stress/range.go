package stress

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// A Range is a span of durations to draw from at random. As a flag it reads
// "DURATION" or "MIN,MAX".
type Range struct{ Min, Max time.Duration }

// Draw returns a duration from the range, uniformly.
func (r Range) Draw() time.Duration {
	if r.Max <= r.Min {
		return r.Min
	}
	return r.Min + rand.N(r.Max-r.Min+1)
}

// String formats the range as Set reads it.
func (r Range) String() string {
	if r.Max <= r.Min {
		return r.Min.String()
	}
	return r.Min.String() + "," + r.Max.String()
}

// Set reads "DURATION" or "MIN,MAX".
func (r *Range) Set(s string) error {
	lo, hi, pair := strings.Cut(s, ",")
	min, err := time.ParseDuration(strings.TrimSpace(lo))
	if err != nil {
		return err
	}
	max := min
	if pair {
		if max, err = time.ParseDuration(strings.TrimSpace(hi)); err != nil {
			return err
		}
	}
	if min < 0 || max < min {
		return fmt.Errorf("range %q: want 0 <= MIN <= MAX", s)
	}
	r.Min, r.Max = min, max
	return nil
}
