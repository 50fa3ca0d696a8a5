package twofactor

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// SignInLimit is the per-address token bucket of the sign-in steps: Count
// attempts per Per, with bursts of up to Burst. Count 0 turns it off.
type SignInLimit struct {
	Count int
	Per   time.Duration
	Burst int
}

// addressLimiter keeps one token bucket per client address. It lives in the
// process: each server instance limits what reaches it, which bounds the
// rate any one address can spray accounts at; the per-user and per-device
// throttles, kept in the database, bound the guesses against any one
// account across all instances.
type addressLimiter struct {
	limit rate.Limit
	burst int

	mu      sync.Mutex
	buckets map[string]*bucket
	sweepAt time.Time
}

type bucket struct {
	lim      *rate.Limiter
	lastSeen time.Time
}

// maxIdle is how long an address's bucket is kept after its last use; by
// then it is full again, so forgetting it changes nothing.
const maxIdle = 10 * time.Minute

func newAddressLimiter(l SignInLimit) *addressLimiter {
	if l.Count <= 0 || l.Per <= 0 {
		return nil
	}
	return &addressLimiter{
		limit:   rate.Limit(float64(l.Count) / l.Per.Seconds()),
		burst:   max(l.Burst, 1),
		buckets: map[string]*bucket{},
	}
}

// allow takes a token for addr at now, or reports when one will be there.
func (l *addressLimiter) allow(addr string, now time.Time) (bool, time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.After(l.sweepAt) {
		for a, b := range l.buckets {
			if now.Sub(b.lastSeen) > maxIdle {
				delete(l.buckets, a)
			}
		}
		l.sweepAt = now.Add(time.Minute)
	}
	b := l.buckets[addr]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(l.limit, l.burst)}
		l.buckets[addr] = b
	}
	b.lastSeen = now
	r := b.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, now.Add(d)
	}
	return true, time.Time{}
}

// limitSignIn applies the per-address limit to a sign-in step. Requests
// without an address (the CLI, tests) are not limited.
func (s *Service) limitSignIn(ctx context.Context) error {
	addr := ClientFrom(ctx).Address
	if s.signIn == nil || addr == "" {
		return nil
	}
	if ok, retry := s.signIn.allow(addr, s.clock.Now()); !ok {
		s.emit(ctx, Event{Kind: EventThrottled, Outcome: OutcomeRefused, Reason: "sign-in rate"})
		return &Error{Code: CodeThrottled, Message: msgSignInRate, Reason: "address", RetryAt: retry}
	}
	return nil
}
