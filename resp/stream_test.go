package resp_test

// Streams compared with a real redis-server 7.0.15, byte for byte, in
// RESP2 and RESP3: streamCases' sequences (every command, option and
// error), keyspace events, WATCH, blocking XREAD/XREADGROUP, and
// TestStreamDiffRedis's random sequences. Replies that hold times
// (delivery times, idle times, seen times) are compared with those
// masked (normStream), as is XINFO's radix-tree-nodes, which sessiond
// does not model (README).
//
//	go test ./resp -run 'Stream' -count=1

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"sessiond/internal/clocktest"
	"sessiond/internal/testserver"
)

type streamConn struct{ red, sd *rconn }

func dialStream(t testing.TB, redAddr, sdAddr string, resp3 bool) *streamConn {
	h := &streamConn{dialRaw(t, redAddr), dialRaw(t, sdAddr)}
	if resp3 {
		for _, c := range []*rconn{h.red, h.sd} {
			v, err := c.do("HELLO", "3")
			require.NoError(t, err)
			require.False(t, v.isErr(), "%s", v)
		}
	}
	return h
}

// both runs args on both servers and requires the same reply (normStream).
func (h *streamConn) both(t testing.TB, args ...string) rv {
	t.Helper()
	want, err := h.red.do(args...)
	require.NoError(t, err, "redis: %q", args)
	got, err := h.sd.do(args...)
	require.NoError(t, err, "sessiond: %q", args)
	w, g := normStream(want, args), normStream(got, args)
	// sessiond's HELP replies end as Redis 7.2's do (ops_test.go).
	w = strings.Replace(w, "+    Prints this help.\r\n", "+    Print this help.\r\n", 1)
	require.Equal(t, w, g, "%.300q", args)
	return want
}

// normStream is v's bytes, with the values that depend on time or on
// Redis's radix tree masked for the commands that report them.
func normStream(v rv, args []string) string {
	cmd := strings.ToLower(args[0])
	sub := ""
	if len(args) > 1 {
		sub = strings.ToLower(args[1])
	}
	switch {
	case cmd == "xinfo":
		var b strings.Builder
		writeMasked(&b, v, func(key string) bool {
			return key == "idle" || key == "seen-time" || key == "radix-tree-nodes"
		}, sub == "stream")
		return b.String()
	case cmd == "xpending" && len(args) > 3:
		var b strings.Builder
		writeMasked(&b, v, nil, true)
		return b.String()
	}
	return string(v.raw)
}

// writeMasked writes v with the map values under masked keys replaced by
// "?", and, with times, every integer of 12 digits or more (Unix ms) and
// the third element of 4-element arrays (XPENDING's idle) too.
func writeMasked(b *strings.Builder, v rv, masked func(string) bool, times bool) {
	if !v.isAgg() {
		if times && v.typ == ':' && len(v.str) >= 12 {
			b.WriteString(":T\r\n")
			return
		}
		b.Write(v.raw)
		return
	}
	fmt.Fprintf(b, "%c%d\r\n", v.typ, len(v.elems))
	isMap := v.typ == '%'
	for i := 0; i < len(v.elems); i++ {
		e := v.elems[i]
		if times && v.typ == '*' && len(v.elems) == 4 && i == 2 && e.typ == ':' && len(v.elems[0].str) > 0 && strings.Contains(v.elems[0].str, "-") && v.elems[1].typ == '$' {
			b.WriteString(":I\r\n")
			continue
		}
		if (isMap || v.typ == '*') && i%2 == 1 && masked != nil && v.elems[i-1].typ == '$' && masked(v.elems[i-1].str) && e.typ == ':' {
			b.WriteString(":?\r\n")
			continue
		}
		writeMasked(b, e, masked, times)
	}
}

func sp(line string) []string { return strings.Fields(line) }

