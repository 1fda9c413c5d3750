package snapshot

import (
	"runtime"
	"syscall"
)

// osYield gives this thread's CPU to any other runnable thread on it
// (sched_yield), and returns at once when there is none. A save calls it
// with runtime.Gosched: Gosched only lets other goroutines have the P, while
// under the kernel's EEVDF scheduler a woken request thread (or the client
// on the same box) could otherwise wait for the save thread's slice, a few
// milliseconds, before it runs. syscall.Syscall, not RawSyscall, so that
// the runtime can hand the P to another thread if the yield takes long.
func osYield() { syscall.Syscall(syscall.SYS_SCHED_YIELD, 0, 0, 0) }

// lowerThreadPriority wires the calling goroutine to its thread and gives
// the thread the lowest CPU priority (nice 19). The goroutine must exit
// still wired: the runtime then ends the thread, priority and all, instead
// of running other goroutines on it. (Threads the runtime creates while it
// runs are cloned from a template thread, not from it, so they do not
// inherit the priority.) On the process's main thread, which the runtime
// never ends, it changes nothing and returns false, leaving the goroutine
// wired to it.
func lowerThreadPriority() bool {
	runtime.LockOSThread()
	tid := syscall.Gettid()
	if tid == syscall.Getpid() {
		return false
	}
	_ = syscall.Setpriority(syscall.PRIO_PROCESS, tid, 19)
	return true
}
