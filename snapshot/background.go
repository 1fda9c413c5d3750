package snapshot

import "runtime"

// inBackground runs a background save's work f at the lowest CPU
// priority, on a P of its own.
//
// A save needs about one core for a second per million sessions, and with
// the default one event loop per P it would otherwise take a loop's P and
// share the cores with the loops' threads. So GOMAXPROCS is raised by one
// for the save (and restored after), and the save's thread is wired to
// its goroutine and given nice 19 (lowerThreadPriority): the kernel then
// runs it on the CPU that request threads leave idle, and, holding a P of
// its own, it keeps no loop from a P while it waits for a CPU. (Nice alone
// would: a niced thread the kernel does not run may still hold the P a
// woken loop needs.) A restored GOMAXPROCS is an explicit setting: Go no
// longer adjusts it to a changed CPU quota, as the loops, sized at start,
// do not either.
//
// Measured with `go run ./bench --workloads snapshot --extra-rounds 5`, 1M
// sessions, alternated runs: request p99 during a save 0.74-1.11 ms, median
// 0.92, against 0.99-1.61 ms, median 1.21, at nice 0 on its own P; baseline
// p99 0.36-0.56 ms (bench/README.md, "The paced driver's own lateness").
// Not SCHED_IDLE: see doc.go.
func inBackground(f func()) {
	old := runtime.GOMAXPROCS(0)
	runtime.GOMAXPROCS(old + 1)
	defer runtime.GOMAXPROCS(old)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if lowerThreadPriority() { // for good: the thread ends with this goroutine
			f()
			return
		}
		// This goroutine landed on the main thread, which must keep its
		// priority (ps shows the process's nice from it, and the runtime
		// parks rather than ends it). Holding it here, run f on another.
		inner := make(chan struct{})
		go func() {
			defer close(inner)
			lowerThreadPriority() // true: the main thread is held above
			f()
		}()
		<-inner
		runtime.UnlockOSThread()
	}()
	<-done
}