// streamCases run from an empty database on both servers.
var streamCases = [][]string{
	// XADD and its errors.
	{"XADD", "XADD s", "XADD s 1-1", "XADD s 1-1 f", "XADD s 1-1 f v", "XADD s 1-1 f v", "XADD s 1-0 f v", "XADD s 0-0 f v",
		"XADD n 0-0 f v", "XADD n 0 f v", "XADD n 0-* f v", "XADD s 1-* f v", "XADD s 1-2 f v g w", "XADD s 2 f v", "XADD s 2-* a b",
		"XADD s 3-5 f", "XADD s -1 f v", "XADD s + f v", "XADD s - f v", "XADD s abc f v", "XADD s 1-a f v", "XADD s 1- f v",
		"XADD s 18446744073709551615-18446744073709551615 f v", "XADD s 18446744073709551615-* f v", "XADD s 5 f v",
		"XLEN s", "XRANGE s - +", "XREVRANGE s + -", "TYPE s", "OBJECT ENCODING s", "EXISTS s", "XLEN n", "XLEN nokey",
		"XADD s2 NOMKSTREAM 1 f v", "EXISTS s2", "XADD s2 nomkstream", "XADD s2 MAXLEN", "XADD s2 MAXLEN 1", "XADD s2 MAXLEN x 1 f v",
		"XADD s2 MAXLEN -1 1 f v", "XADD s2 MAXLEN 1 MINID 1 1 f v", "XADD s2 LIMIT 5 1 f v", "XADD s2 MAXLEN 1 LIMIT 5 1 f v",
		"XADD s2 MAXLEN ~ 1 LIMIT 5 1 f v", "XADD s2 MAXLEN ~ 1 LIMIT -5 2 f v", "XADD s2 MAXLEN = 1 3 f v", "XADD s2 MINID ~ 2 4 f v",
		"XADD s2 MINID 9-x 5 f v", "XADD s2 LIMIT x 6 f v", "XADD s2 LIMIT 0 6 f v", "XADD s2 MAXLEN ~ 0 LIMIT 0 7 f v", "XRANGE s2 - +",
		"XADD s2 MINID = 7 8 f v", "XRANGE s2 - +", "XADD s2 maxlen 0 9 f v", "XLEN s2", "XRANGE s2 - +", "XINFO STREAM s2",
		"SET str x", "XADD str 1 f v", "XADD str NOMKSTREAM 1 f v", "XLEN str", "XRANGE str - +"},
	// XRANGE / XREVRANGE intervals, COUNT, incomplete and exclusive IDs.
	{"XADD s 1-1 a 1", "XADD s 1-2 b 2", "XADD s 2-0 c 3 d 4", "XADD s 2-5 a 1", "XADD s 3-0 e 5",
		"XRANGE s - +", "XRANGE s 1 1", "XRANGE s 1 2", "XRANGE s (1-1 +", "XRANGE s - (3-0", "XRANGE s (1 +", "XRANGE s ( +",
		"XRANGE s (- +", "XRANGE s - (+", "XRANGE s 2 1", "XRANGE s - + COUNT 2", "XRANGE s - + COUNT 0", "XRANGE s - + COUNT -1",
		"XRANGE s - + COUNT", "XRANGE s - + COUNT x", "XRANGE s - + LIMIT 1", "XRANGE nokey - + COUNT 0", "XRANGE nokey - +",
		"XREVRANGE s + -", "XREVRANGE s + - COUNT 2", "XREVRANGE s (3-0 (1-1", "XREVRANGE s 2 2", "XREVRANGE s - +",
		"XRANGE s (18446744073709551615-18446744073709551615 +", "XRANGE s - (0-0", "XREVRANGE s (0 -", "XRANGE s 1-x +",
		"XRANGE s 18446744073709551616 +", "XRANGE s 2-0 2-0", "XRANGE s 2-1 2-4"},
	// XDEL, tombstones, first and max deleted IDs.
	{"XDEL nokey 1", "XDEL nokey bad", "XADD s 1 f v", "XADD s 2 f v", "XADD s 3 f v", "XADD s 4 g w", "XDEL s bad", "XDEL s 1 bad",
		"XDEL s 2 2 9", "XRANGE s - +", "XINFO STREAM s", "XDEL s 1", "XINFO STREAM s", "XDEL s 3 4", "XLEN s", "XINFO STREAM s",
		"EXISTS s", "XADD s 5 f v", "XINFO STREAM s", "SET str v", "XDEL str 1", "XDEL str bad"},
	// XTRIM.
	{"XTRIM s", "XTRIM s MAXLEN", "XTRIM s MAXLEN 1", "XTRIM s foo 1", "XTRIM s MAXLEN 1 MINID 1", "XTRIM s LIMIT 1",
		"XTRIM s MAXLEN 1 LIMIT 1", "XTRIM s MAXLEN ~ 1 LIMIT 1", "XADD s 1 a 1", "XADD s 2 a 2", "XADD s 3 a 3", "XADD s 4 a 4",
		"XTRIM s MAXLEN ~ 2", "XTRIM s MAXLEN 2", "XRANGE s - +", "XINFO STREAM s", "XTRIM s MINID 4", "XRANGE s - +",
		"XTRIM s MINID = 5", "XINFO STREAM s", "XTRIM s MAXLEN 0", "XINFO STREAM s", "SET str v", "XTRIM str MAXLEN 1"},
	// Consumer groups: XGROUP and its errors.
	{"XGROUP CREATE s g $", "XGROUP CREATE s g $ MKSTREAM", "XGROUP CREATE s g $ MKSTREAM", "EXISTS s", "XLEN s",
		"XGROUP CREATE s g2 0", "XGROUP CREATE s g3 - ", "XGROUP CREATE s g3 +", "XGROUP CREATE s g3 bad", "XGROUP CREATE s g3 5-5 ENTRIESREAD 3",
		"XGROUP CREATE s g4 0 ENTRIESREAD -2", "XGROUP CREATE s g4 0 ENTRIESREAD x", "XGROUP CREATE s g4 0 FOO", "XGROUP CREATE s g4 0 ENTRIESREAD",
		"XGROUP CREATE s g4 0 MKSTREAM MKSTREAM MKSTREAM MKSTREAM", "XINFO GROUPS s", "XGROUP SETID s nog 0", "XGROUP SETID s g 7 ENTRIESREAD 2",
		"XGROUP SETID s g - ", "XGROUP SETID s g +", "XGROUP SETID s g $ ENTRIESREAD 2 MKSTREAM", "XGROUP SETID s g 0 MKSTREAM", "XINFO GROUPS s",
		"XGROUP CREATECONSUMER s g c1", "XGROUP CREATECONSUMER s g c1", "XGROUP CREATECONSUMER s nog c1", "XGROUP DELCONSUMER s g c1",
		"XGROUP DELCONSUMER s g c1", "XGROUP DELCONSUMER s nog c1", "XGROUP DESTROY s g2", "XGROUP DESTROY s g2", "XGROUP DESTROY nokey g",
		"XGROUP CREATE nokey g 0", "XGROUP SETID nokey g 0", "XGROUP FOO s g", "XGROUP HELP", "XGROUP HELP x", "XGROUP", "XGROUP CREATE s",
		"XINFO GROUPS s", "SET str v", "XGROUP CREATE str g 0", "XGROUP CREATE str g 0 MKSTREAM", "XGROUP DESTROY str g"},
	// XREADGROUP, XACK, XPENDING, lag and entries-read.
	{"XADD s 1 f v", "XADD s 2 f v", "XADD s 3 f v", "XGROUP CREATE s g 0", "XINFO GROUPS s",
		"XREADGROUP GROUP g c1 COUNT 1 STREAMS s >", "XINFO GROUPS s", "XREADGROUP GROUP g c2 STREAMS s >", "XREADGROUP GROUP g c2 STREAMS s >",
		"XINFO GROUPS s", "XPENDING s g", "XPENDING s g - + 10", "XPENDING s g - + 10 c2", "XPENDING s g - + 10 nobody", "XPENDING s g (1 + 1",
		"XPENDING s g IDLE 0 - + 10", "XPENDING s g IDLE 100000 - + 10", "XPENDING s g - + -1", "XPENDING s g - + x", "XPENDING s g - +",
		"XPENDING s g IDLE 5 - + ", "XPENDING s g IDLE x - + 10", "XPENDING s nog", "XPENDING nokey g", "XPENDING s g bad + 10",
		"XREADGROUP GROUP g c2 STREAMS s 0", "XREADGROUP GROUP g c2 COUNT 1 STREAMS s 0", "XREADGROUP GROUP g c1 STREAMS s 2",
		"XDEL s 2", "XREADGROUP GROUP g c2 STREAMS s 0", "XINFO GROUPS s", "XACK s g 1 2 3 9", "XACK s g 2", "XACK s nog 1", "XACK nokey g 1",
		"XACK s g bad", "XACK s nog bad", "XPENDING s g", "XINFO CONSUMERS s g", "XINFO CONSUMERS s nog", "XINFO CONSUMERS nokey g",
		"XADD s 4 f v", "XREADGROUP GROUP g c1 NOACK STREAMS s >", "XPENDING s g", "XINFO GROUPS s", "XREADGROUP GROUP nog c STREAMS s >",
		"XREADGROUP GROUP g c STREAMS s $", "XREADGROUP GROUP g c STREAMS s", "XREADGROUP STREAMS s >", "XREADGROUP GROUP g c STREAMS nokey >",
		"XREADGROUP GROUP g c COUNT x STREAMS s >", "XREADGROUP GROUP g c FOO STREAMS s >", "XREADGROUP GROUP g c STREAMS s bad",
		"XGROUP SETID s g 0", "XREADGROUP GROUP g c3 STREAMS s >", "XPENDING s g - + 10", "XINFO GROUPS s", "XINFO STREAM s",
		"XGROUP DELCONSUMER s g c3", "XPENDING s g"},
	// XREAD without blocking.
	{"XREAD STREAMS s 0", "XADD s 1 f v", "XADD t 2 g w", "XREAD STREAMS s t 0 0", "XREAD COUNT 1 STREAMS s t 0 0", "XREAD STREAMS s t $ $",
		"XREAD STREAMS s t 1 0", "XREAD STREAMS s nokey 0 0", "XREAD STREAMS s", "XREAD STREAMS s t 0", "XREAD COUNT x STREAMS s 0",
		"XREAD STREAMS s >", "XREAD STREAMS s bad", "XREAD STREAMS s -", "XREAD GROUP g c STREAMS s 0", "XREAD NOACK STREAMS s 0",
		"XREAD FOO STREAMS s 0", "XREAD COUNT 1", "XREAD BLOCK x STREAMS s 0", "XREAD BLOCK -1 STREAMS s 0", "XREAD BLOCK 10 STREAMS s 0",
		"SET str v", "XREAD STREAMS s str 0 0", "XREAD STREAMS str s 0 bad", "XREAD streams s 0",
		"MULTI", "XREAD BLOCK 0 STREAMS s $", "EXEC"},
	// XCLAIM and XAUTOCLAIM.
	{"XADD s 1 f v", "XADD s 2 f v", "XADD s 3 f v", "XADD s 4 f v", "XGROUP CREATE s g 0", "XREADGROUP GROUP g c1 STREAMS s >",
		"XCLAIM s g c2 0 1 2", "XPENDING s g - + 10", "XCLAIM s g c2 0 1 JUSTID", "XPENDING s g - + 10", "XCLAIM s g c3 100000 1 2 3",
		"XCLAIM s g c3 0 9 1", "XCLAIM s g c3 0 9 FORCE", "XPENDING s g - + 10", "XCLAIM s g c3 0 3 RETRYCOUNT 7 TIME 1000", "XPENDING s g - + 10",
		"XCLAIM s g c3 0 3 IDLE 5000 JUSTID", "XCLAIM s g c3 0 3 LASTID 10", "XINFO GROUPS s", "XCLAIM s g c3 0 3 LASTID bad",
		"XCLAIM s g c3 0 3 IDLE x", "XCLAIM s g c3 0 3 TIME x", "XCLAIM s g c3 0 3 RETRYCOUNT x", "XCLAIM s g c3 0 3 FOO",
		"XCLAIM s g c3 x 3", "XCLAIM s nog c3 x 3", "XCLAIM nokey g c3 0 3", "XCLAIM s g c3 0 FORCE", "XDEL s 2",
		"XCLAIM s g c3 0 2 3", "XPENDING s g - + 10", "XADD s 5 f v", "XCLAIM s g c4 0 5 FORCE", "XPENDING s g - + 10",
		"XINFO CONSUMERS s g",
		"XAUTOCLAIM s g c5 0 0", "XPENDING s g - + 10", "XAUTOCLAIM s g c5 0 0 COUNT 1", "XAUTOCLAIM s g c6 0 (1 COUNT 2 JUSTID",
		"XAUTOCLAIM s g c6 100000 0", "XDEL s 3", "XAUTOCLAIM s g c7 0 0", "XAUTOCLAIM s g c7 0 0 COUNT 0", "XAUTOCLAIM s g c7 0 0 COUNT x",
		"XAUTOCLAIM s g c7 0 0 FOO", "XAUTOCLAIM s g c7 x 0", "XAUTOCLAIM s g c7 0 bad", "XAUTOCLAIM s nog c7 0 0", "XAUTOCLAIM nokey g c 0 0",
		"XINFO STREAM s FULL", "SET str v", "XCLAIM str g c 0 1", "XAUTOCLAIM str g c 0 0"},
	// XINFO and XSETID.
	{"XINFO", "XINFO HELP", "XINFO HELP x", "XINFO FOO", "XINFO STREAM nokey", "XINFO GROUPS nokey", "XADD s 1 a 1", "XADD s 2 b 2 c 3",
		"XINFO STREAM s", "XINFO STREAM s FULL", "XINFO STREAM s FULL COUNT 1", "XINFO STREAM s FULL COUNT 0", "XINFO STREAM s FULL COUNT -5",
		"XINFO STREAM s FULL COUNT x", "XINFO STREAM s FOO", "XINFO STREAM s FULL FOO 1", "XINFO STREAM s FULL COUNT", "XINFO FOO s",
		"XGROUP CREATE s g 0", "XREADGROUP GROUP g c STREAMS s >", "XINFO STREAM s FULL", "XINFO STREAM s FULL COUNT 1",
		"XSETID s 1", "XSETID s 5", "XSETID s 5-x", "XSETID s 6 ENTRIESADDED 1", "XSETID s 6 ENTRIESADDED 10 MAXDELETEDID 7",
		"XSETID s 8 ENTRIESADDED 10 MAXDELETEDID 7", "XSETID s 8 ENTRIESADDED -1", "XSETID s 8 FOO 1", "XSETID nokey 1", "XINFO STREAM s",
		"XINFO GROUPS s", "XSETID s +", "XSETID s -", "SET str v", "XINFO STREAM str", "XSETID str 1",
		"XADD e 1 f v", "XDEL e 1", "XINFO STREAM e", "XINFO STREAM e FULL", "XSETID e 0", "XINFO STREAM e"},
	// Nodes: entries past stream-node-max-entries and -bytes, "~" trims,
	// the same and other fields, numbers.
	{"XADD big 1 f 1", "XADD big 2 f 2", "XADD big 3 g 3", "XADD big 4 f 123456789012", "XADD big 5 f -7 g 8"},
	// The node limits.
	{"CONFIG GET stream-node-max-bytes", "CONFIG GET stream-node-max-entries", "CONFIG SET stream-node-max-entries 5", "CONFIG SET stream-node-max-bytes 200",
		"XADD s 1 f v", "XADD s 2 f v", "XADD s 3 f v", "XADD s 4 f v", "XADD s 5 f v", "XADD s 6 f v", "XADD s 7 f 012345678901234567890123456789",
		"XADD s 8 f 012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789",
		"XADD s 9 f v", "XADD s 10 f 0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789",
		"XINFO STREAM s", "XTRIM s MAXLEN ~ 3", "XINFO STREAM s", "CONFIG SET stream-node-max-entries 0", "CONFIG SET stream-node-max-bytes 0",
		"XADD s 11 f v", "XADD s 12 f v", "XTRIM s MINID ~ 12", "XINFO STREAM s", "CONFIG SET stream-node-max-entries 1", "XADD s 13 f v",
		"XADD s 14 f v", "XINFO STREAM s", "CONFIG SET stream-node-max-entries -1", "CONFIG SET stream-node-max-bytes 1kb", "CONFIG GET stream-node-max-bytes", "CONFIG GET stream-node-max-entries",
		"CONFIG SET stream-node-max-entries 100", "CONFIG SET stream-node-max-bytes 4096", "CONFIG GET stream-node-max-bytes", "CONFIG GET stream-node-max-entries"},
	// Other commands on streams.
	{"XADD s 1 f v", "XGROUP CREATE s g 0", "XREADGROUP GROUP g c STREAMS s >", "COPY s d", "XINFO STREAM d FULL", "RENAME s r",
		"XINFO STREAM r FULL", "EXISTS s", "MOVE r 1", "SELECT 1", "XINFO STREAM r FULL", "DEL r", "SELECT 0", "SCAN 0 TYPE stream",
		"SORT d", "LPUSH d x", "GET d", "EXPIRE d 100", "TTL d", "XADD d 2 f v", "TTL d", "DUMP nokey",
		"COMMAND GETKEYS XREAD COUNT 1 STREAMS a b 0 0", "COMMAND GETKEYS XREADGROUP GROUP g c BLOCK 5 STREAMS a >",
		"COMMAND GETKEYS XINFO STREAM k", "COMMAND GETKEYS XGROUP CREATE k g $", "COMMAND GETKEYS XADD k * f v"},
}

