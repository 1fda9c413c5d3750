//go:build linux

package main

import (
	"bytes"
	"encoding/binary"
	"encoding/csv"
	"math"
	"os"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseStatOddName(t *testing.T) {
	// comm may hold spaces, parentheses and what looks like later fields:
	// only the last ')' ends it.
	line := "1234 (my (odd) name) S 1 2 3) R 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16) S 1 1234 1234 0 -1 4194560 2000 0 0 0 150 25 0 0 20 0 8 0 100 0 0\n"
	v, err := parseStatTicks(line)
	require.NoError(t, err)
	assert.Equal(t, int64(175), v)
	v, err = parseStatTicks("1234 (my (odd) name) S 1 1234 1234 0 -1 4194560 2000 0 0 0 7 3 0 0 20 0 8 0 100 0 0")
	require.NoError(t, err)
	assert.Equal(t, int64(10), v)
	_, err = parseStatTicks("1234 (x) S 1 2 3")
	assert.Error(t, err, "short line")
	_, err = parseStatTicks("1234 (x) S 1 1234 1234 0 -1 4194560 2000 0 0 0 x 3 0 0")
	assert.Error(t, err, "non-numeric utime")

	assert.Equal(t, 1750*time.Millisecond, ticksToDuration(175, 100))
	assert.Equal(t, 700*time.Millisecond, ticksToDuration(175, 250))
}

func TestAuxvClkTck(t *testing.T) {
	vec := func(bo binary.AppendByteOrder, word int, kv ...uint64) []byte {
		var b []byte
		for _, x := range kv {
			if word == 4 {
				b = bo.AppendUint32(b, uint32(x))
			} else {
				b = bo.AppendUint64(b, x)
			}
		}
		return b
	}
	assert.EqualValues(t, 250, auxvClkTck(vec(binary.LittleEndian, 8, 6, 4096, 17, 250, 0, 0), binary.LittleEndian, 8))
	assert.EqualValues(t, 1000, auxvClkTck(vec(binary.BigEndian, 4, 17, 1000, 0, 0), binary.BigEndian, 4))
	assert.EqualValues(t, 100, auxvClkTck(vec(binary.LittleEndian, 8, 6, 4096, 0, 0, 17, 250), binary.LittleEndian, 8), "nothing after AT_NULL")
	assert.EqualValues(t, 100, auxvClkTck(nil, binary.LittleEndian, 8))
	if runtime.GOOS == "linux" {
		assert.EqualValues(t, 100, clkTck(), "USER_HZ on Linux")
	}
}

// threadCPU is this thread's CPU time (CLOCK_THREAD_CPUTIME_ID).
func threadCPU() time.Duration {
	const clockThreadCPUTimeID = 3
	var ts syscall.Timespec
	if _, _, e := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTimeID, uintptr(unsafe.Pointer(&ts)), 0); e != 0 {
		panic(e)
	}
	return time.Duration(ts.Nano())
}

// TestProcCPUCountsExitedThreads burns CPU on a thread that then exits (a
// goroutine that ends locked to its thread ends the thread): the process
// total must keep that time, which a sum over /proc/<pid>/task/* would lose.
func TestProcCPUCountsExitedThreads(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc and Linux CPU clocks")
	}
	pid := os.Getpid()
	before, src, err := procCPU(pid)
	require.NoError(t, err)
	assert.Equal(t, cpuClock, src, "the process CPU clock is readable here")
	ticks0, err := procTicks(pid)
	require.NoError(t, err)

	const burn = 150 * time.Millisecond
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread() // never unlocked: the thread exits with the goroutine
		start := threadCPU()
		x := 0
		for threadCPU()-start < burn {
			for i := range 10000 {
				x += i
			}
		}
		_ = x
	}()
	<-done
	time.Sleep(50 * time.Millisecond) // let the locked thread exit

	after, _, err := procCPU(pid)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, after-before, burn, "the exited thread's CPU time is counted")

	// The clock and stat's ticks measure the same total: stat truncates
	// utime and stime separately to ticks, and time passes between reads.
	ticks1, err := procTicks(pid)
	require.NoError(t, err)
	clock1, _, err := procCPU(pid)
	require.NoError(t, err)
	stat1 := ticksToDuration(ticks1, clkTck())
	assert.InDelta(t, float64(clock1), float64(stat1), float64(50*time.Millisecond), "clock %v vs stat %v", clock1, stat1)
	assert.GreaterOrEqual(t, ticksToDuration(ticks1-ticks0, clkTck()), burn-30*time.Millisecond, "stat agrees about the burn")

	const noSuchPid = 1<<22 + 1 // above PID_MAX_LIMIT
	_, _, err = procCPU(noSuchPid)
	assert.Error(t, err, "no such process")
	_, err = processClock(1 << 30)
	assert.Error(t, err, "a pid the clock id cannot encode")
}

