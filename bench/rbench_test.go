//go:build linux

package main

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func ms(v float64) time.Duration { return msDuration(v) }

func TestRBParseCSV(t *testing.T) {
	// Real redis-benchmark 7.0.15 --csv output for a custom command.
	b, err := os.ReadFile("testdata/redis-benchmark-7.0.csv")
	require.NoError(t, err)
	s, err := rbParse(string(b))
	require.NoError(t, err)
	assert.InDelta(t, 78125.00, s.OpsPerSec, 1e-9)
	assert.Equal(t, ms(0.071), s.P50)
	assert.Equal(t, ms(0.199), s.P99)
	assert.Equal(t, time.Duration(0), s.P999, "7.0's CSV has no p99.9 column")
}

func TestRBParseCSVColumnsByName(t *testing.T) {
	// Columns are found by header name, so a future version that adds or
	// reorders columns still parses; commas inside the quoted test name are
	// not separators.
	out := `"test","p99_latency_ms","rps","p50_latency_ms","p999_latency_ms"
"SETEX k 1800 a,b","2.5","123456.5","0.5","4.25"
`
	s, err := rbParse(out)
	require.NoError(t, err)
	assert.InDelta(t, 123456.5, s.OpsPerSec, 1e-9)
	assert.Equal(t, ms(0.5), s.P50)
	assert.Equal(t, ms(2.5), s.P99)
	assert.Equal(t, ms(4.25), s.P999)
}

func TestRBParseCSVErrors(t *testing.T) {
	_, err := rbParse("\"test\",\"rps\"\n")
	assert.Error(t, err, "header only")
	_, err = rbParse("\"test\",\"rps\"\n\"GET\",\"fast\"\n")
	assert.Error(t, err, "non-numeric rps")
	_, err = rbParse("\"test\",\"p50_latency_ms\"\n\"GET\",\"1\"\n")
	assert.Error(t, err, "no rps column")
}

func TestRBParseVerbose(t *testing.T) {
	// Real redis-benchmark 7.0.15 default output (with its \r progress
	// redraws) for GET at -P 16.
	b, err := os.ReadFile("testdata/redis-benchmark-7.0-verbose.txt")
	require.NoError(t, err)
	s, err := rbParse(string(b))
	require.NoError(t, err)
	assert.InDelta(t, 278222.22, s.OpsPerSec, 1e-9)
	assert.Equal(t, ms(0.359), s.P50)
	assert.Equal(t, ms(2.951), s.P99)
	// first percentile line at or above 99.9%: "100.000% <= 2.999"
	assert.Equal(t, ms(2.999), s.P999)
}

func TestRBParseVerboseP999FromDistribution(t *testing.T) {
	out := "\r====== GET ======\n" +
		"Latency by percentile distribution:\n" +
		"50.000% <= 0.319 milliseconds (cumulative count 10156)\n" +
		"99.805% <= 1.615 milliseconds (cumulative count 19961)\n" +
		"99.902% <= 1.791 milliseconds (cumulative count 19981)\n" +
		"99.951% <= 1.863 milliseconds (cumulative count 19991)\n" +
		"100.000% <= 2.391 milliseconds (cumulative count 20000)\n" +
		"\n" +
		"Cumulative distribution of latencies:\n" +
		"99.915% <= 1.807 milliseconds (cumulative count 19983)\n" +
		"\n" +
		"Summary:\n" +
		"  throughput summary: 77821.02 requests per second\n" +
		"  latency summary (msec):\n" +
		"          avg       min       p50       p95       p99       max\n" +
		"        0.383     0.088     0.319     0.783     1.119     2.391\n"
	s, err := rbParse(out)
	require.NoError(t, err)
	assert.InDelta(t, 77821.02, s.OpsPerSec, 1e-9)
	assert.Equal(t, ms(0.319), s.P50)
	assert.Equal(t, ms(1.119), s.P99)
	assert.Equal(t, ms(1.791), s.P999, "taken from the percentile section, not the cumulative one")
}

func TestRBParseNoResult(t *testing.T) {
	_, err := rbParse("Error from server: ERR unknown command 'FOOBAR'\n")
	assert.Error(t, err)
	_, err = rbParse("")
	assert.Error(t, err)
}