func streamBigSteps() [][]string {
	var out [][]string
	for i := 6; i < 460; i++ {
		switch {
		case i%7 == 0:
			out = append(out, []string{"XADD", "big", fmt.Sprint(i), "f", strings.Repeat("x", i%150)})
		case i%11 == 0:
			out = append(out, []string{"XADD", "big", fmt.Sprint(i), "h", fmt.Sprint(i * 1000), "i", "x"})
		default:
			out = append(out, []string{"XADD", "big", fmt.Sprint(i), "f", fmt.Sprint(i)})
		}
		if i%50 == 0 {
			out = append(out, sp("XINFO STREAM big"))
		}
		if i%37 == 0 {
			out = append(out, []string{"XDEL", "big", fmt.Sprint(i - 5), fmt.Sprint(i - 30)})
		}
	}
	return append(out, sp("XINFO STREAM big"), sp("XTRIM big MAXLEN ~ 300"), sp("XINFO STREAM big"), sp("XTRIM big MINID ~ 250"),
		sp("XINFO STREAM big"), sp("XTRIM big MAXLEN ~ 10 LIMIT 150"), sp("XINFO STREAM big"), sp("XTRIM big MAXLEN 111"),
		sp("XINFO STREAM big"), sp("XRANGE big - + COUNT 5"), sp("XREVRANGE big + - COUNT 5"), sp("XRANGE big 300 320"),
		sp("XADD big MAXLEN ~ 50 1000 f v"), sp("XINFO STREAM big"), sp("XADD big MINID 1000 1001 f v"), sp("XINFO STREAM big"),
		sp("MEMORY USAGE nokey"))
}