func TestMeasureCPU(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads Linux CPU clocks")
	}
	s, err := measureCPU(os.Getpid(), func() (Sample, error) {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		start := threadCPU()
		for threadCPU()-start < 20*time.Millisecond {
		}
		return Sample{Ops: 1000}, nil
	})
	require.NoError(t, err)
	assert.GreaterOrEqual(t, s.CPU, 20*time.Millisecond)
	assert.GreaterOrEqual(t, cpuPerOp(s), 20.0, "µs per request")

	s, err = measureCPU(1<<22+1, func() (Sample, error) { return Sample{Ops: 10}, nil })
	require.NoError(t, err, "an unreadable CPU time does not fail the run")
	assert.Zero(t, s.CPU)
	assert.True(t, math.IsNaN(cpuPerOp(s)))
}

func TestCPUPerOpAndSummary(t *testing.T) {
	assert.InDelta(t, 8.0, cpuPerOp(Sample{Ops: 50000, CPU: 400 * time.Millisecond}), 1e-12)
	assert.True(t, math.IsNaN(cpuPerOp(Sample{Ops: 50000})), "unknown CPU")
	assert.True(t, math.IsNaN(cpuPerOp(Sample{CPU: time.Second})), "no requests")
	assert.Equal(t, "8.00", fmtCPU(8))
	assert.Equal(t, "-", fmtCPU(math.NaN()))

	r := Row{
		A:        []Sample{{Ops: 1000, CPU: 9 * time.Millisecond}, {Ops: 1000, CPU: 6 * time.Millisecond}, {Ops: 1000}, {Ops: 1000, CPU: 7 * time.Millisecond}},
		B:        []Sample{{Ops: 2000, CPU: 20 * time.Millisecond}, {Ops: 2000, CPU: 16 * time.Millisecond}},
		CPUPairs: []float64{0.9, 0.7},
	}
	s := summarize(r)
	assert.InDelta(t, 7.0, s.ACPU, 1e-12, "median of the rounds that have CPU")
	assert.InDelta(t, 9.0, s.BCPU, 1e-12)
	assert.InDelta(t, 7.0/9, s.CPURatio, 1e-12)
	assert.Equal(t, 0.7, s.CPUPairLo)
	assert.Equal(t, 0.9, s.CPUPairHi)

	none := summarize(Row{A: []Sample{{Ops: 10, OpsPerSec: 5}}, B: []Sample{{Ops: 10, CPU: time.Millisecond}}})
	assert.True(t, math.IsNaN(none.ACPU))
	assert.True(t, math.IsNaN(none.CPURatio))
	assert.True(t, math.IsNaN(none.CPUPairLo))
}

