package resp_test

import (
	"bufio"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sessiond/config"
	"sessiond/internal/testserver"
	"sessiond/keyspace"
)

// both runs the same commands on a connection to each server.
type pair struct{ s, r *rconn }

func newPair(t *testing.T, sAddr, rAddr string) pair {
	return pair{dialRaw(t, sAddr), dialRaw(t, rAddr)}
}

func (p pair) do(t *testing.T, args ...string) (rv, rv) {
	t.Helper()
	a, err := p.s.do(args...)
	require.NoError(t, err)
	b, err := p.r.do(args...)
	require.NoError(t, err)
	return a, b
}

// same runs args on both and requires identical replies.
func (p pair) same(t *testing.T, args ...string) rv {
	t.Helper()
	a, b := p.do(t, args...)
	require.Equal(t, string(b.raw), string(a.raw), "%q", args)
	return a
}

// infoFields parses INFO text into section -> ordered "field:value" lines.
func infoFields(text string) map[string]map[string]string {
	out := map[string]map[string]string{}
	var cur map[string]string
	for _, line := range strings.Split(text, "\r\n") {
		switch {
		case strings.HasPrefix(line, "# "):
			cur = map[string]string{}
			out[line[2:]] = cur
		case line != "" && cur != nil:
			k, v, _ := strings.Cut(line, ":")
			cur[k] = v
		}
	}
	return out
}

// opsTraffic is the same known traffic for both servers: successes,
// failures while running and rejections before running.
var opsTraffic = [][]string{
	{"SET", "k", "v"}, {"GET", "k"}, {"GET", "missing"}, {"INCR", "k"}, {"INCR"},
	{"SADD", "k", "m"}, {"SADD", "s", "a", "b"}, {"NOSUCH"}, {"EXPIRE", "s", "100"},
}

// TestInfoMatchesRedis compares INFO's sections and field names with
// redis-server 7.0.15 after the same traffic, and the commandstats,
// errorstats and latencystats entries it produced.
func TestInfoMatchesRedis(t *testing.T) {
	srv := testserver.Start(t)
	red := testserver.StartRedis(t)
	p := newPair(t, srv.Addr, red.Addr)
	for _, c := range opsTraffic {
		p.do(t, c...)
	}
	a, b := p.do(t, "INFO", "everything")
	got, want := infoFields(a.str), infoFields(b.str)
	// StartRedis's readiness probe sent PING and INFO to Redis only.
	for _, k := range []string{"cmdstat_ping", "cmdstat_info"} {
		delete(want["Commandstats"], k)
		delete(want["Latencystats"], strings.Replace(k, "cmdstat_", "latency_percentiles_usec_", 1))
	}
	var gotOrder, wantOrder []string
	for _, line := range strings.Split(a.str, "\r\n") {
		if strings.HasPrefix(line, "# ") {
			gotOrder = append(gotOrder, line[2:])
		}
	}
	for _, line := range strings.Split(b.str, "\r\n") {
		if strings.HasPrefix(line, "# ") {
			wantOrder = append(wantOrder, line[2:])
		}
	}
	require.Equal(t, wantOrder, gotOrder, "INFO everything sections")
	for sec, fields := range want {
		for k := range fields {
			assert.Contains(t, got[sec], k, "section %s", sec)
		}
	}
	for _, sec := range []string{"Commandstats", "Errorstats"} {
		for k, v := range want[sec] {
			// usec and usec_per_call are timings; calls, rejected and failed must match.
			norm := regexp.MustCompile(`usec=\d+,usec_per_call=[\d.]+,`)
			assert.Equal(t, norm.ReplaceAllString(v, ""), norm.ReplaceAllString(got[sec][k], ""), "%s %s", sec, k)
		}
		assert.Len(t, got[sec], len(want[sec]), "%s: %v", sec, got[sec])
	}
	pct := regexp.MustCompile(`^p50=\d+\.\d{3},p99=\d+\.\d{3},p99\.9=\d+\.\d{3}$`)
	for k := range want["Latencystats"] {
		assert.Regexp(t, pct, got["Latencystats"][k], k)
	}
	assert.Len(t, got["Latencystats"], len(want["Latencystats"]))
	assert.Equal(t, "master", got["Replication"]["role"])
	assert.Equal(t, "0", got["Replication"]["connected_slaves"])
	assert.Len(t, got["Replication"]["master_replid"], 40)
	// avg_ttl is Redis's estimate, 0 until its expiry cycle samples the
	// keys: TestInfoAvgTTLMatchesRedis compares it.
	avg := regexp.MustCompile(`,avg_ttl=\d+$`)
	require.Len(t, got["Keyspace"], len(want["Keyspace"]))
	for db, v := range want["Keyspace"] {
		assert.Equal(t, avg.ReplaceAllString(v, ""), avg.ReplaceAllString(got["Keyspace"][db], ""), db)
		assert.Regexp(t, avg, got["Keyspace"][db], db)
	}

	// Section selection: default, all, several names, case, unknown.
	for _, args := range [][]string{{"INFO"}, {"INFO", "default"}, {"INFO", "all"}, {"INFO", "commandstats", "SERVER"},
		{"INFO", "default", "latencystats"}, {"INFO", "nosuch"}, {"INFO", "CPU", "cpu"}, {"INFO", "everything"}} {
		a, b := p.do(t, args...)
		var gs, ws []string
		for _, line := range strings.Split(a.str, "\r\n") {
			if strings.HasPrefix(line, "# ") {
				gs = append(gs, line)
			}
		}
		for _, line := range strings.Split(b.str, "\r\n") {
			if strings.HasPrefix(line, "# ") {
				ws = append(ws, line)
			}
		}
		assert.Equal(t, ws, gs, "%q", args)
	}
	// CONFIG RESETSTAT clears command and error stats.
	p.same(t, "CONFIG", "RESETSTAT")
	a, b = p.do(t, "INFO", "commandstats", "errorstats")
	norm := regexp.MustCompile(`usec=\d+,usec_per_call=[\d.]+,`)
	assert.Equal(t, norm.ReplaceAllString(b.str, ""), norm.ReplaceAllString(a.str, ""))
}

