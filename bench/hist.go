//go:build linux

package main

import (
	"math"
	"math/bits"
	"time"
)

// histSubBits sets the resolution of the log-linear histogram: each power of
// two is split into 2^(histSubBits-1) equal sub-buckets, so a recorded value
// is known to within 1/128 (0.8%) of itself. Values below 2^histSubBits are
// exact.
const (
	histSubBits = 8
	histHalf    = 1 << (histSubBits - 1)
	histBuckets = (64-histSubBits+1)*histHalf + histHalf
)

// Histogram is a small HDR-like log-linear latency histogram over
// nanoseconds. The zero value is ready to use. It is not safe for concurrent
// use: give each connection its own and Merge them at the end.
type Histogram struct {
	counts [histBuckets]uint64
	total  uint64
	min    uint64
	max    uint64
}

// histIndex maps a value to its bucket. For v >= 2^histSubBits, with
// b = bits.Len64(v) - histSubBits, v>>b lies in [histHalf, 2*histHalf), so
// consecutive powers of two occupy consecutive runs of histHalf buckets.
func histIndex(v uint64) int {
	if v < 2*histHalf {
		return int(v)
	}
	b := bits.Len64(v) - histSubBits
	return b*histHalf + int(v>>uint(b))
}

// histLow and histHigh give the inclusive range of values in bucket i.
func histLow(i int) uint64 {
	if i < 2*histHalf {
		return uint64(i)
	}
	b := i/histHalf - 1
	m := uint64(i - b*histHalf)
	return m << uint(b)
}

func histHigh(i int) uint64 {
	if i < 2*histHalf {
		return uint64(i)
	}
	b := i/histHalf - 1
	return histLow(i) + (uint64(1) << uint(b)) - 1
}

// Record adds one observation.
func (h *Histogram) Record(d time.Duration) { h.RecordN(d, 1) }

// RecordN adds n observations of the same value (a pipelined batch: every
// command in it waited for the whole round trip, as redis-benchmark counts).
func (h *Histogram) RecordN(d time.Duration, n uint64) {
	if n == 0 {
		return
	}
	v := uint64(0)
	if d > 0 {
		v = uint64(d)
	}
	h.counts[histIndex(v)] += n
	if h.total == 0 || v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
	h.total += n
}

// Merge adds all of o's observations to h.
func (h *Histogram) Merge(o *Histogram) {
	if o.total == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.total == 0 || o.min < h.min {
		h.min = o.min
	}
	if o.max > h.max {
		h.max = o.max
	}
	h.total += o.total
}

// Count is the number of observations.
func (h *Histogram) Count() uint64 { return h.total }

// Max is the largest observation.
func (h *Histogram) Max() time.Duration { return time.Duration(h.max) }

// Percentile returns the value at or below which p percent (0..100) of the
// observations fall: the observation of rank ceil(p/100*count), reported as
// the midpoint of its bucket and clamped to the observed min and max.
func (h *Histogram) Percentile(p float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	if p <= 0 {
		return time.Duration(h.min)
	}
	rank := uint64(math.Ceil(p / 100 * float64(h.total)))
	if rank < 1 {
		rank = 1
	}
	if rank >= h.total {
		return time.Duration(h.max)
	}
	var cum uint64
	for i, c := range h.counts {
		cum += c
		if cum >= rank {
			lo, hi := histLow(i), histHigh(i)
			v := lo + (hi-lo)/2
			if v < h.min {
				v = h.min
			}
			if v > h.max {
				v = h.max
			}
			return time.Duration(v)
		}
	}
	return time.Duration(h.max)
}