func TestStreamRedis(t *testing.T) {
	red := testserver.StartRedis(t)
	srv := testserver.Start(t)
	for _, proto := range []string{"resp2", "resp3"} {
		t.Run(proto, func(t *testing.T) {
			h := dialStream(t, red.Addr, srv.Addr, proto == "resp3")
			for i, c := range streamCases {
				t.Run(strconv.Itoa(i), func(t *testing.T) {
					h.both(t, "FLUSHALL")
					steps := make([][]string, 0, len(c))
					for _, line := range c {
						steps = append(steps, sp(line))
					}
					if i == 9 { // the nodes case
						steps = append(steps, streamBigSteps()...)
					}
					for _, args := range steps {
						h.both(t, args...)
					}
				})
			}
		})
	}
}

// TestStreamAutoID compares XADD * replies by shape: IDs of the time,
// increasing, and what XRANGE reads back.
func TestStreamAutoID(t *testing.T) {
	red := testserver.StartRedis(t)
	srv := testserver.Start(t)
	re := regexp.MustCompile(`^\$\d+\r\n(\d+)-(\d+)\r\n$`)
	for _, addr := range []string{red.Addr, srv.Addr} {
		c := dialRaw(t, addr)
		var prev [2]uint64
		before := uint64(time.Now().UnixMilli())
		for i := range 50 {
			v, err := c.do("XADD", "s", "*", "f", strconv.Itoa(i))
			require.NoError(t, err)
			m := re.FindStringSubmatch(string(v.raw))
			require.NotNil(t, m, "%q", v.raw)
			ms, _ := strconv.ParseUint(m[1], 10, 64)
			seq, _ := strconv.ParseUint(m[2], 10, 64)
			require.True(t, ms > prev[0] || ms == prev[0] && seq > prev[1])
			require.GreaterOrEqual(t, ms, before)
			prev = [2]uint64{ms, seq}
		}
		v, err := c.do("XADD", "s", fmt.Sprintf("%d-*", prev[0]), "f", "v")
		require.NoError(t, err)
		require.Equal(t, rbulk(fmt.Sprintf("%d-%d", prev[0], prev[1]+1)), string(v.raw))
	}
}