// TestSlowlogMatchesRedis compares SLOWLOG entries (but for ids, times,
// durations and ports) and its errors with Redis.
func TestSlowlogMatchesRedis(t *testing.T) {
	srv := testserver.Start(t)
	red := testserver.StartRedis(t)
	p := newPair(t, srv.Addr, red.Addr)
	a, b := p.do(t, "SLOWLOG", "HELP")
	// sessiond answers as Redis 7.2 ("Print this help."), 7.0 says "Prints".
	require.Equal(t, len(b.elems), len(a.elems))
	for i := range len(b.elems) - 1 {
		assert.Equal(t, b.elems[i].str, a.elems[i].str)
	}
	p.same(t, "SLOWLOG", "LEN")
	p.same(t, "CONFIG", "SET", "slowlog-log-slower-than", "0")
	p.same(t, "CLIENT", "SETNAME", "slowpoke")
	long := strings.Repeat("x", 200)
	p.same(t, "SET", "k", long)
	many := []string{"SADD", "s"}
	for i := range 40 {
		many = append(many, strings.Repeat("m", i+1))
	}
	p.same(t, many...)
	p.same(t, "AUTH", "secret")
	p.do(t, "HELLO", "2", "AUTH", "default", "pw") // replies differ in version and id
	p.same(t, "SLOWLOG", "LEN")
	a, b = p.do(t, "SLOWLOG", "GET", "-1")
	require.Equal(t, len(b.elems), len(a.elems))
	for i := range b.elems {
		ge, we := a.elems[i], b.elems[i]
		require.Len(t, ge.elems, 6)
		assert.Equal(t, string(we.elems[3].raw), string(ge.elems[3].raw), "entry %d args", i)
		assert.Equal(t, we.elems[5].str, ge.elems[5].str, "entry %d name", i)
		assert.Equal(t, p.s.c.LocalAddr().String(), ge.elems[4].str)
		assert.Equal(t, byte(':'), ge.elems[0].typ)
		assert.Equal(t, byte(':'), ge.elems[2].typ)
		assert.InDelta(t, time.Now().Unix(), mustInt(t, ge.elems[1].str), 5)
	}
	// Newest first, ids descending.
	assert.Greater(t, mustInt(t, a.elems[0].elems[0].str), mustInt(t, a.elems[1].elems[0].str))
	a, b = p.do(t, "SLOWLOG", "GET")
	assert.Equal(t, len(b.elems), len(a.elems))
	a, b = p.do(t, "SLOWLOG", "GET", "1")
	assert.Equal(t, len(b.elems), len(a.elems))
	for _, bad := range [][]string{{"SLOWLOG", "GET", "-2"}, {"SLOWLOG", "GET", "x"}, {"SLOWLOG", "GET", "1", "2"},
		{"SLOWLOG", "NOPE"}, {"SLOWLOG"}, {"SLOWLOG", "LEN", "x"}, {"SLOWLOG", "RESET", "x"}} {
		p.same(t, bad...)
	}
	p.same(t, "SLOWLOG", "RESET")
	a = p.same(t, "SLOWLOG", "LEN")
	assert.Equal(t, ":1\r\n", string(a.raw), "RESET itself is logged after it ran")
	// slowlog-max-len bounds it; -1 disables it.
	p.same(t, "CONFIG", "SET", "slowlog-max-len", "3")
	for range 5 {
		p.same(t, "GET", "k2")
	}
	p.same(t, "SLOWLOG", "LEN")
	p.same(t, "CONFIG", "SET", "slowlog-log-slower-than", "-1")
	p.same(t, "SLOWLOG", "RESET")
	p.same(t, "GET", "k")
	p.same(t, "SLOWLOG", "LEN")
	// One name per call: Redis lists a pattern's matches in its dict's order.
	p.same(t, "CONFIG", "GET", "slowlog-max-len")
	p.same(t, "CONFIG", "GET", "slowlog-log-slower-than")
}

