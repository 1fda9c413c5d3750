// Package clocktest provides a concurrency-safe fake clock for tests of
// anything time-based (keyspace expiry, the expiry wheel, snapshot
// scheduling), so that no test needs to sleep.
package clocktest

import (
	"sync"
	"time"
)

// Fake is a clock whose time moves only when told to. It is safe for
// concurrent use. Its Now method satisfies the one-method Clock interfaces
// declared by the packages that consume time.
type Fake struct {
	mu  sync.Mutex
	now time.Time
}

// NewFake returns a fake clock reading start.
func NewFake(start time.Time) *Fake { return &Fake{now: start} }

// Now returns the fake's current time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// Advance moves the clock forward by d (backward if d is negative, which
// tests use to model a clock jump).
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.mu.Unlock()
}

// Set moves the clock to t.
func (f *Fake) Set(t time.Time) {
	f.mu.Lock()
	f.now = t
	f.mu.Unlock()
}
