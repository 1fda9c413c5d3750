//go:build linux

package main

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHistIndexRoundTrip(t *testing.T) {
	// Every value lies inside the bucket it maps to, buckets are contiguous
	// and in order, and the relative width stays under 1/128.
	vals := []uint64{0, 1, 127, 128, 255, 256, 257, 511, 512, 1000, 12345, 1 << 20, 1<<20 + 1, 987654321, 1 << 40, 1<<63 + 12345, ^uint64(0)}
	rng := rand.New(rand.NewPCG(1, 1))
	for range 10000 {
		vals = append(vals, rng.Uint64()>>rng.IntN(64))
	}
	for _, v := range vals {
		i := histIndex(v)
		require.Less(t, i, histBuckets, "v=%d", v)
		lo, hi := histLow(i), histHigh(i)
		require.True(t, lo <= v && v <= hi, "v=%d in bucket %d [%d,%d]", v, i, lo, hi)
		if lo >= 256 {
			assert.LessOrEqual(t, float64(hi-lo+1)/float64(lo), 1.0/128+1e-12, "v=%d", v)
		}
	}
	for i := 1; i < histBuckets; i++ {
		require.Equal(t, histHigh(i-1)+1, histLow(i), "bucket %d", i)
	}
	require.Equal(t, ^uint64(0), histHigh(histBuckets-1))
}

func TestHistogramPercentilesMatchExactOnes(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	var h Histogram
	var exact []time.Duration
	for range 200000 {
		// log-normal-ish latencies between ~50µs and ~50ms
		d := time.Duration(50000 * (1 + rng.ExpFloat64()*rng.ExpFloat64()*20))
		h.Record(d)
		exact = append(exact, d)
	}
	slices.Sort(exact)
	require.EqualValues(t, len(exact), h.Count())
	for _, p := range []float64{0, 50, 90, 99, 99.9, 99.99, 100} {
		rank := int(float64(len(exact))*p/100+0.999999) - 1
		rank = max(0, min(rank, len(exact)-1))
		want := exact[rank]
		got := h.Percentile(p)
		assert.InEpsilon(t, float64(want), float64(got), 0.01, "p%v: want %v got %v", p, want, got)
	}
	assert.Equal(t, exact[len(exact)-1], h.Max())
	assert.Equal(t, exact[len(exact)-1], h.Percentile(100))
	assert.Equal(t, exact[0], h.Percentile(0))
}

func TestHistogramSmallExact(t *testing.T) {
	var h Histogram
	assert.Equal(t, time.Duration(0), h.Percentile(99), "empty")
	for i := 1; i <= 100; i++ {
		h.Record(time.Duration(i))
	}
	assert.Equal(t, time.Duration(50), h.Percentile(50))
	assert.Equal(t, time.Duration(99), h.Percentile(99))
	assert.Equal(t, time.Duration(100), h.Percentile(99.9))
	assert.Equal(t, time.Duration(1), h.Percentile(0.5))
}

func TestHistogramRecordNAndMerge(t *testing.T) {
	var a, b, all Histogram
	a.RecordN(time.Millisecond, 16) // one pipelined batch of 16
	b.RecordN(3*time.Millisecond, 4)
	b.RecordN(0, 0) // ignored
	all.Merge(&a)
	all.Merge(&b)
	all.Merge(&Histogram{})
	require.EqualValues(t, 20, all.Count())
	assert.InEpsilon(t, float64(time.Millisecond), float64(all.Percentile(80)), 0.01)
	assert.InEpsilon(t, float64(3*time.Millisecond), float64(all.Percentile(81)), 0.01)
	assert.Equal(t, 3*time.Millisecond, all.Max())
	assert.Equal(t, time.Millisecond, all.Percentile(0))
}
