package resp_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sessiond/internal/clocktest"
	"sessiond/internal/testserver"
	"sessiond/resp"
)

// latencyHistEntry is one command of a LATENCY HISTOGRAM reply.
type latencyHistEntry struct {
	name  string
	calls int64
	keys  []int64 // histogram_usec's keys, in order
}

// parseLatencyHistogram reads a LATENCY HISTOGRAM reply, requiring Redis's
// shape (maps in RESP3, flat arrays in RESP2, integer keys and counts) and
// a cumulative histogram: keys among Redis's buckets, counts growing up to
// the calls. Bucket counts are not returned: the two servers' latencies
// differ (TestLatencyHistogramBuckets checks them).
func parseLatencyHistogram(t *testing.T, v rv, resp3 bool) []latencyHistEntry {
	t.Helper()
	mapType := byte('*')
	if resp3 {
		mapType = '%'
	}
	require.Equal(t, mapType, v.typ, "%s", v)
	require.Zero(t, len(v.elems)%2)
	var out []latencyHistEntry
	for i := 0; i < len(v.elems); i += 2 {
		name, body := v.elems[i], v.elems[i+1]
		require.Equal(t, byte('$'), name.typ)
		require.Equal(t, mapType, body.typ)
		require.Len(t, body.elems, 4)
		require.Equal(t, "calls", body.elems[0].str)
		require.Equal(t, byte(':'), body.elems[1].typ)
		require.Equal(t, "histogram_usec", body.elems[2].str)
		h := body.elems[3]
		require.Equal(t, mapType, h.typ)
		e := latencyHistEntry{name: name.str, calls: mustInt(t, body.elems[1].str)}
		var last int64
		for j := 0; j < len(h.elems); j += 2 {
			require.Equal(t, byte(':'), h.elems[j].typ)
			require.Equal(t, byte(':'), h.elems[j+1].typ)
			k, n := mustInt(t, h.elems[j].str), mustInt(t, h.elems[j+1].str)
			require.Contains(t, resp.LatencyCDFKeys, k, "%s: bucket %d", e.name, k)
			if len(e.keys) > 0 {
				require.Greater(t, k, e.keys[len(e.keys)-1], e.name)
			}
			require.Greater(t, n, last, "%s: cumulative counts grow", e.name)
			e.keys, last = append(e.keys, k), n
		}
		require.Equal(t, e.calls, last, "%s: the last bucket counts every call", e.name)
		out = append(out, e)
	}
	return out
}

// namesAndCalls is what both servers' LATENCY HISTOGRAMs share.
func namesAndCalls(es []latencyHistEntry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.name + "=" + strconv.FormatInt(e.calls, 10)
	}
	return out
}

// latencyTraffic is the same commands for both servers: successes, errors
// while running (recorded), refusals before running (not recorded),
// subcommands and a transaction.
var latencyTraffic = [][]string{
	{"SET", "k", "v"}, {"GET", "k"}, {"GET", "missing"}, {"INCR", "k"}, {"INCR"}, {"SADD", "k", "m"},
	{"SADD", "s", "a", "b"}, {"NOSUCH"}, {"EXPIRE", "s", "100"}, {"CONFIG", "GET", "maxmemory"},
	{"CONFIG", "GET", "maxmemory"}, {"CLIENT", "GETNAME"}, {"ECHO", "x"}, {"PING"},
	{"MULTI"}, {"INCR", "n"}, {"SET", "k", "w"}, {"EXEC"},
}

// TestLatencyHistogramMatchesRedis runs the same commands on both servers
// and compares LATENCY HISTOGRAM: the commands listed and their calls, the
// reply's shape and Redis's bucket keys, in RESP2 and RESP3; unknown names,
// subcommands, containers and names given twice.
func TestLatencyHistogramMatchesRedis(t *testing.T) {
	srv := testserver.Start(t)
	red := testserver.StartRedis(t)
	for _, resp3 := range []bool{false, true} {
		name := "resp2"
		if resp3 {
			name = "resp3"
		}
		t.Run(name, func(t *testing.T) {
			p := newPair(t, srv.Addr, red.Addr)
			if resp3 {
				p.do(t, "HELLO", "3") // the reply names each server's version: not compared
			}
			p.same(t, "CONFIG", "RESETSTAT")
			// Only CONFIG RESETSTAT has latencies: nothing to list.
			p.same(t, "LATENCY", "HISTOGRAM", "set")
			p.same(t, "LATENCY", "HISTOGRAM", "nosuch", "get|x", "", "config|get|x", "|get", "config|")
			for _, c := range latencyTraffic {
				p.do(t, c...)
			}

			// Every command: Redis lists them in its dict's order.
			a, b := p.do(t, "LATENCY", "HISTOGRAM")
			sd, rd := parseLatencyHistogram(t, a, resp3), parseLatencyHistogram(t, b, resp3)
			byName := func(x, y latencyHistEntry) int { return strings.Compare(x.name, y.name) }
			slices.SortFunc(sd, byName)
			slices.SortFunc(rd, byName)
			assert.Equal(t, namesAndCalls(rd), namesAndCalls(sd))
			assert.Contains(t, namesAndCalls(rd), "config|get=2")

			// Named: in the order named, a name twice listed twice,
			// unknown names skipped, any case.
			a, b = p.do(t, "LATENCY", "HISTOGRAM", "set", "GET", "get|x", "nosuch", "set", "Config|Get", "incr", "exec", "flushall")
			sd, rd = parseLatencyHistogram(t, a, resp3), parseLatencyHistogram(t, b, resp3)
			assert.Equal(t, []string{"set=2", "get=2", "set=2", "config|get=2", "incr=2", "exec=1"}, namesAndCalls(rd))
			assert.Equal(t, namesAndCalls(rd), namesAndCalls(sd))

			// A container: its subcommands with latencies, in Redis's
			// dict order.
			a, b = p.do(t, "LATENCY", "HISTOGRAM", "config")
			sd, rd = parseLatencyHistogram(t, a, resp3), parseLatencyHistogram(t, b, resp3)
			slices.SortFunc(sd, byName)
			slices.SortFunc(rd, byName)
			assert.Equal(t, []string{"config|get=2", "config|resetstat=1"}, namesAndCalls(rd))
			assert.Equal(t, namesAndCalls(rd), namesAndCalls(sd))
		})
	}
}

