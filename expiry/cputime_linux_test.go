package expiry_test

import (
	"syscall"
	"time"
)

// threadCPU returns the CPU time consumed by the calling OS thread, so that
// benchmarks can report throughput that does not depend on how busy the
// machine is. The caller must be locked to its thread.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	const rusageThread = 1 // RUSAGE_THREAD
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