// TestStreamDiffRedis runs random sequences of stream commands on both
// servers with explicit IDs, comparing every reply. DIFF_SEED replays.
func TestStreamDiffRedis(t *testing.T) {
	red := testserver.StartRedis(t)
	srv := testserver.Start(t)
	seed := diffSeedValue()
	t.Logf("seed=%d (replay with DIFF_SEED=%d)", seed, seed)
	seqs, cmds := envInt("DIFF_SEQS", 8), envInt("DIFF_CMDS", 600)
	for seq := range seqs {
		h := dialStream(t, red.Addr, srv.Addr, seq%2 == 1)
		r := rand.New(rand.NewPCG(uint64(seed), uint64(seq)))
		h.both(t, "FLUSHALL")
		g := &streamGen{r: r, last: map[string]uint64{}}
		kinds := map[string]int{}
		for range cmds {
			args := g.next()
			v := h.both(t, args...)
			kind := "ok"
			if v.isErr() {
				kind = "error"
			} else if v.null || v.isAgg() && len(v.elems) == 0 {
				kind = "empty"
			}
			kinds[strings.ToLower(args[0])+" "+kind]++
		}
		if seq == 0 {
			t.Logf("replies: %v", kinds)
		}
		for _, k := range []string{"s0", "s1", "s2"} {
			h.both(t, "XINFO", "STREAM", k, "FULL", "COUNT", "0")
			h.both(t, "XRANGE", k, "-", "+")
		}
	}
}

type streamGen struct {
	r    *rand.Rand
	last map[string]uint64
}

func (g *streamGen) key() string { return "s" + strconv.Itoa(g.r.IntN(3)) }

func (g *streamGen) id(k string) string {
	l := g.last[k]
	if l == 0 {
		return "0-1"
	}
	switch g.r.IntN(4) {
	case 0:
		return strconv.FormatUint(g.r.Uint64N(l+5), 10)
	case 1:
		return "-"
	case 2:
		return "+"
	}
	return fmt.Sprintf("%d-%d", g.r.Uint64N(l+3), g.r.IntN(3))
}

func (g *streamGen) newID(k string) string {
	if g.r.IntN(20) == 0 {
		return strconv.FormatUint(g.last[k], 10) // often too small
	}
	n := g.last[k] + 1 + g.r.Uint64N(3)
	g.last[k] = n
	if g.r.IntN(4) == 0 {
		return fmt.Sprintf("%d-*", n)
	}
	return strconv.FormatUint(n, 10)
}

func (g *streamGen) fields() []string {
	n := 1 + g.r.IntN(3)
	if g.r.IntN(30) == 0 { // large entries close nodes by bytes
		return []string{"big", strings.Repeat("b", 200+g.r.IntN(2000))}
	}
	if g.r.IntN(3) > 0 {
		return []string{"f", strconv.Itoa(g.r.IntN(1000))}
	}
	var out []string
	for i := range n {
		out = append(out, []string{"f", "g", "h", "num"}[g.r.IntN(4)]+strconv.Itoa(i), strings.Repeat("v", g.r.IntN(60)))
	}
	return out
}

func (g *streamGen) grp() string  { return "g" + strconv.Itoa(g.r.IntN(2)) }
func (g *streamGen) cons() string { return "c" + strconv.Itoa(g.r.IntN(3)) }

func (g *streamGen) existingID(k string) string {
	return strconv.FormatUint(1+g.r.Uint64N(g.last[k]+1), 10)
}

