package resp

import (
	"syscall"
	"time"
)

// cpuShare decides when an event loop that keeps finding work gives its
// CPU to other threads (sched_yield on Linux). Such a loop never parks, so
// its thread runs until the kernel preempts it, and on a machine with more
// runnable threads than cores (two loops and a load generator on two
// cores) loop threads were seen running 2 ms and more at a stretch while
// a woken thread, often the other loop's, waited 2-5 ms for the CPU (perf
// sched), with every request of its connections waiting too: GET at
// pipeline 1 had a p99 of 4.3 ms against Redis's 0.8 (medians of eight
// alternated runs; bench/README.md, "A busy loop's CPU"). Yielding after a
// millisecond without sleeping brought it to 1.3 ms; with nothing else
// runnable on the CPU the yield returns at once.
//
// "Slept" is the loop's goroutine parking, which is not quite its thread
// sleeping: the thread may run another goroutine meanwhile (another loop's,
// whose count then starts over), and a wake-up that lands between a poll
// that found nothing and the park counts as a sleep that never happened.
// Either only delays a yield by a millisecond.
type cpuShare struct {
	since  time.Duration // when the loop last slept or yielded its CPU
	pSince time.Duration // when the loop last slept or yielded its P
}

// yieldEvery is how long a loop runs without sleeping before it yields.
// In alternated runs (GET at pipeline 1) 500 µs and 1 ms both brought the
// p99 down to 0.7-1.6 ms and 2 ms to 0.9-2.9; 1 ms had the best median
// throughput (81k requests/s, against 67k yielding every 200 µs, 72k every
// 500 µs or 2 ms, and 77k without yields).
const yieldEvery = time.Millisecond

// due reports, at now, whether the loop should yield, and if so counts
// the yield as done.
func (c *cpuShare) due(now time.Duration) bool {
	if now-c.since < yieldEvery {
		return false
	}
	c.since = now
	return true
}

// goschedEvery is how long a loop runs without parking before it yields
// its P (runtime.Gosched), so that a goroutine the netpoller readied on
// that P, often another loop's, does not wait for the busy loop to be
// preempted (10-20 ms were seen at pipeline 16). Yielding before every
// wait, as sessiond did, costs most at pipeline 1: each Gosched puts the
// loop on the global run queue and wakes an idle thread to take it, so
// the loop's goroutine hops threads and the context switches per GET went
// from 0.12 to 0.30 (Redis: 0.11). Every 250 µs, GET at pipeline 1 took
// 9.7 µs of CPU against 11.1 (medians of six alternated runs; Redis 9.0),
// with pipeline 16's CPU and p99 unchanged (bench/README.md, "A P yield
// per wait").
const goschedEvery = 250 * time.Microsecond

// pDue reports, at now, whether the loop should yield its P, and if so
// counts the yield as done.
func (c *cpuShare) pDue(now time.Duration) bool {
	if now-c.pSince < goschedEvery {
		return false
	}
	c.pSince = now
	return true
}

// slept records that the loop slept (parked waiting for events) at now.
func (c *cpuShare) slept(now time.Duration) { c.since, c.pSince = now, now }

// loopEpoch is the origin of cpuShare's times: time.Since reads the
// monotonic clock.
var loopEpoch = time.Now()

// osYield gives the thread's CPU to another runnable thread, if any
// (sched_yield). syscall.Syscall, not RawSyscall, so that the runtime can
// hand the P to another thread while this one waits for the CPU again.
func osYield() { syscall.Syscall(syscall.SYS_SCHED_YIELD, 0, 0, 0) }
