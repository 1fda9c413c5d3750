package snapshot

import "syscall"

// osYield gives this thread's CPU to any other runnable thread on it
// (sched_yield), and returns at once when there is none. A save calls it
// with runtime.Gosched: Gosched only lets other goroutines have the P, while
// under the kernel's EEVDF scheduler a woken request thread (or the client
// on the same box) could otherwise wait for the save thread's slice, a few
// milliseconds, before it runs. syscall.Syscall, not RawSyscall, so that
// the runtime can hand the P to another thread if the yield takes long.
func osYield() { syscall.Syscall(syscall.SYS_SCHED_YIELD, 0, 0, 0) }