func mustInt(t *testing.T, s string) int64 {
	t.Helper()
	n, ok := parseIntStr(s)
	require.True(t, ok, s)
	return n
}

func parseIntStr(s string) (int64, bool) {
	var n int64
	if s == "" {
		return 0, false
	}
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	for _, ch := range s {
		if ch < '0' || ch > '9' {
			return 0, false
		}
		n = n*10 + int64(ch-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// monitorLines reads n monitor lines, normalising the timestamp and the
// client's port (a script's commands come from "lua").
func monitorLines(t *testing.T, br *bufio.Reader, n int) []string {
	t.Helper()
	ts := regexp.MustCompile(`^\+\d{10}\.\d{6} \[(\d+) (?:127\.0\.0\.1:\d+|(lua))\] `)
	var out []string
	for range n {
		line, err := br.ReadString('\n')
		require.NoError(t, err)
		m := ts.FindStringSubmatch(line)
		require.NotNil(t, m, line)
		source := "ADDR"
		if m[2] != "" {
			source = m[2]
		}
		out = append(out, "["+m[1]+" "+source+"] "+line[len(m[0]):])
	}
	return out
}

// monitorPair starts sessiond and redis-server, puts a MONITOR client on
// each (ms, mr), and returns a pair of clients to send commands with.
func monitorPair(t *testing.T) (ms, mr *rconn, p pair) {
	t.Helper()
	srv := testserver.Start(t)
	red := testserver.StartRedis(t)
	ms, mr = dialRaw(t, srv.Addr), dialRaw(t, red.Addr)
	for _, m := range []*rconn{ms, mr} {
		v, err := m.do("MONITOR")
		require.NoError(t, err)
		require.Equal(t, "+OK\r\n", string(v.raw))
	}
	return ms, mr, newPair(t, srv.Addr, red.Addr)
}

// TestMonitorMatchesRedis compares what a MONITOR client receives for the
// same commands, Redis's quoting and redaction included.
func TestMonitorMatchesRedis(t *testing.T) {
	ms, mr, p := monitorPair(t)
	cmds := [][]string{
		{"SET", "k y", "a\x01\"b\n\\\t\r\a\b\xff"}, {"get", "k y"}, {"AUTH", "pw"}, {"AUTH", "u", "pw"},
		{"HELLO", "2", "AUTH", "default", "pw", "SETNAME", "n"}, {"SELECT", "3"}, {"SADD", "s", "1"},
		{"MULTI"}, {"SET", "a", "1"}, {"GET", "a"}, {"EXEC"}, {"CONFIG", "SET", "maxclients", "100"}, {"SELECT", "0"},
		{"WRONGCMD"}, {"GET"}, {"INCR", "s"}, {"PING"},
	}
	for _, c := range cmds {
		p.do(t, c...)
	}
	// admin commands (CONFIG) and rejected ones are not shown
	const n = 14
	got, want := monitorLines(t, ms.br, n), monitorLines(t, mr.br, n)
	assert.Equal(t, want, got)

	// A second monitor also sees commands; RESET leaves monitor mode.
	v, err := ms.do("RESET")
	require.NoError(t, err)
	// The RESET reply may follow monitor lines still in flight: none are expected here.
	assert.Equal(t, "+RESET\r\n", string(v.raw))
	p.do(t, "SET", "after", "reset")
	v, err = ms.do("GET", "after")
	require.NoError(t, err)
	assert.Equal(t, "$5\r\nreset\r\n", string(v.raw), "a reset monitor gets no more lines, and replies")
	v, err = ms.do("QUIT")
	require.NoError(t, err)
	assert.Equal(t, "+OK\r\n", string(v.raw))
	ms.c.SetReadDeadline(time.Now().Add(2 * time.Second))
	_, err = ms.br.ReadByte()
	assert.ErrorIs(t, err, io.EOF)
}

// TestMonitorShowsScriptsAsRedis: a script is shown as it starts, even
// one that fails, then each command it runs from "lua" in the database it
// runs in; inside EXEC the script's line comes when EXEC runs it.
func TestMonitorShowsScriptsAsRedis(t *testing.T) {
	ms, mr, p := monitorPair(t)
	for _, c := range [][]string{
		{"EVAL", "redis.call('set','x','1'); return redis.call('get','x')", "0"},
		{"EVAL", "syntax error here", "0"},
		{"EVALSHA", strings.Repeat("0", 40), "0"},
		{"MULTI"}, {"EVAL", "return redis.call('incr','n')", "0"}, {"EXEC"},
		{"EVAL", "redis.call('select','2'); return redis.call('set','z','1')", "0"},
	} {
		p.do(t, c...)
	}
	const n = 12
	assert.Equal(t, monitorLines(t, mr.br, n), monitorLines(t, ms.br, n))
}

// TestMonitorManyWriters: monitor lines come from many connections at once
// without interleaving bytes (run with -race).
func TestMonitorManyWriters(t *testing.T) {
	srv := testserver.Start(t)
	m := dialRaw(t, srv.Addr)
	v, err := m.do("MONITOR")
	require.NoError(t, err)
	require.Equal(t, "+OK\r\n", string(v.raw))
	const writers, each = 8, 50
	done := make(chan struct{})
	for w := range writers {
		go func() {
			defer func() { done <- struct{}{} }()
			c := dialRaw(t, srv.Addr)
			for i := range each {
				if _, err := c.do("SET", "key"+string(rune('a'+w)), strings.Repeat("v", i)); err != nil {
					return
				}
			}
		}()
	}
	for range writers {
		<-done
	}
	lines := monitorLines(t, m.br, writers*each)
	for _, l := range lines {
		assert.Regexp(t, `^\[0 ADDR\] "SET" "key[a-h]" "v*"\r\n$`, l)
	}
	// CLIENT LIST shows the monitor with flags=O; INFO counts it.
	c := dialRaw(t, srv.Addr)
	v, err = c.do("CLIENT", "LIST")
	require.NoError(t, err)
	assert.Contains(t, v.str, "flags=O")
	assert.Contains(t, v.str, "cmd=monitor")
	// Closing the server closes the monitor.
	require.NoError(t, srv.Server.Close())
	m.c.SetReadDeadline(time.Now().Add(2 * time.Second))
	_, err = io.ReadAll(m.br)
	assert.NoError(t, err, "the monitor connection ends with EOF")
}

// TestClientPause: WRITE pauses only writes, ALL pauses everything, the
// pause ends at its deadline or with UNPAUSE, and a paused command does
// not hold a gate shard (a read-only EXEC still runs).
func TestClientPause(t *testing.T) {
	srv := testserver.Start(t)
	red := testserver.StartRedis(t)
	p := newPair(t, srv.Addr, red.Addr)
	for _, bad := range [][]string{{"CLIENT", "PAUSE", "-1"}, {"CLIENT", "PAUSE", "x"}, {"CLIENT", "PAUSE", "10", "foo"},
		{"CLIENT", "PAUSE", "1", "2", "3"}, {"CLIENT", "PAUSE"}, {"CLIENT", "UNPAUSE", "x"}, {"CLIENT", "NO-EVICT", "maybe"}} {
		p.same(t, bad...)
	}
	p.same(t, "CLIENT", "NO-EVICT", "on")
	p.same(t, "CLIENT", "UNPAUSE")

	admin := dialRaw(t, srv.Addr)
	writer := dialRaw(t, srv.Addr)
	reader := dialRaw(t, srv.Addr)
	_, err := writer.do("SET", "k", "1")
	require.NoError(t, err)

	v, err := admin.do("CLIENT", "PAUSE", "10000", "WRITE")
	require.NoError(t, err)
	require.Equal(t, "+OK\r\n", string(v.raw))
	setDone := make(chan rv, 1)
	go func() {
		v, _ := writer.do("SET", "k", "2")
		setDone <- v
	}()
	start := time.Now()
	v, err = reader.do("GET", "k")
	require.NoError(t, err)
	assert.Equal(t, "$1\r\n1\r\n", string(v.raw))
	// A read-only transaction takes the whole gate: it would deadlock if the
	// paused SET held its shard.
	for _, c := range []string{"MULTI", "GET", "EXEC"} {
		args := []string{c}
		if c == "GET" {
			args = append(args, "k")
		}
		_, err = reader.do(args...)
		require.NoError(t, err)
	}
	assert.Less(t, time.Since(start), 2*time.Second, "reads run during a WRITE pause")
	select {
	case <-setDone:
		t.Fatal("a write ran during a WRITE pause")
	case <-time.After(100 * time.Millisecond):
	}
	_, err = admin.do("CLIENT", "UNPAUSE")
	require.NoError(t, err)
	select {
	case v := <-setDone:
		assert.Equal(t, "+OK\r\n", string(v.raw))
	case <-time.After(5 * time.Second):
		t.Fatal("UNPAUSE did not release the write")
	}

	// ALL: reads wait too, until the deadline.
	_, err = admin.do("CLIENT", "PAUSE", "300", "ALL")
	require.NoError(t, err)
	start = time.Now()
	v, err = reader.do("GET", "k")
	require.NoError(t, err)
	assert.Equal(t, "$1\r\n2\r\n", string(v.raw))
	assert.GreaterOrEqual(t, time.Since(start), 250*time.Millisecond, "GET waited for the ALL pause")
}

// TestLatencyCommands: the replies' shapes and errors, against Redis.
func TestLatencyCommands(t *testing.T) {
	srv := testserver.Start(t)
	red := testserver.StartRedis(t)
	p := newPair(t, srv.Addr, red.Addr)
	for _, c := range [][]string{{"LATENCY", "HELP"}, {"LATENCY", "LATEST"}, {"LATENCY", "HISTORY", "command"},
		{"LATENCY", "RESET"}, {"LATENCY", "RESET", "command", "x"}, {"LATENCY", "DOCTOR"}, {"LATENCY", "NOPE"},
		{"LATENCY", "HISTORY"}, {"LATENCY"}, {"CONFIG", "GET", "latency-monitor-threshold"},
		{"CONFIG", "SET", "latency-monitor-threshold", "-1"}} {
		a, b := p.do(t, c...)
		if len(c) > 1 && c[1] == "HELP" {
			// The same lines, GRAPH and HISTOGRAM included; sessiond ends
			// with 7.2's "Print this help." (7.0: "Prints").
			require.Equal(t, len(b.elems), len(a.elems))
			for i := range len(b.elems) - 1 {
				assert.Equal(t, b.elems[i].str, a.elems[i].str)
			}
			continue
		}
		if c[0] == "CONFIG" && b.typ == '-' { // CONFIG SET's range wording differs; both refuse
			assert.Equal(t, byte('-'), a.typ, "%q", c)
			continue
		}
		assert.Equal(t, string(b.raw), string(a.raw), "%q", c)
	}
	p.same(t, "CONFIG", "SET", "latency-monitor-threshold", "100")
	p.same(t, "LATENCY", "DOCTOR")

	// Samples: the server records them from its commands (see the internal
	// test); here an event recorded by the snapshot path.
	srv.Server.AddLatencySample("snapshot", 150*time.Millisecond)
	srv.Server.AddLatencySample("snapshot", 120*time.Millisecond) // same second: the higher one stays
	srv.Server.AddLatencySample("ignored", 10*time.Millisecond)   // under the threshold
	c := dialRaw(t, srv.Addr)
	v, err := c.do("LATENCY", "LATEST")
	require.NoError(t, err)
	require.Len(t, v.elems, 1)
	e := v.elems[0].elems
	assert.Equal(t, "snapshot", e[0].str)
	assert.InDelta(t, time.Now().Unix(), mustInt(t, e[1].str), 5)
	assert.Equal(t, "150", e[2].str)
	assert.Equal(t, "150", e[3].str)
	v, err = c.do("LATENCY", "HISTORY", "snapshot")
	require.NoError(t, err)
	require.Len(t, v.elems, 1)
	assert.Equal(t, "150", v.elems[0].elems[1].str)
	v, err = c.do("LATENCY", "DOCTOR")
	require.NoError(t, err)
	assert.Contains(t, v.str, "1. snapshot: 1 latency spikes (average 150ms, mean deviation 0ms, period 1.00 sec). Worst all time event 150ms.")
	v, err = c.do("LATENCY", "RESET", "snapshot")
	require.NoError(t, err)
	assert.Equal(t, ":1\r\n", string(v.raw))
}

// TestConfigRewrite rewrites the config file keeping comments and unknown
// lines; without a file it fails with Redis's error.
func TestConfigRewrite(t *testing.T) {
	red := testserver.StartRedis(t)
	plain := testserver.Start(t)
	p := newPair(t, plain.Addr, red.Addr)
	p.same(t, "CONFIG", "REWRITE")
	p.same(t, "CONFIG", "REWRITE", "x")

	dir := t.TempDir()
	file := filepath.Join(dir, "sessiond.conf")
	orig := "# my cache\nmaxclients 50\n\n# keep this comment\ntimeout 10\nmaxclients 60\n"
	require.NoError(t, os.WriteFile(file, []byte(orig), 0o600))
	srv := testserver.Start(t, func(c *config.Config, _ *keyspace.Options) {
		f, err := os.Open(file)
		if err != nil {
			panic(err)
		}
		defer f.Close()
		if err := c.LoadFile(file, f); err != nil {
			panic(err)
		}
	})
	c := dialRaw(t, srv.Addr)
	for _, cmd := range [][]string{{"CONFIG", "SET", "maxclients", "70"}, {"CONFIG", "SET", "slowlog-max-len", "5"},
		{"CONFIG", "SET", "timeout", "0"}, {"CONFIG", "REWRITE"}} {
		v, err := c.do(cmd...)
		require.NoError(t, err)
		require.Equal(t, "+OK\r\n", string(v.raw), "%q", cmd)
	}
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	text := string(data)
	assert.True(t, strings.HasPrefix(text, "# my cache\nmaxclients 70\n\n# keep this comment\ntimeout 0\n"), text)
	assert.NotContains(t, text, "maxclients 60")
	assert.Contains(t, text, "# Generated by CONFIG REWRITE\n")
	assert.Contains(t, text, "slowlog-max-len 5\n")
	assert.Contains(t, text, "dir "+srv.Config.Get("dir")+"\n")
	st, err := os.Stat(file)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), "the file keeps its mode")
}

// TestInfoAvgTTLMatchesRedis: INFO keyspace's avg_ttl is the mean TTL in
// milliseconds of the keys that have one. Redis estimates it from the keys
// its expiry cycle samples; with every TTL the same the estimate is exact,
// so both report the same figure, give or take the time that passes. With
// no deadline left both report 0 (Redis at its next cycle).
func TestInfoAvgTTLMatchesRedis(t *testing.T) {
	srv := testserver.Start(t)
	red := testserver.StartRedis(t)
	p := newPair(t, srv.Addr, red.Addr)
	for _, k := range []string{"a", "b", "c"} {
		p.same(t, "SET", k, "v", "EX", "100")
	}
	p.same(t, "SET", "d", "v")
	avgTTL := func(c *rconn) (int, bool) {
		v, err := c.do("INFO", "keyspace")
		require.NoError(t, err)
		line := infoFields(string(v.raw))["Keyspace"]["db0"]
		if line == "" {
			return 0, false
		}
		_, ttl, ok := strings.Cut(line, ",avg_ttl=")
		require.True(t, ok, line)
		n, err := strconv.Atoi(ttl)
		require.NoError(t, err, line)
		return n, true
	}
	for name, c := range map[string]*rconn{"sessiond": p.s, "redis": p.r} {
		var ttl int
		require.Eventually(t, func() bool { ttl, _ = avgTTL(c); return ttl != 0 }, 3*time.Second, 20*time.Millisecond,
			"%s: avg_ttl stays 0", name) // Redis's first sample comes with its expiry cycle
		assert.InDelta(t, 98_500, ttl, 1_500, "%s: avg_ttl", name)
	}
	for _, k := range []string{"a", "b", "c"} {
		p.same(t, "PERSIST", k)
	}
	for name, c := range map[string]*rconn{"sessiond": p.s, "redis": p.r} {
		require.Eventually(t, func() bool { ttl, ok := avgTTL(c); return ok && ttl == 0 }, 3*time.Second, 20*time.Millisecond,
			"%s: avg_ttl with no deadline left", name)
	}
}

// TestMetrics reads the Prometheus metrics after known traffic, and
// /healthz and /readyz (503 while loading).
func TestMetrics(t *testing.T) {
	srv := testserver.Start(t)
	h := srv.Server.MetricsHandler()
	c := dialRaw(t, srv.Addr)
	for _, cmd := range opsTraffic {
		_, err := c.do(cmd...)
		require.NoError(t, err)
	}
	get := func(path string) (int, string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec.Code, rec.Body.String()
	}
	code, body := get("/metrics")
	require.Equal(t, http.StatusOK, code)
	for _, want := range []string{
		`sessiond_commands_total{cmd="get"} 2`,
		`sessiond_commands_total{cmd="set"} 1`,
		`sessiond_commands_total{cmd="incr"} 1`,
		`sessiond_command_errors_total{cmd="incr"} 2`, // one failed, one rejected (arity)
		`sessiond_command_errors_total{cmd="sadd"} 1`,
		`sessiond_command_errors_total{cmd="get"} 0`,
		`sessiond_command_duration_seconds_count{cmd="get"} 2`,
		`sessiond_command_duration_seconds_bucket{cmd="get",le="+Inf"} 2`,
		`sessiond_error_replies_total{prefix="ERR"} 3`,
		`sessiond_error_replies_total{prefix="WRONGTYPE"} 1`,
		`sessiond_connected_clients 1`,
		`sessiond_keys{db="0"} 2`,
		`sessiond_expiring_keys{db="0"} 1`,
		`sessiond_avg_ttl_seconds{db="1"} 0`,
		`sessiond_keys{db="1"} 0`,
		`sessiond_expired_keys_total 0`,
		`sessiond_evicted_keys_total 0`,
		`sessiond_keyspace_hits_total 1`,
		`sessiond_loading 0`,
		"sessiond_used_memory_bytes ",
		"sessiond_used_memory_rss_bytes ",
		"go_gc_duration_seconds",
		"process_resident_memory_bytes",
	} {
		assert.Contains(t, body, want)
	}
	assert.Regexp(t, `\nsessiond_avg_ttl_seconds\{db="0"\} (99\.\d+|100)\n`, body, "EXPIRE s 100, a moment ago")
	code, body = get("/healthz")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "ok\n", body)
	code, _ = get("/readyz")
	assert.Equal(t, http.StatusOK, code)
	srv.Server.SetLoading(true)
	code, _ = get("/readyz")
	assert.Equal(t, http.StatusServiceUnavailable, code)
	code, _ = get("/healthz")
	assert.Equal(t, http.StatusOK, code, "alive while loading")
	_, body = get("/metrics")
	assert.Contains(t, body, "sessiond_loading 1")
	srv.Server.SetLoading(false)
	code, _ = get("/readyz")
	assert.Equal(t, http.StatusOK, code)
}

