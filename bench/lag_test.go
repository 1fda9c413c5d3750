package main

import (
	"math"
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

func TestSmapsFieldAndLogDuration(t *testing.T) {
	require.Equal(t, int64(2048*1024), smapsField("Rss: 4096 kB\nPss:  2048 kB\n", "Pss:"))
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