func TestReportCPUColumns(t *testing.T) {
	rep := &Report{ALabel: "sessiond", BLabel: "redis"}
	rep.Rows = []Summary{
		summarize(Row{Workload: "get-p1",
			A: []Sample{{OpsPerSec: 120000, Ops: 50000, CPU: 400 * time.Millisecond}}, B: []Sample{{OpsPerSec: 100000, Ops: 50000, CPU: 500 * time.Millisecond}},
			Pairs: []float64{1.2}, CPUPairs: []float64{0.75, 0.85}}),
		summarize(Row{Workload: "mix-p1", A: []Sample{{OpsPerSec: 1000, Ops: 1000}}, B: []Sample{{OpsPerSec: 1000, Ops: 1000, CPU: time.Second}}}),
	}
	rep.Mem = []MemResult{
		{Label: "sessiond", Sessions: 1000, RSSBefore: 10 << 20, RSSAfter: 10<<20 + 400000, UsedBefore: 1000, UsedAfter: 501000},
		{Label: "redis", Sessions: 1000, RSSBefore: 10 << 20, RSSAfter: 10<<20 + 650000, UsedBefore: 1000, UsedAfter: 601000},
	}

	var txt bytes.Buffer
	rep.WriteText(&txt)
	lines := strings.Split(txt.String(), "\n")
	require.NotEmpty(t, lines)
	assert.Contains(t, lines[1], "sessiond CPU µs/req")
	assert.Contains(t, lines[1], "CPU ratio sessiond/redis (lower: sessiond cheaper)")
	assert.Regexp(t, `get-p1 .* 8\.00 +10\.00 +0\.80x +0\.75-0\.85`, lines[2])
	assert.Regexp(t, `mix-p1 .* - +1000\.00 +- +-`, lines[3])

	var md bytes.Buffer
	rep.WriteMarkdown(&md)
	assert.Contains(t, md.String(), "| sessiond CPU µs/req | redis CPU µs/req | CPU ratio sessiond/redis (lower: sessiond cheaper) | CPU round ratios | notes |")
	assert.Contains(t, md.String(), "| 8.00 | 10.00 | **0.80x** | 0.75-0.85 |  |\n")
	assert.Contains(t, md.String(), "| - | 1000.00 | **-** | - |  |\n")
	for _, l := range strings.Split(md.String(), "\n") {
		if strings.HasPrefix(l, "| workload") || strings.HasPrefix(l, "|---|---:") && strings.HasSuffix(l, "|---|") || strings.HasPrefix(l, "| get-p1") {
			assert.Equal(t, 13, strings.Count(l, "|"), "12 columns: %s", l)
		}
	}

	var c bytes.Buffer
	require.NoError(t, rep.WriteCSV(&c))
	recs, err := csv.NewReader(&c).ReadAll()
	require.NoError(t, err, "every line has the header's column count")
	require.Len(t, recs, 1+2+2)
	assert.Equal(t, "notes", recs[0][18], "existing columns keep their positions")
	assert.Equal(t, []string{"a_cpu_us_per_req", "b_cpu_us_per_req", "cpu_ratio", "cpu_round_ratio_min", "cpu_round_ratio_max"}, recs[0][19:])
	assert.Equal(t, []string{"8.000", "10.000", "0.800", "0.750", "0.850"}, recs[1][19:])
	assert.Equal(t, []string{"", "1000.000", "", "", ""}, recs[2][19:])
	assert.Equal(t, []string{"", "", "", "", ""}, recs[3][19:], "memory lines have no CPU")

	l := gobenchLine(benchName("sessiond", "get-p1", 1, 50, 256), Sample{OpsPerSec: 100000, Ops: 50000, CPU: 400 * time.Millisecond})
	assert.True(t, strings.HasSuffix(l, "\t8.000 server-cpu-us/op"), l)
	assert.NotContains(t, gobenchLine("x", Sample{OpsPerSec: 1, Ops: 1}), "cpu", "unknown CPU is left out")
}

func TestEventLoopsArgs(t *testing.T) {
	a, err := eventLoopsArgs("")
	require.NoError(t, err)
	assert.Nil(t, a, "not given: nothing passed")
	for v, want := range map[string]string{"0": "0", "-1": "-1", "4": "4", "+2": "2"} {
		a, err = eventLoopsArgs(v)
		require.NoError(t, err)
		assert.Equal(t, []string{"--event-loops", want}, a)
	}
	for _, v := range []string{"-2", "x", "1.5"} {
		_, err = eventLoopsArgs(v)
		assert.Error(t, err, v)
	}
	o := &options{target: kindSessiond}
	assert.Contains(t, eventLoopsHeader(o), "not passed")
	o.eventLoops = "-1"
	assert.Equal(t, "sessiond event-loops: --event-loops -1", eventLoopsHeader(o))
}