// TestShutdownAndSaveRulesMatchRedis: SHUTDOWN's option errors, ABORT with
// no shutdown in progress, and SAVE and SHUTDOWN refused inside MULTI
// (Redis's no_multi flag; they used to run at once there, and SHUTDOWN
// NOSAVE inside MULTI stopped the server). None of these shuts a server
// down: each pair of servers is still there at the end.
func TestShutdownAndSaveRulesMatchRedis(t *testing.T) {
	p := newPair(t, testserver.Start(t).Addr, testserver.StartRedis(t).Addr)
	for _, args := range []string{"SHUTDOWN ABORT", "SHUTDOWN NOSAVE SAVE", "SHUTDOWN ABORT NOW", "SHUTDOWN SAVE ABORT", "SHUTDOWN LATER"} {
		v := p.same(t, strings.Fields(args)...)
		require.True(t, v.isErr(), "%s: %s", args, v)
	}
	p.same(t, "SET", "k", "v")
	p.same(t, "MULTI")
	p.same(t, "SAVE")
	p.same(t, "SHUTDOWN", "NOSAVE")
	p.same(t, "SET", "k", "w")
	v := p.same(t, "EXEC")
	require.Equal(t, "-EXECABORT Transaction discarded because of previous errors.\r\n", string(v.raw))
	v = p.same(t, "GET", "k")
	require.Equal(t, "$1\r\nv\r\n", string(v.raw), "the transaction did not run")
	noMulti := func(c *rconn, name string) bool {
		v, err := c.do("COMMAND", "INFO", name)
		require.NoError(t, err)
		return strings.Contains(string(v.raw), "+no_multi\r\n")
	}
	for _, name := range []string{"save", "shutdown", "multi", "exec", "discard", "watch", "quit", "reset", "get"} {
		assert.Equal(t, noMulti(p.r, name), noMulti(p.s, name), "%s's no_multi flag", name)
	}
}

