//go:build !linux

package snapshot

// osYield is a no-op where sched_yield is not wired up; runtime.Gosched
// still lets request goroutines run (see yield_linux.go).
func osYield() {}

// lowerThreadPriority does nothing where per-thread priority is not wired
// up (see yield_linux.go).
func lowerThreadPriority() bool { return true }
