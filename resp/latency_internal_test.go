package resp

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLatencyHistogramBuckets: LATENCY HISTOGRAM's cumulative counts for
// known durations, at both sides of every key's edge. The expected counts
// are what Redis 7.0.15's HdrHistogram walk (fillCommandCDF) prints for the
// same durations in whole µs: 0 1 1 2 2 3 33 34 541065 541066 5000000.
func TestLatencyHistogramBuckets(t *testing.T) {
	var h latencyHist
	for _, ns := range []int64{10, 1000, 1999, 2000, 2999, 3000, 33999, 34000, 541065999, 541066000, 5e9} {
		h.record(ns)
	}
	c, total := h.counts()
	assert.Equal(t, int64(11), total)
	assert.Equal(t, [][2]int64{{1, 3}, {2, 5}, {4, 6}, {33, 7}, {66, 8}, {541065, 9}, {1073741, 11}}, latencyCDF(&c))

	// Every key counts exactly the durations under its next µs, and the
	// last one everything.
	for k, key := range latencyCDFKeys[:len(latencyCDFKeys)-1] {
		var h latencyHist
		h.record((key+1)*1000 - 1)
		h.record((key + 1) * 1000)
		c, _ := h.counts()
		next := latencyCDFKeys[k+1]
		assert.Equal(t, [][2]int64{{key, 1}, {next, 2}}, latencyCDF(&c), "key %d", key)
	}
	var empty [histBuckets]int64
	assert.Empty(t, latencyCDF(&empty))
}

// TestLatencyCDFKeys derives the keys from HdrHistogram's layout as Redis
// configures it (1 ns to 1 s, 2 significant digits: 256 sub-buckets, so a
// power of two v >= 256 starts a bucket v/128 wide) and its walk in powers
// of two from 1024 ns, which ends at its last bucket's top, 2^30-1 ns.
func TestLatencyCDFKeys(t *testing.T) {
	var want []int64
	for v := int64(1024); v < 1<<30; v *= 2 {
		want = append(want, (v+v/128-1)/1000)
	}
	want = append(want, (1<<30-1)/1000)
	assert.Equal(t, want, latencyCDFKeys[:])
}

// TestLatencyGraphText: LATENCY GRAPH's text for samples over two blocks
// of 80 columns, ages in seconds to days, repeated values, and a single
// sample. testdata/latency_graph.golden is what Redis 7.0.15's
// latencyCommandGenSparkeline and sparkline.c render for the same samples
// and times (built out of tree from its sources).
func TestLatencyGraphText(t *testing.T) {
	var got strings.Builder
	for _, c := range latencyGraphCases() {
		ts := &latencySeries{max: c.max}
		for _, sm := range c.samples {
			ts.samples[ts.idx] = sm
			ts.idx = (ts.idx + 1) % latencyTSLen
		}
		got.WriteString(latencyGraph(c.event, ts, c.now))
		got.WriteString("====\n")
	}
	want, err := os.ReadFile("testdata/latency_graph.golden")
	require.NoError(t, err)
	assert.Equal(t, string(want), got.String())
}

type latencyGraphCase struct {
	event    string
	max, now int64
	samples  []latencySample
}

func latencyGraphCases() []latencyGraphCase {
	many := latencyGraphCase{event: "command", max: 50}
	t := int64(1_700_000_000)
	for j := range int64(200) { // the latest 160 stay, and wrap the ring
		t += 1 + j*j*97%86400
		many.samples = append(many.samples, latencySample{t, j*37%50 + 1})
	}
	many.now = t + 30
	return []latencyGraphCase{
		{event: "command", max: 30, now: 1_700_000_010, samples: []latencySample{
			{1_700_000_000, 10}, {1_700_000_005, 30}, {1_700_000_009, 17}}},
		{event: "fast-command", max: 9, now: 1_700_000_000, samples: []latencySample{{1_700_000_000, 5}}},
		{event: "snapshot", max: 7, now: 1_700_000_100, samples: []latencySample{
			{1_700_000_001, 7}, {1_700_000_002, 7}, {1_700_000_003, 7}}},
		many,
	}
}

// BenchmarkLatencyRecord is latency-tracking's cost on the request path:
// recording one duration in a command's histogram, from one goroutine and
// from all of them at once on the same command.
func BenchmarkLatencyRecord(b *testing.B) {
	durations := []int64{800, 1500, 2600, 9000, 40000, 120000, 3000000, 2e9}
	b.Run("par=1", func(b *testing.B) {
		var st cmdStats
		i := 0
		for b.Loop() {
			st.hist.record(durations[i&7])
			i++
		}
	})
	b.Run("par=all", func(b *testing.B) {
		var st cmdStats
		b.RunParallel(func(pb *testing.PB) {
			for i := 0; pb.Next(); i++ {
				st.hist.record(durations[i&7])
			}
		})
	})
}