// TestProtectedConfigsMatchRedis: CONFIG SET refuses dir and dbfilename
// (they let a client write the snapshot anywhere) unless
// enable-protected-configs is yes, or local for a loopback client, as Redis
// 7 does; that parameter itself is set at start only.
func TestProtectedConfigsMatchRedis(t *testing.T) {
	p := newPair(t, testserver.Start(t).Addr, testserver.StartRedis(t).Addr)
	for _, kv := range [][2]string{{"dir", t.TempDir()}, {"dbfilename", "other.rdb"}} {
		v := p.same(t, "CONFIG", "SET", kv[0], kv[1])
		require.Equal(t, "-ERR CONFIG SET failed (possibly related to argument '"+kv[0]+"') - can't set protected config\r\n", string(v.raw))
	}
	p.same(t, "CONFIG", "GET", "enable-protected-configs")
	v, err := p.s.do("CONFIG", "SET", "enable-protected-configs", "yes")
	require.NoError(t, err)
	require.True(t, v.isErr(), "set at start only: %s", v)

	for _, mode := range []string{"yes", "local"} { // the test's clients are on the loopback
		s := dialRaw(t, testserver.Start(t, testserver.WithConfig("enable-protected-configs", mode)).Addr)
		v, err := s.do("CONFIG", "SET", "dbfilename", "other.rdb")
		require.NoError(t, err)
		require.Equal(t, "+OK\r\n", string(v.raw), mode)
		v, err = s.do("CONFIG", "GET", "dbfilename")
		require.NoError(t, err)
		require.Equal(t, "*2\r\n$10\r\ndbfilename\r\n$9\r\nother.rdb\r\n", string(v.raw), mode)
	}
}