func (g *streamGen) next() []string {
	k := g.key()
	switch n := g.r.IntN(100); {
	case n < 30:
		args := []string{"XADD", k}
		switch g.r.IntN(10) {
		case 0:
			args = append(args, "MAXLEN", []string{"~", "=", ""}[g.r.IntN(3)], strconv.Itoa(g.r.IntN(40)))
		case 1:
			args = append(args, "MINID", []string{"~", "="}[g.r.IntN(2)], g.existingID(k))
		case 2:
			args = append(args, "NOMKSTREAM")
		}
		args = append(args, g.newID(k))
		args = append(args, g.fields()...)
		return slicesCompact(args)
	case n < 40:
		cmd := []string{"XRANGE", "XREVRANGE"}[g.r.IntN(2)]
		a, b := g.id(k), g.id(k)
		if g.r.IntN(3) == 0 {
			a = "(" + a
		}
		args := []string{cmd, k, a, b}
		if g.r.IntN(2) == 0 {
			args = append(args, "COUNT", strconv.Itoa(g.r.IntN(5)))
		}
		return args
	case n < 47:
		return []string{"XDEL", k, g.existingID(k), g.existingID(k)}
	case n < 50:
		return []string{"XTRIM", k, []string{"MAXLEN", "MINID"}[g.r.IntN(2)], []string{"~", "="}[g.r.IntN(2)], g.existingID(k)}
	case n < 55:
		return []string{"XGROUP", "CREATE", k, g.grp(), []string{"0", "$", g.existingID(k)}[g.r.IntN(3)], "MKSTREAM"}
	case n < 57:
		return []string{"XGROUP", "SETID", k, g.grp(), []string{"0", "$", g.existingID(k)}[g.r.IntN(3)]}
	case n < 58:
		return []string{"XGROUP", "DESTROY", k, g.grp()}
	case n < 59:
		return []string{"XGROUP", "DELCONSUMER", k, g.grp(), g.cons()}
	case n < 70:
		args := []string{"XREADGROUP", "GROUP", g.grp(), g.cons()}
		if g.r.IntN(2) == 0 {
			args = append(args, "COUNT", strconv.Itoa(1+g.r.IntN(4)))
		}
		if g.r.IntN(6) == 0 {
			args = append(args, "NOACK")
		}
		id := ">"
		if g.r.IntN(4) == 0 {
			id = "0"
		}
		return append(args, "STREAMS", k, id)
	case n < 76:
		return []string{"XACK", k, g.grp(), g.existingID(k), g.existingID(k)}
	case n < 80:
		return []string{"XPENDING", k, g.grp(), "-", "+", "20"}
	case n < 83:
		return []string{"XPENDING", k, g.grp()}
	case n < 88:
		args := []string{"XCLAIM", k, g.grp(), g.cons(), "0", g.existingID(k), g.existingID(k)}
		if g.r.IntN(3) == 0 {
			args = append(args, "JUSTID")
		}
		if g.r.IntN(4) == 0 {
			args = append(args, "FORCE")
		}
		return args
	case n < 91:
		args := []string{"XAUTOCLAIM", k, g.grp(), g.cons(), "0", g.id(k), "COUNT", strconv.Itoa(1 + g.r.IntN(5))}
		if args[5] == "+" || args[5] == "-" {
			args[5] = "0"
		}
		return args
	case n < 94:
		return []string{"XINFO", "GROUPS", k}
	case n < 96:
		return []string{"XINFO", "STREAM", k}
	case n < 97:
		return []string{"XREAD", "COUNT", strconv.Itoa(1 + g.r.IntN(5)), "STREAMS", k, g.existingID(k)}
	case n < 98:
		switch g.r.IntN(6) {
		case 0:
			return []string{"XSETID", k, strconv.FormatUint(g.last[k]+uint64(g.r.IntN(3)), 10)}
		case 1:
			return []string{"XINFO", "STREAM", k, "FULL", "COUNT", strconv.Itoa(g.r.IntN(4))}
		case 2:
			return []string{"XINFO", "CONSUMERS", k, g.grp()}
		case 3:
			return []string{"XGROUP", "CREATECONSUMER", k, g.grp(), g.cons()}
		case 4:
			return []string{"XTRIM", k, "MAXLEN", "~", strconv.Itoa(g.r.IntN(50)), "LIMIT", strconv.Itoa(g.r.IntN(300))}
		}
		return []string{"XPENDING", k, g.grp(), "IDLE", "0", "-", "+", "5", g.cons()}
	}
	return []string{"XLEN", k}
}

func slicesCompact(a []string) []string {
	out := a[:0]
	for _, s := range a {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// streamNotifyCommands exercise every stream event, in Redis's order.
var streamNotifyCommands = [][]string{
	sp("XADD s 1 f v"), sp("XADD s 2 f v"), sp("XADD s MAXLEN 1 3 f v"), sp("XADD s NOMKSTREAM 4 f v"), sp("XADD nokey NOMKSTREAM 1 f v"),
	sp("XDEL s 3"), sp("XDEL s 99"), sp("XTRIM s MAXLEN 0"), sp("XTRIM s MAXLEN 0"), sp("XADD s 5 f v"),
	sp("XGROUP CREATE s g 0"), sp("XGROUP CREATE s g 0"), sp("XGROUP CREATE m g $ MKSTREAM"), sp("XGROUP SETID s g 0"),
	sp("XGROUP CREATECONSUMER s g c"), sp("XGROUP CREATECONSUMER s g c"), sp("XREADGROUP GROUP g c2 STREAMS s >"),
	sp("XREADGROUP GROUP g c3 STREAMS s >"), sp("XACK s g 5"), sp("XCLAIM s g c4 0 5 FORCE"), sp("XAUTOCLAIM s g c5 0 0"),
	sp("XGROUP DELCONSUMER s g c"), sp("XGROUP DELCONSUMER s g nobody"), sp("XGROUP DESTROY s g"), sp("XGROUP DESTROY s g"),
	sp("XSETID s 10"), sp("XRANGE s - +"), sp("XRANGE nokey - +"), sp("XLEN nokey"), sp("XREAD STREAMS nokey 0"),
	sp("XINFO STREAM s"), sp("DEL s"), sp("XADD e 1 f v"), sp("EXPIRE e 100"), sp("RENAME e e2"), sp("XADD s 1-1 f v"),
}

func TestStreamNotificationsMatchRedis(t *testing.T) {
	red := testserver.StartRedis(t)
	sd := testserver.Start(t)
	for _, events := range []string{"KEA", "Et", "Eg", "Em", "En"} {
		t.Run(events, func(t *testing.T) {
			stream := func(addr string) []string {
				c, sub := dialRaw(t, addr), dialRaw(t, addr)
				for _, args := range [][]string{{"FLUSHALL"}, {"CONFIG", "SET", "notify-keyspace-events", events}} {
					v, err := c.do(args...)
					require.NoError(t, err)
					require.Equal(t, okR, string(v.raw))
				}
				_, err := sub.do("PSUBSCRIBE", "__key*__:*")
				require.NoError(t, err)
				for _, args := range streamNotifyCommands {
					_, err := c.do(args...)
					require.NoError(t, err)
				}
				_, err = c.do("PUBLISH", "__keymarker__:end", "done")
				require.NoError(t, err)
				return collect(t, sub)
			}
			want := stream(red.Addr)
			require.Equal(t, strings.Join(want, "\n"), strings.Join(stream(sd.Addr), "\n"))
		})
	}
}

// TestStreamWatchMatchesRedis compares which stream commands abort a
// transaction that watched the stream.
func TestStreamWatchMatchesRedis(t *testing.T) {
	red := testserver.StartRedis(t)
	sd := testserver.Start(t)
	cmds := []string{"XADD s 9 f v", "XADD s 1 f v", "XDEL s 2", "XDEL s 99", "XTRIM s MAXLEN 1", "XTRIM s MAXLEN 100",
		"XGROUP CREATE s g2 0", "XGROUP SETID s g 0", "XGROUP DESTROY s g", "XGROUP CREATECONSUMER s g c9",
		"XGROUP DELCONSUMER s g c", "XREADGROUP GROUP g c STREAMS s >", "XACK s g 1", "XCLAIM s g c2 0 1",
		"XAUTOCLAIM s g c2 0 0", "XSETID s 100", "XRANGE s - +", "XREAD STREAMS s 0", "XGROUP CREATE n g $ MKSTREAM", "XADD n 1 f v"}
	run := func(addr string) []string {
		var out []string
		for _, cmd := range cmds {
			c1, c2 := dialRaw(t, addr), dialRaw(t, addr)
			for _, args := range [][]string{{"FLUSHALL"}, sp("XADD s 1 f v"), sp("XADD s 2 f v"), sp("XGROUP CREATE s g 0"),
				sp("XREADGROUP GROUP g c COUNT 1 STREAMS s >"), {"WATCH", "s", "n"}} {
				_, err := c1.do(args...)
				require.NoError(t, err)
			}
			v, err := c2.do(sp(cmd)...)
			require.NoError(t, err)
			for _, args := range [][]string{{"MULTI"}, {"PING"}} {
				_, err = c1.do(args...)
				require.NoError(t, err)
			}
			e, err := c1.do("EXEC")
			require.NoError(t, err)
			out = append(out, fmt.Sprintf("%s -> %q; EXEC %q", cmd, normStream(v, sp(cmd)), e.raw))
			c1.close()
			c2.close()
		}
		return out
	}
	want := run(red.Addr)
	require.Equal(t, strings.Join(want, "\n"), strings.Join(run(sd.Addr), "\n"))
}

// blockedRun blocks a client with cmd after setup, runs then on another
// connection once it is blocked, and returns the blocked client's reply
// (and the other replies); a reply of the blocked client that has not
// come within wait is "(blocked)".
func blockedRun(t *testing.T, addr string, setup []string, cmd string, then []string, wait time.Duration) []string {
	c, b := dialRaw(t, addr), dialRaw(t, addr)
	for _, s := range append([]string{"FLUSHALL"}, setup...) {
		_, err := b.do(sp(s)...)
		require.NoError(t, err)
	}
	_, err := c.c.Write(encodeCommand(sp(cmd)))
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		v, err := b.do("INFO", "clients")
		return err == nil && strings.Contains(v.str, "blocked_clients:1")
	}, 5*time.Second, time.Millisecond)
	var out []string
	for _, s := range then {
		v, err := b.do(sp(s)...)
		require.NoError(t, err)
		out = append(out, normStream(v, sp(s)))
	}
	c.c.SetReadDeadline(time.Now().Add(wait))
	v, err := readReply(c.br)
	if err != nil {
		return append(out, "(blocked)")
	}
	out = append(out, string(v.raw))
	if strings.HasPrefix(cmd, "XREADGROUP") {
		v, err := b.do("XPENDING", "s", "g")
		require.NoError(t, err)
		out = append(out, string(v.raw))
	}
	return out
}

