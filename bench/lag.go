//go:build linux

package main

import (
	"math"
	"slices"
	"sort"
)

// DBSizePoll is one observation of the number of expiring keys still in a
// server: Present keys at Unix time AtMs (milliseconds, fractional: the
// midpoint of the DBSIZE round trip), already net of the persistent keys.
type DBSizePoll struct {
	AtMs    float64
	Present int64
	// StartMs and EndMs bound the instant DBSIZE was taken (the request
	// was sent at StartMs, the reply read at EndMs); 0 when unknown.
	StartMs, EndMs float64
}

// LagStats summarises reclaim lag for a cohort of expiring keys.
type LagStats struct {
	Keys       int
	P50, P99   float64 // ms, estimated per-key lag (see EstimateLag)
	Max        float64 // ms
	AllGoneMs  float64 // ms from the last deadline to the first poll with none left; NaN if never
	Unresolved int     // keys still present at the last poll
	Polls      int
	MaxGapMs   float64 // largest interval between two polls (the resolution)
}

// EstimateLag derives per-key reclaim lag from a DBSIZE curve, without
// reading any expiring key. deadlines are the keys' deadlines in Unix ms
// (any order); polls are in time order.
//
// At poll p the number of keys reclaimed so far is N - Present(p). Assuming
// keys are reclaimed in deadline order (a timing wheel does; Redis's random
// sampling does not, which makes this a lower bound on its tail), the k-th
// key by deadline (0-based) was reclaimed by the first poll at which more
// than k keys are gone, so its lag is at most that poll's time minus its
// deadline. This is the horizontal distance between the cumulative "due"
// and "reclaimed" curves of a queue. A key reclaimed before its deadline
// (a server that expired early) gets a negative lag, which is reported as
// is. The number of overdue keys at a poll, Present - (N - due), is the
// vertical distance between the same curves.
func EstimateLag(deadlines []int64, polls []DBSizePoll) LagStats {
	n := len(deadlines)
	st := LagStats{Keys: n, Polls: len(polls), AllGoneMs: math.NaN()}
	if n == 0 {
		return st
	}
	d := slices.Clone(deadlines)
	slices.Sort(d)
	last := float64(d[n-1])
	for i := 1; i < len(polls); i++ {
		st.MaxGapMs = math.Max(st.MaxGapMs, polls[i].AtMs-polls[i-1].AtMs)
	}
	lags := make([]float64, 0, n)
	k := 0
	for _, p := range polls {
		gone := int64(n) - p.Present
		for k < n && int64(k) < gone {
			lags = append(lags, p.AtMs-float64(d[k]))
			k++
		}
		if p.Present <= 0 && math.IsNaN(st.AllGoneMs) {
			st.AllGoneMs = p.AtMs - last
		}
	}
	st.Unresolved = n - k
	if len(lags) == 0 {
		st.P50, st.P99, st.Max = math.NaN(), math.NaN(), math.NaN()
		return st
	}
	// Keys never seen reclaimed count as lagging at least until the last
	// poll: put them in with that lower bound, so percentiles are not
	// flattered by a server that never finished.
	if st.Unresolved > 0 {
		end := polls[len(polls)-1].AtMs
		for ; k < n; k++ {
			lags = append(lags, end-float64(d[k]))
		}
	}
	sort.Float64s(lags)
	st.P50 = percentileSorted(lags, 50)
	st.P99 = percentileSorted(lags, 99)
	st.Max = lags[len(lags)-1]
	return st
}

// percentileSorted returns the nearest-rank percentile (rank ceil(p/100*n),
// 1-based) of sorted xs.
func percentileSorted(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	rank := int(math.Ceil(p / 100 * float64(len(xs))))
	rank = min(max(rank, 1), len(xs))
	return xs[rank-1]
}

// Overdue is the number of keys at poll p whose deadline has passed but
// which are still present: Present - (N - due(p)). sortedDeadlines must be
// sorted.
func Overdue(sortedDeadlines []int64, p DBSizePoll) int64 {
	n := len(sortedDeadlines)
	due := sort.Search(n, func(i int) bool { return float64(sortedDeadlines[i]) >= p.AtMs })
	return p.Present - int64(n-due)
}

// spreadDeadlines returns n deadlines uniform over [t0, t0+spanMs).
func spreadDeadlines(n int, t0, spanMs int64) []int64 {
	d := make([]int64, n)
	for i := range d {
		d[i] = t0 + int64(i)*spanMs/int64(n)
	}
	return d
}

// cpuPercent is the share of one core used: clock ticks over a wall window.
func cpuPercent(ticks int64, hz int64, wallSec float64) float64 {
	if wallSec <= 0 || hz <= 0 {
		return 0
	}
	return 100 * float64(ticks) / float64(hz) / wallSec
}

// EarlyExpired returns the largest number of keys found missing at any poll
// although their deadline was still at least slackMs after the reply was
// read (a server expiring keys before their deadline), and that poll.
// sortedDeadlines must be sorted.
func EarlyExpired(sortedDeadlines []int64, polls []DBSizePoll, slackMs float64) (int64, DBSizePoll) {
	var worst int64
	var at DBSizePoll
	n := len(sortedDeadlines)
	for _, p := range polls {
		end := p.EndMs
		if end == 0 {
			end = p.AtMs
		}
		// keys with deadline > end+slack must still be present
		i := sort.Search(n, func(i int) bool { return float64(sortedDeadlines[i]) > end+slackMs })
		if missing := int64(n-i) - p.Present; missing > worst {
			worst, at = missing, p
		}
	}
	return worst, at
}