// TestConfigSetErrorsMatchRedis: CONFIG SET's errors name the argument and
// the reason in Redis's words: memory values, integers, ranges, enums,
// booleans, immutable, protected and duplicate parameters, in Redis's
// order (every name before any value); nothing is set.
func TestConfigSetErrorsMatchRedis(t *testing.T) {
	p := newPair(t, testserver.Start(t).Addr, testserver.StartRedis(t).Addr)
	for _, args := range []string{
		"maxmemory abc", "maxclients x", "timeout -1", "maxmemory-policy foo", "protected-mode maybe",
		"databases 4", "io-threads 2", "daemonize yes", "maxmemory 1 maxmemory 2", "latency-tracking x",
		"maxmemory-samples 0", "lfu-log-factor -1", "nosuch 1", "maxmemory 5mb timeout x",
		// names are checked before values, and quoted as typed
		"maxmemory abc nosuch 1", "maxmemory abc maxmemory 1", "maxmemory abc daemonize yes", "maxmemory abc DIR /tmp",
		"DATABASES 4", "MAXMEMORY 1 maxmemory 2", "Timeout x",
	} {
		v := p.same(t, append([]string{"CONFIG", "SET"}, strings.Fields(args)...)...)
		require.True(t, v.isErr(), "%s: %s", args, v)
	}
	p.same(t, "CONFIG", "GET", "maxmemory") // the failed pairs changed nothing
}

