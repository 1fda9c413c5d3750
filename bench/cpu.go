//go:build linux

package main

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"strconv"
	"syscall"
	"time"
	"unsafe"
)

// Server CPU time per request: the server's CPU time is read just before and
// just after each measured run and the difference divided by the requests
// the run completed. On a shared machine this moves much less than ops/s,
// which depends on how much CPU the server was given, not only on how much
// it needs.
//
// Where the CPU time comes from, and why:
//   - /proc/<pid>/schedstat's first field is in ns but covers the main
//     thread only: a Go server runs on several threads.
//   - Summing /proc/<pid>/task/*/schedstat covers the live threads, in ns,
//     but loses the whole time of any thread that exits between the two
//     readings (the Go runtime ends a thread when a goroutine exits while
//     locked to it), and is many reads, not one snapshot.
//   - utime+stime (fields 14 and 15 of /proc/<pid>/stat) covers the whole
//     process, exited threads included, but in clock ticks (10 ms at
//     USER_HZ 100): 2.5% resolution on a 400 ms run.
//   - clock_gettime on the process's CPU clock (clock_getcpuclockid(pid))
//     returns the kernel's figure for the whole thread group, exited threads
//     included, in ns: the sum of the threads' sum_exec_runtime, the same
//     total that stat's utime+stime is scaled to. Linux lets any process read
//     another's process CPU clock (no ptrace check for clock_gettime).
//
// So procCPU uses the process CPU clock and falls back to stat's ticks
// (sysconf(_SC_CLK_TCK), read from the auxiliary vector as libc does) when
// the clock cannot be read.

// cpuSource says which of the two procCPU used.
type cpuSource int

const (
	cpuClock cpuSource = iota // clock_gettime on the process CPU clock, ns
	cpuTicks                  // /proc/<pid>/stat utime+stime, clock ticks
)

func (s cpuSource) String() string {
	if s == cpuClock {
		return "the process CPU clock (clock_gettime, ns, all threads)"
	}
	return fmt.Sprintf("utime+stime of /proc/<pid>/stat (%d ticks/s, all threads)", clkTck())
}

// procCPU returns the CPU time (user+system, all threads, exited ones
// included) that process pid has used since it started.
func procCPU(pid int) (time.Duration, cpuSource, error) {
	if d, err := processClock(pid); err == nil {
		return d, cpuClock, nil
	}
	t, err := procTicks(pid)
	if err != nil {
		return 0, cpuTicks, err
	}
	return ticksToDuration(t, clkTck()), cpuTicks, nil
}

// processClock reads pid's process CPU clock. The clock id is the kernel's
// MAKE_PROCESS_CPUCLOCK(pid, CPUCLOCK_SCHED), what glibc's
// clock_getcpuclockid returns: (~pid << 3) | 2.
func processClock(pid int) (time.Duration, error) {
	if pid <= 0 || pid >= 1<<28 { // beyond PID_MAX_LIMIT (1<<22), and the shift would wrap
		return 0, fmt.Errorf("bad pid %d", pid)
	}
	clk := int32(^int32(pid))<<3 | 2
	var ts syscall.Timespec
	if _, _, e := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, uintptr(clk), uintptr(unsafe.Pointer(&ts)), 0); e != 0 {
		return 0, fmt.Errorf("clock_gettime(process CPU clock of %d): %w", pid, e)
	}
	return time.Duration(ts.Nano()), nil
}

func ticksToDuration(ticks, hz int64) time.Duration {
	return time.Duration(ticks) * time.Second / time.Duration(hz)
}

// clkTck is sysconf(_SC_CLK_TCK): AT_CLKTCK from the auxiliary vector, 100
// when it cannot be read (USER_HZ is 100 on every Linux architecture Go
// supports).
func clkTck() int64 {
	b, err := os.ReadFile("/proc/self/auxv")
	if err != nil {
		return 100
	}
	return auxvClkTck(b, binary.NativeEndian, int(unsafe.Sizeof(uintptr(0))))
}

// auxvClkTck finds AT_CLKTCK (17) in an auxiliary vector of word-sized
// (key, value) pairs.
func auxvClkTck(b []byte, bo binary.ByteOrder, word int) int64 {
	const atNull, atClkTck = 0, 17
	get := func(p []byte) uint64 {
		if word == 4 {
			return uint64(bo.Uint32(p))
		}
		return bo.Uint64(p)
	}
	for i := 0; i+2*word <= len(b); i += 2 * word {
		k, v := get(b[i:]), get(b[i+word:])
		if k == atNull {
			break
		}
		if k == atClkTck && v > 0 && v <= math.MaxInt32 {
			return int64(v)
		}
	}
	return 100
}

// cpuPerOp is a run's server CPU time per completed request in µs; NaN
// when either is unknown.
func cpuPerOp(s Sample) float64 {
	if s.CPU <= 0 || s.Ops <= 0 {
		return math.NaN()
	}
	return float64(s.CPU) / float64(time.Microsecond) / float64(s.Ops)
}

// fmtCPU prints µs per request with 2 decimals, "-" when absent.
func fmtCPU(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

// measureCPU runs f between two readings of pid's CPU time and stores the
// difference in the Sample f returns. A failed reading leaves CPU at 0
// (unknown): the run itself still counts.
func measureCPU(pid int, f func() (Sample, error)) (Sample, error) {
	before, _, errB := procCPU(pid)
	s, err := f()
	after, _, errA := procCPU(pid)
	if err == nil && errB == nil && errA == nil && after > before {
		s.CPU = after - before
	}
	return s, err
}

// sessiondArgs are extra arguments startServer passes to every sessiond
// (--event-loops N).
var sessiondArgs []string

// eventLoopsArgs validates --event-loops and returns what to pass to
// sessiond: nothing when the flag was not given, so sessiond uses its own
// default.
func eventLoopsArgs(v string) ([]string, error) {
	if v == "" {
		return nil, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < -1 {
		return nil, fmt.Errorf("--event-loops must be an integer >= -1 (0: one per GOMAXPROCS, -1: none), not %q", v)
	}
	return []string{"--event-loops", strconv.Itoa(n)}, nil
}

// cpuRatioHeader names the CPU ratio column with its direction.
func (r *Report) cpuRatioHeader() string {
	return fmt.Sprintf("CPU ratio %s/%s (lower: %s cheaper)", r.ALabel, r.BLabel, r.ALabel)
}

func eventLoopsHeader(o *options) string {
	if o.target != kindSessiond {
		return "sessiond event-loops: not applicable (--target " + o.target + ")"
	}
	if o.eventLoops == "" {
		return "sessiond event-loops: not passed (sessiond's default, 0: one per GOMAXPROCS)"
	}
	return "sessiond event-loops: --event-loops " + o.eventLoops
}

func cpuHeader(o *options) string {
	_, src, err := procCPU(os.Getpid())
	how := src.String()
	if err != nil {
		how = "unavailable (" + err.Error() + ")"
	}
	a, b := "sessiond", "redis"
	if o.target == kindRedis {
		a, b = "redis-a", "redis-b"
	}
	return fmt.Sprintf("CPU µs/req: the server process's CPU time (user+system, all threads) over each run divided by the requests the run completed, median over rounds; read from %s; CPU ratio = %s/%s, lower is better for %s (below 1.00x it needs less CPU per request)",
		how, a, b, a)
}