// TestLatencyGraphMatchesRedis gives sessiond the samples DEBUG SLEEP left
// in Redis's latency monitor, at the same times (sessiond's clock is a
// fake), and compares LATENCY GRAPH, LATEST and HISTORY byte for byte, in
// RESP2 and RESP3, with the graph drawn in the same second on both. The
// errors: an event without samples, arity.
func TestLatencyGraphMatchesRedis(t *testing.T) {
	clk := clocktest.NewFake(time.Unix(1_700_000_000, 0))
	srv := testserver.Start(t, testserver.WithClock(clk))
	red := testserver.StartRedis(t, "--enable-debug-command", "yes")
	p := newPair(t, srv.Addr, red.Addr)
	for _, c := range [][]string{{"LATENCY", "GRAPH", "command"}, {"LATENCY", "GRAPH", "no\r\nsuch"},
		{"LATENCY", "GRAPH", "a\x00b"}, {"LATENCY", "GRAPH"}, {"LATENCY", "GRAPH", "command", "x"}} {
		p.same(t, c...)
	}

	// Three "command" samples, in three seconds: Redis keeps one a second.
	r := p.r
	redisTime := func() int64 {
		v, err := r.do("TIME")
		require.NoError(t, err)
		return mustInt(t, v.elems[0].str)
	}
	_, err := r.do("CONFIG", "SET", "latency-monitor-threshold", "1")
	require.NoError(t, err)
	for i, sleep := range []string{"0.002", "0.009", "0.005"} {
		if i > 0 {
			for sec := redisTime(); redisTime() == sec; {
				time.Sleep(20 * time.Millisecond)
			}
		}
		v, err := r.do("DEBUG", "SLEEP", sleep)
		require.NoError(t, err)
		require.Equal(t, "OK", v.str)
	}
	_, err = r.do("CONFIG", "SET", "latency-monitor-threshold", "0")
	require.NoError(t, err)
	// Replay every event: on a busy machine a CONFIG SET or TIME may have
	// taken a millisecond too.
	latest, err := r.do("LATENCY", "LATEST")
	require.NoError(t, err)
	for _, ev := range latest.elems {
		event := ev.elems[0].str
		v, err := r.do("LATENCY", "HISTORY", event)
		require.NoError(t, err)
		if event == "command" {
			require.GreaterOrEqual(t, len(v.elems), 3, "%s", v)
		}
		for _, sm := range v.elems {
			clk.Set(time.Unix(mustInt(t, sm.elems[0].str), 0))
			resp.AddLatencySampleForTest(srv.Server, event, mustInt(t, sm.elems[1].str))
		}
		p.same(t, "LATENCY", "HISTORY", event)
	}
	if len(latest.elems) == 1 { // sessiond lists events by name, Redis in its dict's order
		p.same(t, "LATENCY", "LATEST")
	}

	for _, resp3 := range []bool{false, true} {
		if resp3 {
			p.do(t, "HELLO", "3")
		}
		for attempt := 0; ; attempt++ {
			require.Less(t, attempt, 5, "Redis's second kept changing during LATENCY GRAPH")
			before := redisTime()
			b, err := r.do("LATENCY", "GRAPH", "command")
			require.NoError(t, err)
			if redisTime() != before {
				continue
			}
			clk.Set(time.Unix(before, 0))
			a, err := p.s.do("LATENCY", "GRAPH", "command")
			require.NoError(t, err)
			assert.Equal(t, string(b.raw), string(a.raw), "resp3 %v", resp3)
			break
		}
		p.same(t, "LATENCY", "GRAPH", "nosuch")
	}
}