// TestRoleMatchesRedis: ROLE says master, offset 0, no replicas, in RESP2
// and RESP3, as a Redis without replicas does.
func TestRoleMatchesRedis(t *testing.T) {
	p := newPair(t, testserver.Start(t).Addr, testserver.StartRedis(t).Addr)
	v := p.same(t, "ROLE")
	require.Equal(t, "*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n", string(v.raw))
	p.do(t, "HELLO", "3") // the reply names each server's version: not compared
	p.same(t, "ROLE")
	p.same(t, "ROLE", "x")
}

// TestConfigAndCommandHelpMatchRedis: CONFIG HELP and COMMAND HELP give
// Redis's lines, ending with 7.2's "Print this help." (7.0: "Prints");
// COMMAND HELP leaves out GETKEYS and GETKEYSANDFLAGS, which sessiond does
// not have.
func TestConfigAndCommandHelpMatchRedis(t *testing.T) {
	p := newPair(t, testserver.Start(t).Addr, testserver.StartRedis(t).Addr)
	lines := func(v rv) []string {
		var out []string
		for _, e := range v.elems {
			out = append(out, e.str)
		}
		return out
	}
	for _, container := range []string{"CONFIG", "COMMAND"} {
		a, b := p.do(t, container, "HELP")
		ours, theirs := lines(a), lines(b)
		require.NotEmpty(t, theirs, container)
		theirs[len(theirs)-1] = "    Print this help."
		assert.Equal(t, theirs, ours, container)
	}
}