func TestStreamBlockingMatchesRedis(t *testing.T) {
	red := testserver.StartRedis(t)
	sd := testserver.Start(t)
	cases := []struct {
		setup []string
		cmd   string
		then  []string
	}{
		{nil, "XREAD BLOCK 0 STREAMS s $", []string{"XADD s 5 f v"}},
		{[]string{"XADD s 1 f v"}, "XREAD BLOCK 0 STREAMS s $", []string{"XADD s 2 f v g w"}},
		{[]string{"XADD s 1 f v"}, "XREAD BLOCK 0 STREAMS t s $ 1", []string{"XADD other 1 f v", "XADD s 2 f v"}},
		{[]string{"XADD s 1 f v"}, "XREAD BLOCK 0 STREAMS s 5", []string{"XADD s 3 f v", "XADD s 6 f v"}},
		{nil, "XREAD BLOCK 0 STREAMS s 0", []string{"SET s str", "DEL s", "XADD s 7 f v"}},
		{nil, "XREAD BLOCK 50 STREAMS s $", nil},
		{nil, "XREAD COUNT 1 BLOCK 0 STREAMS s $", []string{"MULTI", "XADD s 1 f v", "XADD s 2 f v", "EXEC"}},
		{[]string{"XADD s 1 f v"}, "XREAD BLOCK 0 STREAMS s $", []string{"XADD s 2 f v", "XDEL s 2"}},
		{[]string{"XGROUP CREATE s g $ MKSTREAM"}, "XREADGROUP GROUP g c BLOCK 0 STREAMS s >", []string{"XADD s 1 f v"}},
		{[]string{"XGROUP CREATE s g $ MKSTREAM"}, "XREADGROUP GROUP g c BLOCK 0 NOACK STREAMS s >", []string{"XADD s 1 f v"}},
		{[]string{"XGROUP CREATE s g $ MKSTREAM"}, "XREADGROUP GROUP g c BLOCK 0 STREAMS s >", []string{"XGROUP DESTROY s g"}},
		{[]string{"XGROUP CREATE s g $ MKSTREAM"}, "XREADGROUP GROUP g c BLOCK 0 STREAMS s >", []string{"DEL s"}},
		{[]string{"XGROUP CREATE s g $ MKSTREAM"}, "XREADGROUP GROUP g c BLOCK 0 STREAMS s >", []string{"SET s x"}},
		{[]string{"XGROUP CREATE s g $ MKSTREAM"}, "XREADGROUP GROUP g c BLOCK 0 STREAMS s >", []string{"XGROUP SETID s g 0", "XADD s 1 f v"}},
		{[]string{"XGROUP CREATE s g $ MKSTREAM"}, "XREADGROUP GROUP g c BLOCK 50 STREAMS s >", nil},
		{[]string{"XGROUP CREATE s g $ MKSTREAM"}, "XREADGROUP GROUP g c BLOCK 0 STREAMS s >", []string{"FLUSHALL"}},
		{[]string{"XGROUP CREATE s g $ MKSTREAM"}, "XREADGROUP GROUP g c BLOCK 0 STREAMS s >", []string{"SWAPDB 0 1"}},
		{[]string{"XGROUP CREATE s g $ MKSTREAM"}, "XREADGROUP GROUP g c BLOCK 0 STREAMS s >", []string{"MULTI", "DEL s", "XGROUP CREATE s g $ MKSTREAM", "EXEC", "XADD s 1 f v"}},
		{nil, "XREAD BLOCK 0 STREAMS s $", []string{"RENAME x s", "XADD o 1 f v", "RENAME o s"}},
		{[]string{"XGROUP CREATE s g $ MKSTREAM"}, "XREADGROUP GROUP g c BLOCK 0 STREAMS s >", []string{"XGROUP CREATE s g2 0", "XGROUP DESTROY s g2", "XADD s 1 f v"}},
		// The stream expires while no other command runs: the expiry
		// itself unblocks the client with its error.
		{[]string{"XGROUP CREATE s g $ MKSTREAM", "PEXPIRE s 150"}, "XREADGROUP GROUP g c BLOCK 0 STREAMS s >", nil},
	}
	for i, c := range cases {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			want := blockedRun(t, red.Addr, c.setup, c.cmd, c.then, 500*time.Millisecond)
			got := blockedRun(t, sd.Addr, c.setup, c.cmd, c.then, 500*time.Millisecond)
			require.Equal(t, want, got, "%s", c.cmd)
		})
	}
}

