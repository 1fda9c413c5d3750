//go:build linux

package main

import (
	"bufio"
	"context"
	"math"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A server that reclaims every key exactly L ms after its deadline, polled
// every ms: the estimate must find lag L for every key (within the 1 ms
// poll resolution).
func TestEstimateLagConstantLag(t *testing.T) {
	const n, t0, lag = 1000, int64(1_000_000), 7.0
	dl := spreadDeadlines(n, t0, 1000)
	var polls []DBSizePoll
	for at := float64(t0 - 10); at <= float64(t0)+1000+50; at++ {
		gone := 0
		for _, d := range dl {
			if float64(d)+lag <= at {
				gone++
			}
		}
		polls = append(polls, DBSizePoll{AtMs: at, Present: int64(n - gone)})
	}
	st := EstimateLag(dl, polls)
	require.Equal(t, n, st.Keys)
	require.Zero(t, st.Unresolved)
	require.InDelta(t, lag, st.P50, 1)
	require.InDelta(t, lag, st.P99, 1)
	require.InDelta(t, lag, st.Max, 1)
	// the last deadline is t0+999; all gone at t0+999+7.
	require.InDelta(t, lag, st.AllGoneMs, 1)
	require.InDelta(t, 1.0, st.MaxGapMs, 1e-9)
}

// A server that reclaims nothing until one sweep at t0+1500 (Redis-like
// batch): the first key lagged 1500 ms, the last about 501 ms.
func TestEstimateLagOneSweep(t *testing.T) {
	const n, t0 = 100, int64(5000)
	dl := spreadDeadlines(n, t0, 1000) // t0, t0+10, ..., t0+990
	polls := []DBSizePoll{{AtMs: 4990, Present: n}, {AtMs: 6000, Present: n}, {AtMs: 6500, Present: 0}}
	st := EstimateLag(dl, polls)
	require.InDelta(t, 6500-5000, st.Max, 1e-9)
	// lags 1500, 1490, ..., 510; ascending rank 50 is key 50 (1000), rank 99 is key 1.
	require.InDelta(t, 1000, st.P50, 1e-9)
	require.InDelta(t, 1490, st.P99, 1e-9)
	require.InDelta(t, 6500-5990, st.AllGoneMs, 1e-9)
	require.Equal(t, int64(n), Overdue(dl, polls[1])) // all due by 6000, none gone
	require.Equal(t, int64(0), Overdue(dl, polls[0]))
	require.Equal(t, int64(50), Overdue(dl, DBSizePoll{AtMs: 5495, Present: 100})) // 50 due (5000..5490)
}

// Keys still present at the last poll count with the last poll as a lower
// bound, and AllGoneMs is NaN.
func TestEstimateLagUnresolved(t *testing.T) {
	dl := []int64{100, 200, 300, 400}
	st := EstimateLag(dl, []DBSizePoll{{AtMs: 50, Present: 4}, {AtMs: 450, Present: 2}, {AtMs: 1000, Present: 1}})
	require.Equal(t, 1, st.Unresolved)
	require.True(t, math.IsNaN(st.AllGoneMs))
	// keys 100, 200 -> 350, 250; key 300 -> 700; key 400 at least 600.
	require.InDelta(t, 700, st.Max, 1e-9)
	require.InDelta(t, 350, st.P50, 1e-9)
	empty := EstimateLag(nil, nil)
	require.Zero(t, empty.Keys)
}

func TestPercentileSorted(t *testing.T) {
	xs := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	require.Equal(t, 5.0, percentileSorted(xs, 50))
	require.Equal(t, 10.0, percentileSorted(xs, 99))
	require.Equal(t, 1.0, percentileSorted(xs, 0))
	require.Equal(t, 10.0, percentileSorted(xs, 100))
	require.True(t, math.IsNaN(percentileSorted(nil, 50)))
}

func TestSpreadDeadlines(t *testing.T) {
	d := spreadDeadlines(4, 1000, 1000)
	require.Equal(t, []int64{1000, 1250, 1500, 1750}, d)
}

func TestWindow(t *testing.T) {
	ms := int64(time.Millisecond)
	recs := []reqRec{{sched: 0, lat: ms / 2}, {sched: 10, lat: 2 * ms}, {sched: 20, lat: ms / 4, bad: true}, {sched: 30, lat: 9 * ms}}
	w := window(recs, 0, 30)
	require.Equal(t, 3, w.N)
	require.Equal(t, 1, w.Bad)
	require.Equal(t, 1, w.Over1ms)
	require.Equal(t, time.Duration(2*ms), w.Max)
	require.Zero(t, window(recs, 100, 200).N)
}

func TestParseStatTicksAndCPU(t *testing.T) {
	line := "1234 (sessi (o) nd) S 1 1234 1234 0 -1 4194560 2000 0 0 0 150 25 0 0 20 0 8 0 100 0 0\n"
	v, err := parseStatTicks(line)
	require.NoError(t, err)
	require.Equal(t, int64(175), v)
	_, err = parseStatTicks("garbage")
	require.Error(t, err)
	require.InDelta(t, 50.0, cpuPercent(150, 100, 3), 1e-9)
	require.Zero(t, cpuPercent(1, 100, 0))
}

func TestSnapshotLogDuration(t *testing.T) {
	log := `time=x level=INFO msg="snapshot written" keys=10 bytes=100 duration=1.234s mb_per_s=5` + "\n" +
		`time=y level=INFO msg="snapshot written" keys=10 bytes=100 duration=250ms mb_per_s=5` + "\n"
	require.Equal(t, 250*time.Millisecond, snapshotLogDuration(log))
	require.Zero(t, snapshotLogDuration("nothing"))
}

func TestExtraSelected(t *testing.T) {
	require.False(t, anyExtraSelected(""))
	require.False(t, anyExtraSelected("all"))
	require.False(t, anyExtraSelected("get,mix"))
	require.True(t, extraSelected("expiry", "expiry-storm"))
	require.True(t, extraSelected("expiry-cpu,snapshot", "snapshot"))
	require.False(t, extraSelected("expiry-cpu", "expiry-storm"))
}

func TestEarlyExpired(t *testing.T) {
	dl := []int64{100, 200, 300, 400}
	// at 150 (reply read at 160) keys 200, 300, 400 must be there: 3 present is fine.
	n, _ := EarlyExpired(dl, []DBSizePoll{{AtMs: 150, EndMs: 160, Present: 3}}, 1)
	require.Zero(t, n)
	// only 2 present at 160: one key went before its deadline.
	n, p := EarlyExpired(dl, []DBSizePoll{{AtMs: 50, Present: 4}, {AtMs: 150, EndMs: 160, Present: 2}}, 1)
	require.Equal(t, int64(1), n)
	require.Equal(t, int64(2), p.Present)
	// a key due at 200 may be gone at a reply read at 199.5 + slack 1.
	n, _ = EarlyExpired(dl, []DBSizePoll{{AtMs: 199, EndMs: 199.5, Present: 2}}, 1)
	require.Zero(t, n)
}

// TestPacedDriverCountsAStall checks that a request sent after a sleep is
// timed from its sending while one the driver could not send on time,
// because the server had not answered the one before, is timed from its
// schedule: a 100 ms stall of the server shows in full.
func TestPacedDriverCountsAStall(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	var served atomic.Int64
	go serveNil(ln, func() {
		if served.Add(1) == 20 {
			time.Sleep(100 * time.Millisecond)
		}
	})
	// One connection at 200 requests/s: a request every 5 ms. GET and
	// SETEX get the same reply (the SETEX ones count as bad, which does not
	// matter here).
	drv, err := startPaced(context.Background(), ln.Addr().String(), []string{"k"}, nil, 1, 200)
	require.NoError(t, err)
	time.Sleep(400 * time.Millisecond)
	recs, _ := drv.stop()
	require.Greater(t, len(recs), 40)
	w := window(recs, 0, math.MaxInt64)
	require.GreaterOrEqual(t, w.Max, 95*time.Millisecond, "the stalled request's wait is counted")
	// The requests due during the stall waited too: about 100/5 of them
	// over 1 ms, each from its own schedule.
	require.GreaterOrEqual(t, w.Over1ms, 15)
}

func TestLatTimeline(t *testing.T) {
	ms := int64(time.Millisecond)
	from := 10_000 * ms
	recs := []reqRec{{sched: from - 1000*ms, lat: ms}, {sched: from + 60*ms, lat: 7 * ms}, {sched: from + 90*ms, lat: 3 * ms}}
	tl := latTimeline(recs, from, from+100*ms)
	lines := strings.Split(strings.TrimSuffix(tl, "\n"), "\n")
	require.Len(t, lines, 20+2+10, "1 s before, the 100 ms, 500 ms after, in 50 ms steps")
	require.True(t, strings.HasPrefix(lines[0], " -1000 ms"), lines[0])
	require.Contains(t, lines[0], "n=1,")
	require.True(t, strings.HasPrefix(lines[21], "   +50 ms"), lines[21])
	require.Contains(t, lines[21], "n=2, >1ms 2")
	require.Contains(t, lines[21], "/ 7.000 ms")
}

// TestPacedDriverForgivesItsOwnLateness: with every sleep of the driver
// ending 5 ms late and a server that answers at once, no request counts
// over 1 ms, neither those it slept for nor those that a late sleep put
// behind schedule.
func TestPacedDriverForgivesItsOwnLateness(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	go serveNil(ln, nil)
	defer func(f func(time.Duration)) { pacedSleep = f }(pacedSleep)
	pacedSleep = func(d time.Duration) { time.Sleep(d + 5*time.Millisecond) }
	// A request every 2 ms: each 5 ms-late sleep puts the next two
	// requests behind schedule too.
	drv, err := startPaced(context.Background(), ln.Addr().String(), []string{"k"}, nil, 1, 500)
	require.NoError(t, err)
	time.Sleep(300 * time.Millisecond)
	recs, _ := drv.stop()
	require.Greater(t, len(recs), 20)
	var slow []time.Duration
	for _, r := range recs {
		if r.lat > int64(time.Millisecond) {
			slow = append(slow, time.Duration(r.lat))
		}
	}
	// The server answers at once; allow a rare scheduling hiccup of the
	// test machine, not the 5 ms of every sleep.
	require.LessOrEqual(t, len(slow), len(recs)/10, "requests over 1 ms: %v", slow)
}

// serveNil answers every request on the first connection to ln with a nil
// bulk string, calling before (when not nil) ahead of each reply.
func serveNil(ln net.Listener, before func()) {
	nc, err := ln.Accept()
	if err != nil {
		return
	}
	defer nc.Close()
	r := bufio.NewReader(nc)
	for {
		line, err := r.ReadSlice('\n')
		if err != nil || line[0] != '*' {
			return
		}
		n, _ := strconv.Atoi(string(line[1 : len(line)-2]))
		for range 2 * n { // each argument's length line and bytes
			if _, err := r.ReadSlice('\n'); err != nil {
				return
			}
		}
		if before != nil {
			before()
		}
		if _, err := nc.Write([]byte("$-1\r\n")); err != nil {
			return
		}
	}
}