// TestConfigGetNamesMatchRedis: CONFIG GET names a parameter asked for
// exactly as it was typed, and glob matches in lower case, each once.
func TestConfigGetNamesMatchRedis(t *testing.T) {
	p := newPair(t, testserver.Start(t).Addr, testserver.StartRedis(t).Addr)
	pairs := func(v rv) []string { // Redis replies in its hash table's order
		var out []string
		for i := 0; i+1 < len(v.elems); i += 2 {
			out = append(out, v.elems[i].str+"="+v.elems[i+1].str)
		}
		slices.Sort(out)
		return out
	}
	for _, args := range []string{"MAXMEMORY", "MaxMemory-Policy", "maxmemory MAXMEMORY", "MAXMEMORY maxmemory", "maxmemory-p*", "MAXMEMORY-P*", "nosuch", "timeout TIMEOUT maxclients"} {
		a, b := p.do(t, append([]string{"CONFIG", "GET"}, strings.Fields(args)...)...)
		assert.Equal(t, pairs(b), pairs(a), args)
	}
	a, b := p.do(t, "CONFIG", "GET", "PORT") // the ports differ, not the names
	require.Len(t, a.elems, 2)
	assert.Equal(t, b.elems[0].str, a.elems[0].str)
}

// TestPingWhileLoading: PING gets -LOADING while a snapshot loads, as in
// Redis 7.0 (PING has no loading flag there), so a readiness probe that
// pings does not report a server ready before its data is; INFO answers.
func TestPingWhileLoading(t *testing.T) {
	srv := testserver.Start(t)
	c := dialRaw(t, srv.Addr)
	srv.Server.SetLoading(true)
	v, err := c.do("PING")
	require.NoError(t, err)
	require.Equal(t, "-LOADING Redis is loading the dataset in memory\r\n", string(v.raw))
	v, err = c.do("INFO", "persistence")
	require.NoError(t, err)
	require.Contains(t, v.str, "loading:1")
	srv.Server.SetLoading(false)
	v, err = c.do("PING")
	require.NoError(t, err)
	require.Equal(t, "+PONG\r\n", string(v.raw))
}