// TestStreamBlockedAllServed: every client blocked on a stream is served
// by one XADD, as in Redis.
func TestStreamBlockedAllServed(t *testing.T) {
	for _, addr := range []string{testserver.StartRedis(t).Addr, testserver.Start(t).Addr} {
		b := dialRaw(t, addr)
		_, err := b.do("XADD", "s", "1", "f", "v")
		require.NoError(t, err)
		var cs []*rconn
		for range 3 {
			c := dialRaw(t, addr)
			_, err := c.c.Write(encodeCommand(sp("XREAD BLOCK 0 STREAMS s $")))
			require.NoError(t, err)
			cs = append(cs, c)
		}
		require.Eventually(t, func() bool {
			v, err := b.do("INFO", "clients")
			return err == nil && strings.Contains(v.str, "blocked_clients:3")
		}, 5*time.Second, time.Millisecond)
		_, err = b.do("XADD", "s", "2", "f", "v")
		require.NoError(t, err)
		for _, c := range cs {
			c.c.SetReadDeadline(time.Now().Add(5 * time.Second))
			v, err := readReply(c.br)
			require.NoError(t, err)
			require.Equal(t, "*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n", string(v.raw))
		}
	}
}

// TestStreamTimesWithFakeClock pins the values the comparisons with
// Redis mask: IDs from the clock, delivery and seen times, idle times.
func TestStreamTimesWithFakeClock(t *testing.T) {
	clk := clocktest.NewFake(time.UnixMilli(1_700_000_000_000))
	srv := testserver.Start(t, testserver.WithClock(clk))
	c := dialRaw(t, srv.Addr)
	do := func(want string, args ...string) {
		t.Helper()
		v, err := c.do(args...)
		require.NoError(t, err)
		require.Equal(t, want, string(v.raw), "%q", args)
	}
	do(rbulk("1700000000000-0"), "XADD", "s", "*", "f", "v")
	do(rbulk("1700000000000-1"), "XADD", "s", "*", "f", "v")
	do(rbulk("1700000000000-2"), "XADD", "s", "1700000000000-*", "f", "v")
	do(rbulk("1700000000005-0"), "XADD", "s", "1700000000005-*", "f", "v")
	do(okR, "XGROUP", "CREATE", "s", "g", "0")
	clk.Advance(10 * time.Millisecond)
	do("*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$15\r\n1700000000000-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n", "XREADGROUP", "GROUP", "g", "alice", "COUNT", "1", "STREAMS", "s", ">")
	do(rbulk("1700000000010-0"), "XADD", "s", "*", "f", "v")
	clk.Advance(250 * time.Millisecond)
	do("*1\r\n*4\r\n$15\r\n1700000000000-0\r\n$5\r\nalice\r\n:250\r\n:1\r\n", "XPENDING", "s", "g", "-", "+", "10")
	do("*0\r\n", "XPENDING", "s", "g", "IDLE", "251", "-", "+", "10")
	do("*1\r\n*6\r\n$4\r\nname\r\n$5\r\nalice\r\n$7\r\npending\r\n:1\r\n$4\r\nidle\r\n:250\r\n", "XINFO", "CONSUMERS", "s", "g")
	// XCLAIM IDLE sets the delivery time that far back; TIME sets it.
	do("*1\r\n$15\r\n1700000000000-0\r\n", "XCLAIM", "s", "g", "bob", "100", "1700000000000-0", "IDLE", "40", "JUSTID")
	do("*1\r\n*4\r\n$15\r\n1700000000000-0\r\n$3\r\nbob\r\n:40\r\n:1\r\n", "XPENDING", "s", "g", "-", "+", "10")
	do("*1\r\n$15\r\n1700000000000-0\r\n", "XCLAIM", "s", "g", "bob", "0", "1700000000000-0", "TIME", "1699999999000", "RETRYCOUNT", "7", "JUSTID")
	do("*1\r\n*4\r\n$15\r\n1700000000000-0\r\n$3\r\nbob\r\n:1260\r\n:7\r\n", "XPENDING", "s", "g", "-", "+", "10")
	v, err := c.do("XINFO", "STREAM", "s", "FULL")
	require.NoError(t, err)
	require.Contains(t, string(v.raw), "$3\r\nbob\r\n:1699999999000\r\n:7\r\n") // the group's PEL
	require.Contains(t, string(v.raw), "$9\r\nseen-time\r\n:1700000000260\r\n") // bob, seen by XCLAIM
	require.Contains(t, string(v.raw), "$9\r\nseen-time\r\n:1700000000010\r\n") // alice, by XREADGROUP
	// XAUTOCLAIM takes entries idle at least min-idle-time.
	clk.Advance(time.Second)
	do("*3\r\n$3\r\n0-0\r\n*1\r\n$15\r\n1700000000000-0\r\n*0\r\n", "XAUTOCLAIM", "s", "g", "carol", "2000", "0", "JUSTID")
}
