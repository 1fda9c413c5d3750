package resp

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sessiond/keyspace"
)

func TestHistogramPercentiles(t *testing.T) {
	var h latencyHist
	for range 98 {
		h.record(int64(2 * time.Microsecond))
	}
	h.record(int64(300 * time.Microsecond))
	h.record(int64(5 * time.Second)) // past the top: the last bucket
	h.record(10)                     // under 1 µs counts as 1 µs
	c, total := h.counts()
	require.Equal(t, int64(101), total)
	p50 := percentile(&c, total, 50)
	assert.InDelta(t, 2000, p50, 2000*0.125, "p50 within a bucket's width")
	assert.InDelta(t, 300000, percentile(&c, total, 99), 300000*0.125)
	for i := histIndex(histMinNs); i < histBuckets-1; i++ { // lower buckets are under the 1 µs floor
		assert.Less(t, histUpper(i), histUpper(i+1))
		assert.Equal(t, i, histIndex(histUpper(i)), "bucket %d", i)
		assert.Equal(t, i+1, histIndex(histUpper(i)+1), "bucket %d", i)
	}
}

// TestSlowCommandEvents: a command over the thresholds lands in the slow
// log, in a WARN log line and in the latency monitor's "command" or
// "fast-command" event.
func TestSlowCommandEvents(t *testing.T) {
	ks, err := keyspace.New(keyspace.Options{Stripes: 16})
	require.NoError(t, err)
	var logs bytes.Buffer
	s := NewServer(Options{Keyspace: ks, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	require.NoError(t, s.cfg.Set("latency-monitor-threshold", "5"))
	c := &client{id: 1, addr: "127.0.0.1:4242", authed: true}
	c.setName("worker")
	get, keys := s.table["get"], s.table["keys"]
	r := &reply{}
	s.afterCall(c, get, [][]byte{[]byte("GET"), []byte("k")}, r, 20*time.Millisecond)
	s.afterCall(c, keys, [][]byte{[]byte("KEYS"), []byte("*")}, r, 7*time.Millisecond)
	s.afterCall(c, get, [][]byte{[]byte("GET"), []byte("k")}, r, time.Millisecond) // under both thresholds

	require.Len(t, s.slowEntries, 1, "only the GET took over 10 ms")
	e := s.slowEntries[0]
	assert.Equal(t, int64(20000), e.duration)
	assert.Equal(t, "worker", e.name)
	assert.Equal(t, "127.0.0.1:4242", e.peer)
	assert.Contains(t, logs.String(), "level=WARN msg=\"slow command\" cmd=get duration_us=20000")

	assert.Equal(t, int64(20), s.latEvents["fast-command"].max)
	assert.Equal(t, int64(7), s.latEvents["command"].max)
	assert.Equal(t, int64(3), get.stats.calls.Load()+keys.stats.calls.Load())
	report := s.latencyReport()
	assert.Contains(t, report, "1. command: 1 latency spikes (average 7ms, mean deviation 0ms, period 1.00 sec). Worst all time event 7ms.")
	assert.Contains(t, report, "2. fast-command: 1 latency spikes")
	assert.Contains(t, report, "- Check your Slow Log")
	assert.True(t, strings.HasPrefix(report, "Dave, I have observed latency spikes"))
}
