package openlock

import (
	"context"
	"errors"
	"time"
)

// A pacer paces the retries of one attempt at the lock (attempt, and the
// takeover's claims within it): a look that could not tell, such as a link
// that reports a name as existing while a look finds none (released in
// between, or a network client's negative entry cache that hides the name
// from the look), or a claim dropped as we looked. Every retry passes
// again, which pauses (backing off from a tenth of a millisecond), with l.mu
// released, checks the context and the FileLock's Close, and refuses once
// the attempt's retries are spent: so no answer of a file system makes an
// attempt spin, and a TryLock returns within a few tens of milliseconds.
// A Lock's waiter then looks again after its own pause (waiter.sleep).
//
// Its zero value is ready to use.
type pacer struct {
	b    backoff
	used int // retries made
}

// pacedRetries is how many retries one attempt makes: with pauses of 0.1,
// 0.2, 0.4, ... ms (at most the retry period), they take about 25 ms at
// most.
const pacedRetries = 8

// pacedFirst is the first pause of an attempt's retries: short, as the
// first retry most often follows a release that came between two steps.
const pacedFirst = 100 * time.Microsecond

// errRetriesSpent is again's answer once the attempt's retries are spent:
// the attempt ends without the lock, as if the lock were busy.
var errRetriesSpent = errors.New("this attempt's retries are spent")

// again pauses before a retry, with l.mu released (l.mu must be held). It
// returns errRetriesSpent when the attempt may not retry any more, ctx's
// error if it ended, and fs.ErrClosed if the FileLock was closed.
func (p *pacer) again(l *FileLock, ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if p.used >= pacedRetries {
		return errRetriesSpent
	}
	if p.used == 0 {
		p.b = backoff{max: l.cfg.RetryPeriod, first: pacedFirst}
	}
	p.used++
	return l.sleepUnlocked(ctx, p.b.next())
}

// pause sleeps for d, or until ctx ends, and returns ctx's error: the
// pause of a loop that holds l.mu throughout (register).
func pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
	return ctx.Err()
}
