package resp_test

// DUMP and RESTORE (cmd_dump.go), and MIGRATE from a real redis-server
// into sessiond. Values of every kind go through sessiond and back, and
// across: built on redis-server 7.0.15 (in its compact encodings: intset,
// listpack, skiplist, quicklist, hashtable, LZF-compressed strings),
// DUMPed there and RESTOREd here, and the other way round. RESTORE's
// replies, and the order of its checks, are pinned in RESP2 and RESP3 and
// compared byte for byte with Redis's, as are its keyspace events, its
// effect on WATCH, blocked clients, INFO and OBJECT. Where sessiond
// differs from Redis on purpose the test says so
// (TestRestoreDiffersFromRedis).

import (
	"crypto/sha256"
	"fmt"
	"hash/crc64"
	"math"
	"math/bits"
	"math/rand/v2"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"sessiond/internal/clocktest"
	"sessiond/internal/testserver"
	"sessiond/snapshot"
)

const (
	dmpChecksumR = "-ERR DUMP payload version or checksum are wrong\r\n"
	dmpBadDataR  = "-ERR Bad data format\r\n"
	dmpBusyR     = "-BUSYKEY Target key name already exists.\r\n"
	dmpTTLR      = "-ERR Invalid TTL value, must be >= 0\r\n"
	dmpIdleR     = "-ERR Invalid IDLETIME value, must be >= 0\r\n"
	dmpFreqR     = "-ERR Invalid FREQ value, must be >= 0 and <= 255\r\n"
)

// dmpCRCTable is Redis's CRC-64/Jones (reflected, initial value 0, no
// final xor) as hash/crc64 computes it: that package inverts the CRC
// before and after, so dmpCRC undoes both.
var dmpCRCTable = crc64.MakeTable(bits.Reverse64(0xad93d23594c935a9))

func dmpCRC(p []byte) uint64 { return ^crc64.Update(math.MaxUint64, dmpCRCTable, p) }

// dmpFrame is value (type byte and body) as a DUMP payload of the given
// RDB version, with a correct checksum.
func dmpFrame(version uint16, value []byte) string {
	b := append(slices.Clone(value), byte(version), byte(version>>8))
	crc := dmpCRC(b)
	for i := range 8 {
		b = append(b, byte(crc>>(8*i)))
	}
	return string(b)
}

// dmpPayload is sessiond's DUMP of a record (snapshot.Dump).
func dmpPayload(r *snapshot.Record) string {
	p, err := snapshot.Dump(r)
	if err != nil {
		panic(err)
	}
	return string(p)
}

func dmpBytes(ss ...string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}

var (
	dmpStr  = dmpPayload(&snapshot.Record{Kind: snapshot.KindString, Str: []byte("hello")})
	dmpInt  = dmpPayload(&snapshot.Record{Kind: snapshot.KindString, Str: []byte("12345")})
	dmpList = dmpPayload(&snapshot.Record{Kind: snapshot.KindList, Members: dmpBytes("a", "b", "c")})
	dmpSet  = dmpPayload(&snapshot.Record{Kind: snapshot.KindSet, Members: dmpBytes("x", "y")})
	dmpHash = dmpPayload(&snapshot.Record{Kind: snapshot.KindHash, Fields: dmpBytes("f", "v", "g", "w")})
	dmpZSet = dmpPayload(&snapshot.Record{Kind: snapshot.KindZSet, Members: dmpBytes("m", "n"), Scores: []float64{2, 1.5}})
	// dmpBadCRC is dmpStr with its last checksum byte changed.
	dmpBadCRC = dmpStr[:len(dmpStr)-1] + string(dmpStr[len(dmpStr)-1]^1)
	// Correct footers around values neither server reads. The cut ones
	// lack more than the footer's 10 bytes: Redis reads a value out of
	// the whole payload, footer included (TestRestoreDiffersFromRedis).
	dmpUnknownType = dmpFrame(10, []byte{26, 0})
	dmpEOFType     = dmpFrame(10, []byte{0xFF})
	dmpEmptySet    = dmpFrame(10, []byte{2, 0})
	dmpCutString   = dmpFrame(10, []byte{0, 40, 'a', 'b', 'c'})
	dmpCutSet      = dmpFrame(10, []byte{2, 50, 1, 'a'})
	dmpDupSet      = dmpFrame(10, []byte{2, 2, 1, 'a', 1, 'a'})
	dmpV13         = dmpFrame(13, []byte(dmpStr[:len(dmpStr)-10]))
)

// TestDumpCRC checks the test's checksum against sessiond's payloads and
// a payload Redis 7.0.15 wrote.
func TestDumpCRC(t *testing.T) {
	for _, p := range []string{dmpStr, dmpInt, dmpList, dmpSet, dmpHash, dmpZSet} {
		require.Equal(t, p, dmpFrame(10, []byte(p[:len(p)-10])))
	}
	redis := "\x00\x03007\n\x00rX\xe2{Li\xba\xd9" // DUMP of "007"
	require.Equal(t, redis, dmpFrame(10, []byte("\x00\x03007")))
}

// ---------------------------------------------------------------------------
// Connections and values.

// dmpConn is a raw connection whose I/O errors fail the test.
type dmpConn struct {
	t testing.TB
	c *rconn
}

func dmpDial(t testing.TB, addr string, resp3 bool) *dmpConn {
	t.Helper()
	c := &dmpConn{t: t, c: dialRaw(t, addr)}
	if resp3 {
		v := c.do("HELLO", "3")
		require.Equal(t, byte('%'), v.typ, "HELLO 3: %s", v)
	}
	return c
}

func (c *dmpConn) do(args ...string) rv {
	c.t.Helper()
	v, err := c.c.do(args...)
	require.NoError(c.t, err, "%s", op{args: args})
	return v
}

func (c *dmpConn) raw(args ...string) string {
	c.t.Helper()
	return string(c.do(args...).raw)
}

func (c *dmpConn) ok(args ...string) {
	c.t.Helper()
	require.Equal(c.t, okR, c.raw(args...), "%s", op{args: args})
}

func (c *dmpConn) dump(key string) string {
	c.t.Helper()
	v := c.do("DUMP", key)
	require.Equal(c.t, byte('$'), v.typ, "DUMP %q: %s", key, v)
	require.False(c.t, v.null, "DUMP %q: no key", key)
	return v.str
}

func (c *dmpConn) int(args ...string) int64 {
	c.t.Helper()
	v := c.do(args...)
	require.Equal(c.t, byte(':'), v.typ, "%s: %s", op{args: args}, v)
	n, err := strconv.ParseInt(v.str, 10, 64)
	require.NoError(c.t, err)
	return n
}

// info is one field of INFO section.
func (c *dmpConn) info(section, field string) string {
	c.t.Helper()
	v := c.do("INFO", section)
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(field) + `:(.*)\r$`).FindStringSubmatch(v.str)
	require.NotNil(c.t, m, "no %s in INFO %s", field, section)
	return m[1]
}

func dmpStrs(v rv) []string {
	out := make([]string, len(v.elems))
	for i, e := range v.elems {
		out[i] = e.str
	}
	return out
}

// dmpContent is key's type and whole value in a form that compares
// exactly: set members and hash pairs sorted, sorted sets and lists in
// their order, scores as Redis formats them.
func dmpContent(c *dmpConn, key string) string {
	c.t.Helper()
	typ := c.do("TYPE", key).str
	var parts []string
	switch typ {
	case "string":
		parts = []string{c.do("GET", key).str}
	case "set":
		parts = slices.Sorted(slices.Values(dmpStrs(c.do("SMEMBERS", key))))
	case "hash":
		flat := dmpStrs(c.do("HGETALL", key))
		for i := 0; i+1 < len(flat); i += 2 {
			parts = append(parts, strconv.Quote(flat[i])+"="+strconv.Quote(flat[i+1]))
		}
		slices.Sort(parts)
	case "zset":
		v := c.do("ZRANGE", key, "0", "-1", "WITHSCORES")
		for _, e := range v.elems {
			if len(e.elems) > 0 { // RESP3: [member, score] pairs
				parts = append(parts, dmpStrs(e)...)
			} else {
				parts = append(parts, e.str)
			}
		}
	case "list":
		parts = dmpStrs(c.do("LRANGE", key, "0", "-1"))
	}
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	if n > 64<<10 { // a digest: quoting a megabyte costs more than the rest of the test
		h := sha256.New()
		for _, p := range parts {
			fmt.Fprintf(h, "%d:%s,", len(p), p)
		}
		return fmt.Sprintf("%s of %d parts, %d bytes, sha256 %x", typ, len(parts), n, h.Sum(nil))
	}
	q := make([]string, len(parts))
	for i, p := range parts {
		q[i] = strconv.Quote(p)
	}
	return typ + " " + strings.Join(q, " ")
}

// requireSame compares two long strings, reporting where they part.
func requireSame(t testing.TB, want, got string, msg string, args ...any) {
	t.Helper()
	if want == got {
		return
	}
	i := 0
	for i < len(want) && i < len(got) && want[i] == got[i] {
		i++
	}
	ctx := func(s string) string { return strconv.Quote(s[max(0, i-40):min(len(s), i+80)]) }
	t.Fatalf("%s: differ at byte %d of %d/%d:\n want ...%s\n  got ...%s", fmt.Sprintf(msg, args...), i, len(want), len(got), ctx(want), ctx(got))
}

// dmpValue is a value built by commands, the same on both servers.
type dmpValue struct {
	key  string
	cmds [][]string
	// sameDump: Redis's DUMP of it is byte for byte sessiond's (short
	// strings, integers, incompressible strings, small lists).
	sameDump bool
	// ordered: its reads have one order on both servers (strings, lists,
	// sorted sets, small hashes), so raw replies compare exactly.
	ordered bool
	// local: only for the round trip through sessiond (the cross-server
	// test has one value of each size and form, to stay quick).
	local bool
}

// dmpRandom is n random bytes: a string LZF cannot shorten.
func dmpRandom(rng *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return string(b)
}

func dmpValues() []dmpValue {
	rng := rand.New(rand.NewPCG(7, 8))
	random := func(n int) string { return dmpRandom(rng, n) }
	huge := strings.Repeat("0123456789abcdef", 520) // over 8 KB
	long := strings.Repeat("L", 70)
	var vs []dmpValue
	str := func(key, v string, same bool) {
		vs = append(vs, dmpValue{key: key, cmds: [][]string{{"SET", key, v}}, sameDump: same, ordered: true})
	}
	for _, s := range []string{"", "0", "-128", "32767", "2147483647", "2147483648", "-2147483648", "007", "+1", "-0", "1.5",
		"9223372036854775807", "12345678901234567890", "hello world", "\x00\xff\r\n"} {
		str("str:"+s, s, true)
	}
	str("str:random", random(100), true) // incompressible: Redis writes it plain
	str("str:long", strings.Repeat("session-data;", 20), false)
	str("str:binary", "\x00\x01\xff\r\n"+strings.Repeat("\x00", 50)+random(30), false)
	str("str:1mb", strings.Repeat("ab", 600_000)+"x", false) // LZF on Redis's side
	str("str:1mb-random", random(1_100_000), true)
	vs[len(vs)-1].local = true

	add := func(v dmpValue, cmd ...string) dmpValue {
		v.cmds = append(v.cmds, cmd)
		return v
	}
	args := func(cmd, key string, n int, f func(i int) []string) []string {
		out := []string{cmd, key}
		for i := range n {
			out = append(out, f(i)...)
		}
		return out
	}
	one := func(s string) []string { return []string{s} }
	vs = append(vs,
		add(dmpValue{key: "set:ints"}, "SADD", "set:ints", "1", "2", "3", "-5", "100000", "-5000000000", "0"),
		add(dmpValue{key: "set:strs"}, "SADD", "set:strs", "a", "b", "", "7"),
		add(dmpValue{key: "set:long"}, "SADD", "set:long", long, long+"2", huge, "\x00"),
		dmpValue{key: "set:1000", cmds: [][]string{args("SADD", "set:1000", 1000, func(i int) []string { return one(fmt.Sprintf("member:%d", i)) })}},
		dmpValue{key: "set:600ints", cmds: [][]string{args("SADD", "set:600ints", 600, func(i int) []string { return one(strconv.Itoa(i*977 - 3000)) })}},
		add(dmpValue{key: "hash:small", ordered: true}, "HSET", "hash:small", "a", "1", "b", "2", "name", "value", "n", "-12"),
		add(dmpValue{key: "hash:empty", ordered: true}, "HSET", "hash:empty", "f1", "", "", "", "f2", "x"),
		add(dmpValue{key: "hash:longvalue"}, "HSET", "hash:longvalue", "a", "1", "b", long),
		dmpValue{key: "hash:600", cmds: [][]string{args("HSET", "hash:600", 600, func(i int) []string {
			return []string{fmt.Sprintf("field:%d", i), strconv.Itoa(i)}
		})}},
		add(dmpValue{key: "zset:small", ordered: true}, "ZADD", "zset:small", "1.5", "a", "-3", "b", "inf", "c", "-inf", "d", "-0", "e",
			"0.1", "f", "1e300", "g", "5e-324", "h", "12345", "i"),
		add(dmpValue{key: "zset:long", ordered: true}, "ZADD", "zset:long", "1", long, "2", huge, "-0", "z"),
		dmpValue{key: "zset:300", ordered: true, cmds: [][]string{args("ZADD", "zset:300", 300, func(i int) []string {
			return []string{strconv.FormatFloat(float64(i%17)/7, 'g', -1, 64), fmt.Sprintf("m%03d", i)}
		})}},
		add(dmpValue{key: "list:small", ordered: true, sameDump: true}, "RPUSH", "list:small", "a", "", "7", "-1"),
		add(dmpValue{key: "list:odd", ordered: true}, "RPUSH", "list:odd", "", "", "007", "-0", "9223372036854775807",
			"-9223372036854775808", "9223372036854775808", "\x00\r\n", long, "12"),
		add(dmpValue{key: "list:huge", ordered: true}, "RPUSH", "list:huge", huge, "x", huge+"y", "", huge),
		dmpValue{key: "list:10000", ordered: true, cmds: [][]string{args("RPUSH", "list:10000", 10000, func(i int) []string {
			return one(strconv.Itoa(i*7919 - 40000))
		})}},
		add(add(dmpValue{key: "list:pushed", ordered: true}, "RPUSH", "list:pushed", "a", "b", "c", "d"), "LPUSH", "list:pushed", "z", "y"),
	)
	return vs
}

func dmpBuild(c *dmpConn, vs []dmpValue) {
	c.t.Helper()
	for _, v := range vs {
		for _, cmd := range v.cmds {
			r := c.do(cmd...)
			require.False(c.t, r.isErr(), "%s: %s", op{args: cmd[:min(len(cmd), 3)]}, r)
		}
	}
}

// dmpReads are the raw replies that read key's value whole, in the order
// both servers keep it (for dmpValue.ordered values).
func dmpReads(c *dmpConn, key string) string {
	c.t.Helper()
	switch c.do("TYPE", key).str {
	case "string":
		return c.raw("GET", key)
	case "hash":
		return c.raw("HGETALL", key)
	case "zset":
		return c.raw("ZRANGE", key, "0", "-1", "WITHSCORES")
	case "list":
		return c.raw("LRANGE", key, "0", "-1")
	}
	return c.raw("SCARD", key)
}

// ---------------------------------------------------------------------------
// 1. Round trips through sessiond.

// big reports whether v takes more than 64 KB to build: the tests that
// need not see such values twice skip them.
func (v dmpValue) big() bool {
	n := 0
	for _, cmd := range v.cmds {
		for _, a := range cmd {
			n += len(a)
		}
	}
	return n > 64<<10
}

func TestDumpRestoreRoundTrip(t *testing.T) {
	t.Parallel() // the slowest: large values
	sd := testserver.Start(t)
	c := dmpDial(t, sd.Addr, false)
	c.ok("FLUSHALL")
	vs := dmpValues()
	dmpBuild(c, vs)
	keys := 0
	for _, v := range vs {
		t.Run(v.key, func(t *testing.T) {
			c := &dmpConn{t: t, c: c.c}
			p := c.dump(v.key)
			c.ok("RESTORE", "copy:"+v.key, "0", p)
			requireSame(t, dmpContent(c, v.key), dmpContent(c, "copy:"+v.key), "%s", v.key)
			require.Equal(t, ":-1\r\n", c.raw("PTTL", "copy:"+v.key))
			if v.ordered {
				if !v.big() || c.do("TYPE", v.key).str != "string" { // a string's content is its GET
					requireSame(t, dmpReads(c, v.key), dmpReads(c, "copy:"+v.key), "%s", v.key)
				}
				// The copy dumps to the same bytes: the encoding depends
				// on the value only.
				require.True(t, p == c.dump("copy:"+v.key), "%s: DUMP of the copy differs", v.key)
			}
			require.Equal(t, c.raw("OBJECT", "ENCODING", v.key), c.raw("OBJECT", "ENCODING", "copy:"+v.key), v.key)
			keys += 2
			if v.big() {
				return
			}
			// A relative TTL, an absolute one, and REPLACE.
			keys += 2
			c.ok("RESTORE", "ttl:"+v.key, "100000", p)
			pttl := c.int("PTTL", "ttl:"+v.key)
			require.True(t, pttl > 90_000 && pttl <= 100_000, "%s: PTTL %d", v.key, pttl)
			c.ok("RESTORE", "abs:"+v.key, "4102444800123", p, "ABSTTL")
			require.Equal(t, ":4102444800123\r\n", c.raw("PEXPIRETIME", "abs:"+v.key))
			c.ok("RESTORE", "abs:"+v.key, "0", p, "REPLACE")
			require.Equal(t, ":-1\r\n", c.raw("PTTL", "abs:"+v.key))
			requireSame(t, dmpContent(c, v.key), dmpContent(c, "abs:"+v.key), "%s", v.key)
		})
	}
	require.Equal(t, int64(keys), c.int("DBSIZE"))
}

// ---------------------------------------------------------------------------
// 2. Across servers, both ways.

// TestDumpRestoreCrossServer builds every value on both servers, then
// RESTOREs Redis's DUMP into sessiond and sessiond's into Redis: all four
// hold the same value, and where reads are ordered, reply with the same
// bytes; short strings and small lists dump to the same bytes.
func TestDumpRestoreCrossServer(t *testing.T) {
	t.Parallel() // the slowest: large values
	red := testserver.StartRedis(t)
	sd := testserver.Start(t)
	for _, resp3 := range []bool{false, true} {
		t.Run(fmt.Sprintf("resp3=%v", resp3), func(t *testing.T) {
			r, s := dmpDial(t, red.Addr, resp3), dmpDial(t, sd.Addr, resp3)
			r.ok("FLUSHALL")
			s.ok("FLUSHALL")
			var vs []dmpValue
			for _, v := range dmpValues() {
				if !v.local && (!resp3 || !v.big()) { // the protocol changes only the replies that read
					vs = append(vs, v)
				}
			}
			dmpBuild(r, vs)
			dmpBuild(s, vs)
			for _, v := range vs {
				pr, ps := r.dump(v.key), s.dump(v.key)
				if v.sameDump {
					require.True(t, pr == ps, "%s: Redis DUMPs %q, sessiond %q", v.key, pr[:min(len(pr), 80)], ps[:min(len(ps), 80)])
				}
				s.ok("RESTORE", "from-redis:"+v.key, "0", pr)
				r.ok("RESTORE", "from-sessiond:"+v.key, "0", ps)
				want := dmpContent(r, v.key)
				requireSame(t, want, dmpContent(s, v.key), "%s built on sessiond", v.key)
				requireSame(t, want, dmpContent(s, "from-redis:"+v.key), "%s: Redis's DUMP restored in sessiond", v.key)
				requireSame(t, want, dmpContent(r, "from-sessiond:"+v.key), "%s: sessiond's DUMP restored in Redis", v.key)
				require.Equal(t, r.raw("TYPE", v.key), s.raw("TYPE", "from-redis:"+v.key))
				if v.ordered {
					reads := dmpReads(r, v.key)
					requireSame(t, reads, dmpReads(s, "from-redis:"+v.key), "%s: reads in sessiond of Redis's DUMP", v.key)
					requireSame(t, reads, dmpReads(r, "from-sessiond:"+v.key), "%s: reads in Redis of sessiond's DUMP", v.key)
					// sessiond re-encodes what it restored as it encodes
					// what it built.
					require.True(t, ps == s.dump("from-redis:"+v.key), "%s: DUMP of Redis's value differs", v.key)
				}
				if r.do("TYPE", v.key).str != "set" { // set encodings are named as Redis 7.2 names them (keyspace/object.go)
					enc := r.raw("OBJECT", "ENCODING", "from-sessiond:"+v.key)
					require.Equal(t, enc, s.raw("OBJECT", "ENCODING", "from-redis:"+v.key), "%s", v.key)
					require.Equal(t, enc, r.raw("OBJECT", "ENCODING", v.key), "%s", v.key)
				}
			}
		})
	}
}

// TestDumpAfterRandomWrites writes the same random commands to both
// servers, so that sessiond's values pass through the forms its writes
// leave them in (packed and unpacked hashes and sets, lists of many
// chunks after pops, inserts and trims), and after every few it moves
// each key across both ways and compares. DUMP_LONG=1 runs many more
// rounds; a failure names its seed.
func TestDumpAfterRandomWrites(t *testing.T) {
	t.Parallel()
	red := testserver.StartRedis(t)
	sd := testserver.Start(t)
	r, s := dmpDial(t, red.Addr, false), dmpDial(t, sd.Addr, false)
	r.ok("FLUSHALL")
	s.ok("FLUSHALL")
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 9))
	seed := rng.Uint64()
	rng = rand.New(rand.NewPCG(seed, 9))
	elem := func() string {
		switch rng.IntN(6) {
		case 0:
			return strconv.Itoa(rng.IntN(2000) - 1000)
		case 1:
			return strings.Repeat("x", 60+rng.IntN(10))
		case 2:
			if rng.IntN(8) == 0 { // a list node of its own
				return strings.Repeat("y", 8000+rng.IntN(400))
			}
			return strings.Repeat("y", rng.IntN(200))
		case 3:
			return ""
		}
		return fmt.Sprintf("e%d", rng.IntN(300))
	}
	short := func() string { // a field or member: up to 70 bytes
		e := elem()
		return e[:min(len(e), 70)]
	}
	n := func(k int) string { return strconv.Itoa(rng.IntN(k)) }
	many := func(cmd []string, lo, hi int, f func() []string) []string {
		for range lo + rng.IntN(hi-lo+1) {
			cmd = append(cmd, f()...)
		}
		return cmd
	}
	one := func() []string { return []string{elem()} }
	gens := []func() []string{
		func() []string { return many([]string{"RPUSH", "l"}, 1, 60, one) },
		func() []string { return many([]string{"LPUSH", "l"}, 1, 60, one) },
		func() []string { return []string{"LPOP", "l", n(40)} },
		func() []string { return []string{"RPOP", "l", n(40)} },
		func() []string { return []string{"LTRIM", "l", n(30), strconv.Itoa(-1 - rng.IntN(30))} },
		func() []string { return []string{"LINSERT", "l", "BEFORE", elem(), elem()} },
		func() []string { return []string{"LSET", "l", n(50), elem()} },
		func() []string { return []string{"LREM", "l", strconv.Itoa(rng.IntN(5) - 2), elem()} },
		func() []string {
			return many([]string{"HSET", "h"}, 1, 80, func() []string { return []string{short(), elem()} })
		},
		func() []string { return many([]string{"HDEL", "h"}, 1, 40, one) },
		func() []string { return []string{"HINCRBY", "h", n(1000), n(100)} },
		func() []string { return many([]string{"SADD", "s"}, 1, 150, one) },
		func() []string { return many([]string{"SREM", "s"}, 1, 60, one) },
		func() []string {
			return many([]string{"SADD", "si"}, 1, 300, func() []string { return []string{n(100000)} })
		},
		func() []string {
			return many([]string{"SREM", "si"}, 1, 200, func() []string { return []string{n(100000)} })
		},
		func() []string {
			return many([]string{"ZADD", "z"}, 1, 80, func() []string { return []string{strconv.Itoa(rng.IntN(50) - 25), short()} })
		},
		func() []string { return many([]string{"ZREM", "z"}, 1, 40, one) },
		func() []string { return []string{"ZREMRANGEBYRANK", "z", n(20), n(40)} },
		func() []string { return []string{"ZINCRBY", "z", "0.5", elem()} },
		func() []string { return []string{"APPEND", "str", elem()} },
		func() []string { return []string{"INCRBY", "num", strconv.Itoa(rng.IntN(1<<20) - 1<<19)} },
		func() []string { return []string{"SETRANGE", "str", n(100), elem()} },
	}
	rounds := 8
	if os.Getenv("DUMP_LONG") != "" {
		rounds = 100
	}
	for round := range rounds {
		for _, c := range []*dmpConn{r, s} {
			c.raw("LTRIM", "l", "0", "299") // lists stay small enough to compare often
		}
		for range 16 {
			cmd := gens[rng.IntN(len(gens))]()
			want, got := r.raw(cmd...), s.raw(cmd...)
			require.Equal(t, want, got, "seed %d round %d: %s", seed, round, op{args: cmd[:min(len(cmd), 4)]})
		}
		for _, k := range []string{"l", "h", "s", "si", "z", "str", "num"} {
			if r.int("EXISTS", k) == 0 {
				continue
			}
			pr, ps := r.dump(k), s.dump(k)
			r.ok("RESTORE", "x:"+k, "0", ps, "REPLACE")
			s.ok("RESTORE", "x:"+k, "0", pr, "REPLACE")
			want := dmpContent(r, k)
			requireSame(t, want, dmpContent(s, k), "seed %d round %d: %s", seed, round, k)
			requireSame(t, want, dmpContent(r, "x:"+k), "seed %d round %d: sessiond's DUMP of %s restored in Redis", seed, round, k)
			requireSame(t, want, dmpContent(s, "x:"+k), "seed %d round %d: Redis's DUMP of %s restored in sessiond", seed, round, k)
			if k == "l" || k == "z" {
				require.True(t, ps == s.dump("x:"+k), "seed %d round %d: %s dumps differently once restored", seed, round, k)
			}
		}
	}
}

// TestDumpWhileWriting DUMPs keys while another client changes them in
// every way: DUMP reads a value after it has let go of the stripe lock
// (keyspace/dump.go), so under -race a write in place would show. Each
// payload must restore to a value that holds together: a list that is a
// run of the pushed sequence, a hash whose fields carry their values.
func TestDumpWhileWriting(t *testing.T) {
	sd := testserver.Start(t)
	w, d := dmpDial(t, sd.Addr, false), dmpDial(t, sd.Addr, false)
	w.ok("FLUSHALL")
	done := make(chan struct{})
	go func() {
		defer close(done)
		next := 0
		for i := range 150 {
			var cmds [][]string
			for range 4 {
				cmds = append(cmds, []string{"RPUSH", "l", strconv.Itoa(next)})
				next++
			}
			f := strconv.Itoa(i % 150)
			cmds = append(cmds, []string{"LPOP", "l"}, []string{"LSET", "l", "-1", strconv.Itoa(next - 1)},
				[]string{"HSET", "h", "f" + f, "v" + f}, []string{"HDEL", "h", "f" + strconv.Itoa((i*7)%150)},
				[]string{"SADD", "s", f, "m" + f}, []string{"SREM", "s", strconv.Itoa((i * 3) % 150)},
				[]string{"ZADD", "z", f, "m" + f}, []string{"ZREM", "z", "m" + strconv.Itoa((i*5)%150)},
				[]string{"APPEND", "str", "x"})
			for _, cmd := range cmds { // not require: this is not the test's goroutine
				if r, err := w.c.do(cmd...); err != nil || r.isErr() {
					t.Errorf("%s: %s %v", op{args: cmd}, r, err)
					return
				}
			}
		}
	}()
	for stop := false; !stop; {
		select {
		case <-done:
			stop = true
		default:
		}
		for _, k := range []string{"l", "h", "s", "z", "str"} {
			v := d.do("DUMP", k)
			if v.null {
				continue
			}
			d.ok("RESTORE", "copy", "0", v.str, "REPLACE")
			switch k {
			case "l":
				elems := dmpStrs(d.do("LRANGE", "copy", "0", "-1"))
				for i := 1; i < len(elems); i++ {
					a, _ := strconv.Atoi(elems[i-1])
					b, _ := strconv.Atoi(elems[i])
					require.Equal(t, a+1, b, "list %v", elems)
				}
			case "h":
				flat := dmpStrs(d.do("HGETALL", "copy"))
				for i := 0; i+1 < len(flat); i += 2 {
					require.Equal(t, "v"+flat[i][1:], flat[i+1])
				}
			case "str":
				require.Equal(t, strings.Repeat("x", len(d.do("GET", "copy").str)), d.do("GET", "copy").str)
			}
		}
	}
}

// ---------------------------------------------------------------------------
// 3. MIGRATE from redis-server into sessiond.

// TestMigrateIntoSessiond runs the same MIGRATEs from a redis-server to
// another redis-server and to sessiond: the replies, what the target
// holds and what the source keeps are the same.
func TestMigrateIntoSessiond(t *testing.T) {
	t.Parallel() // the slowest: large values
	src := testserver.StartRedis(t)
	type target struct {
		name, addr, authAddr string
	}
	redT := testserver.StartRedis(t)
	redAuth := testserver.StartRedis(t) // its password is set below: StartRedis must PING it
	dmpDial(t, redAuth.Addr, false).ok("CONFIG", "SET", "requirepass", "sekret")
	sd := testserver.Start(t)
	sdAuth := testserver.Start(t, testserver.WithConfig("requirepass", "sekret"))
	targets := []target{{"redis", redT.Addr, redAuth.Addr}, {"sessiond", sd.Addr, sdAuth.Addr}}
	for _, tg := range targets {
		a := dmpDial(t, tg.authAddr, false)
		a.ok("AUTH", "sekret")
		a.ok("ACL", "SETUSER", "mover", "on", ">mpw", "~*", "+@all")
	}
	sc := dmpDial(t, src.Addr, false)
	huge := strings.Repeat("0123456789abcdef", 520)
	bigList := []string{"RPUSH", "biglist"}
	for i := range 5000 {
		bigList = append(bigList, fmt.Sprintf("element-%d", i))
	}
	bigList = append(bigList, huge, huge+"!")
	srcValues := [][]string{
		{"SET", "s", "hello"}, {"SET", "n", "12345"}, {"PSETEX", "ttl", "100000", "expiring"},
		{"SADD", "set", "1", "2", "3"}, {"SADD", "strset", "a", "b", "c"}, {"HSET", "hash", "f", "v", "g", "w"},
		{"ZADD", "zset", "1", "a", "2.5", "b", "-inf", "c"}, {"RPUSH", "list", "a", "b", "7"}, bigList,
		{"SET", "lzf", strings.Repeat("compressible ", 100)},
		// Incompressible, so that its RESTORE has a bulk over 16 KB, which
		// a server with a password refuses before AUTH.
		{"SET", "rnd", dmpRandom(rand.New(rand.NewPCG(3, 4)), 20_000)},
	}
	keys := []string{"s", "n", "ttl", "set", "strset", "hash", "zset", "list", "biglist", "lzf", "rnd"}
	type outcome struct{ reply, target, source string }
	run := func(t *testing.T, tg target, auth bool, db int, pre [][]string, migrate ...string) outcome {
		t.Helper()
		sc.ok("FLUSHALL")
		for _, cmd := range srcValues {
			if cmd[1] == "biglist" && !slices.Contains(migrate, "biglist") {
				continue // the large list only where it moves
			}
			require.False(t, sc.do(cmd...).isErr())
		}
		addr := tg.addr
		if auth {
			addr = tg.authAddr
		}
		tc := dmpDial(t, addr, false)
		if auth {
			tc.ok("AUTH", "sekret")
		}
		tc.ok("FLUSHALL")
		tc.ok("SELECT", strconv.Itoa(db))
		for _, cmd := range pre {
			require.False(t, tc.do(cmd...).isErr())
		}
		host, port, _ := strings.Cut(addr, ":")
		args := append([]string{"MIGRATE", host, port}, migrate...)
		reply := sc.raw(args...)
		var tgt, srcState []string
		for _, k := range keys {
			tgt = append(tgt, dmpContent(tc, k))
			srcState = append(srcState, dmpContent(sc, k))
			if k == "ttl" && tc.int("EXISTS", k) == 1 {
				pttl := tc.int("PTTL", k)
				require.True(t, pttl > 80_000 && pttl <= 100_000, "%s: PTTL %d", tg.name, pttl)
			}
		}
		if db != 0 {
			tc.ok("SELECT", "0")
			require.Equal(t, ":0\r\n", tc.raw("DBSIZE"), "%s: db 0 must stay empty", tg.name)
		}
		return outcome{reply, strings.Join(tgt, "\n"), strings.Join(srcState, "\n")}
	}
	type scenario struct {
		name    string
		auth    bool
		db      int
		pre     [][]string
		migrate []string
		want    string // pinned reply
	}
	all := append([]string{"", "0", "5000", "KEYS"}, keys...)
	// A failed AUTH leaves a connection as it was, and the source keeps
	// its connection to a target for 10 s: the unauthenticated cases come
	// first. The first has the target close the connection (a bulk over
	// 16 KB before AUTH); the source's next MIGRATE finds it closed and
	// connects again. "auth" sends AUTH and that bulk in one write.
	for _, scn := range []scenario{
		{"one key", false, 0, nil, []string{"s", "0", "5000"}, okR},
		{"one key with a ttl", false, 0, nil, []string{"ttl", "0", "5000"}, okR},
		{"keys", false, 0, nil, all, okR},
		{"keys copy", false, 0, nil, append([]string{"", "0", "5000", "COPY", "KEYS"}, keys...), okR},
		{"large list", false, 0, nil, []string{"biglist", "0", "5000"}, okR},
		{"db 3", false, 3, nil, []string{"", "3", "5000", "COPY", "KEYS", "s", "hash", "biglist"}, okR},
		{"existing key", false, 0, [][]string{{"SET", "hash", "old"}}, all,
			"-ERR Target instance replied with error: BUSYKEY Target key name already exists.\r\n"},
		{"existing key replace", false, 0, [][]string{{"SET", "hash", "old"}, {"SADD", "list", "x"}},
			append([]string{"", "0", "5000", "REPLACE", "KEYS"}, keys...), okR},
		{"replace copy", false, 0, [][]string{{"SET", "s", "old"}}, []string{"s", "0", "5000", "REPLACE", "COPY"}, okR},
		// The SELECT before it is refused first (NOAUTH), and that is the
		// error reported; then the RESTORE's bulk, and the connection.
		{"no auth large", true, 0, nil, []string{"rnd", "0", "5000"},
			"-ERR Target instance replied with error: NOAUTH Authentication required.\r\n"},
		{"no auth", true, 0, nil, []string{"s", "0", "5000"}, "-ERR Target instance replied with error: NOAUTH Authentication required.\r\n"},
		{"wrong password", true, 0, nil, []string{"s", "0", "5000", "AUTH", "nope"},
			"-ERR Target instance replied with error: WRONGPASS invalid username-password pair or user is disabled.\r\n"},
		{"auth", true, 0, nil, append([]string{"", "0", "5000", "AUTH", "sekret", "KEYS"}, keys...), okR},
		{"auth2", true, 2, nil, []string{"", "2", "5000", "COPY", "AUTH2", "mover", "mpw", "KEYS", "biglist", "zset"}, okR},
		{"missing key", false, 0, nil, []string{"nokey", "0", "5000"}, "+NOKEY\r\n"},
	} {
		t.Run(scn.name, func(t *testing.T) {
			want := run(t, targets[0], scn.auth, scn.db, scn.pre, scn.migrate...)
			require.Equal(t, scn.want, want.reply, "Redis to Redis")
			got := run(t, targets[1], scn.auth, scn.db, scn.pre, scn.migrate...)
			require.Equal(t, want.reply, got.reply, "Redis to sessiond")
			requireSame(t, want.target, got.target, "what the target holds")
			requireSame(t, want.source, got.source, "what the source keeps")
		})
	}
}

// ---------------------------------------------------------------------------
// 4. Replies, pinned and compared with Redis.

// dstep is a command on connection conn (0 or 1) and its pinned replies
// ("" = compared with Redis only; r3 "" = as RESP2).
type dstep struct {
	conn   int
	args   []string
	r2, r3 string
}

func ds(r2 string, args ...string) dstep          { return dstep{args: args, r2: r2} }
func ds3(r2, r3 string, args ...string) dstep     { return dstep{args: args, r2: r2, r3: r3} }
func dsOn(conn int, r2 string, a ...string) dstep { return dstep{conn: conn, args: a, r2: r2} }

var dumpCases = []struct {
	name  string
	steps []dstep
}{
	{"dump", []dstep{
		ds3(nilR, "_\r\n", "DUMP", "nokey"), ds(okR, "SET", "s", "hello"), ds(rbulk(dmpStr), "DUMP", "s"),
		ds(okR, "SET", "n", "12345"), ds(rbulk(dmpInt), "DUMP", "n"), ds(":3\r\n", "RPUSH", "l", "a", "b", "c"),
		ds(rbulk(dmpList), "DUMP", "l"), ds(zarity("dump"), "DUMP"), ds(zarity("dump"), "DUMP", "a", "b"),
		ds(rbulk(dmpStr), "EVAL", "return redis.call('DUMP', KEYS[1])", "1", "s"),
		ds3(nilR, "_\r\n", "EVAL", "return redis.call('DUMP', KEYS[1])", "1", "nokey"),
		ds(okR, "SELECT", "1"), ds3(nilR, "_\r\n", "DUMP", "s"), ds(okR, "SELECT", "0"),
	}},
	{"restore arguments", []dstep{
		ds(zarity("restore"), "RESTORE"), ds(zarity("restore"), "RESTORE", "k"), ds(zarity("restore"), "RESTORE", "k", "0"),
		ds(syntaxR, "RESTORE", "k", "0", dmpStr, "bogus"), ds(syntaxR, "RESTORE", "k", "0", dmpStr, "IDLETIME"),
		ds(syntaxR, "RESTORE", "k", "0", dmpStr, "FREQ"), ds(syntaxR, "RESTORE", "k", "0", dmpStr, "IDLETIME", "10", "FREQ", "5"),
		ds(syntaxR, "RESTORE", "k", "0", dmpStr, "FREQ", "5", "IDLETIME", "10"), ds(syntaxR, "RESTORE", "k", "0", dmpStr, "IDLETIME", "0", "FREQ", "0"),
		ds(syntaxR, "RESTORE", "k", "0", dmpStr, "FREQ", "5", "IDLETIME", "-1"), ds(syntaxR, "RESTORE", "k", "0", dmpStr, "REPLACE", "ABSTTL", "x"),
		ds(dmpIdleR, "RESTORE", "k", "0", dmpStr, "IDLETIME", "-1"), ds(notIntR, "RESTORE", "k", "0", dmpStr, "IDLETIME", "abc"),
		ds(notIntR, "RESTORE", "k", "0", dmpStr, "IDLETIME", "1.5"), ds(notIntR, "RESTORE", "k", "0", dmpStr, "IDLETIME", "9223372036854775808"),
		ds(dmpIdleR, "RESTORE", "k", "0", dmpStr, "IDLETIME", "-9223372036854775808"),
		ds(dmpFreqR, "RESTORE", "k", "0", dmpStr, "FREQ", "256"), ds(dmpFreqR, "RESTORE", "k", "0", dmpStr, "FREQ", "-1"),
		ds(notIntR, "RESTORE", "k", "0", dmpStr, "FREQ", "1.5"), ds(notIntR, "RESTORE", "k", "0", dmpStr, "FREQ", "abc"),
		ds(notIntR, "RESTORE", "k", "0", dmpStr, "FREQ", ""), ds(dmpFreqR, "RESTORE", "k", "0", dmpStr, "FREQ", "9223372036854775807"),
		// Left to right: the first bad option decides.
		ds(dmpIdleR, "RESTORE", "k", "0", dmpStr, "IDLETIME", "-1", "bogus"), ds(syntaxR, "RESTORE", "k", "0", dmpStr, "bogus", "IDLETIME", "-1"),
		ds(dmpFreqR, "RESTORE", "k", "0", dmpStr, "REPLACE", "FREQ", "300", "ABSTTL"), ds(":0\r\n", "EXISTS", "k"),
		// Options, in any case and repeated.
		ds(okR, "RESTORE", "k", "0", dmpStr, "replace", "Replace", "absttl", "AbsTtl", "IdleTime", "1", "idletime", "2"),
		ds(okR, "RESTORE", "k", "0", dmpStr, "REPLACE", "freq", "0", "FREQ", "255"), ds(rbulk("hello"), "GET", "k"),
		// Options are checked before the key: a syntax error, not BUSYKEY.
		ds(syntaxR, "RESTORE", "k", "0", dmpStr, "bogus"), ds(dmpIdleR, "RESTORE", "k", "abc", "garbage", "IDLETIME", "-1"),
	}},
	{"busykey first", []dstep{
		// Then the key: BUSYKEY before the TTL and the payload are looked at.
		ds(okR, "SET", "k", "v"), ds(dmpBusyR, "RESTORE", "k", "0", dmpStr), ds(dmpBusyR, "RESTORE", "k", "abc", dmpStr),
		ds(dmpBusyR, "RESTORE", "k", "-1", dmpStr), ds(dmpBusyR, "RESTORE", "k", "0", "garbage"), ds(dmpBusyR, "RESTORE", "k", "0", dmpEmptySet),
		ds(dmpBusyR, "RESTORE", "k", "-1", "garbage", "ABSTTL"), ds(rbulk("v"), "GET", "k"),
		ds(":1\r\n", "HSET", "h", "f", "v"), ds(dmpBusyR, "RESTORE", "h", "0", dmpHash),
		ds(okR, "RESTORE", "k", "0", dmpStr, "REPLACE"), ds(rbulk("hello"), "GET", "k"),
		// A key of another type is replaced whole.
		ds(okR, "RESTORE", "h", "0", dmpList, "REPLACE"), ds("+list\r\n", "TYPE", "h"), ds(zbulks("a", "b", "c"), "LRANGE", "h", "0", "-1"),
		// With REPLACE the TTL and the payload are checked as usual.
		ds(notIntR, "RESTORE", "k", "abc", dmpStr, "REPLACE"), ds(dmpTTLR, "RESTORE", "k", "-1", dmpStr, "REPLACE"),
		ds(dmpChecksumR, "RESTORE", "k", "0", "garbage", "REPLACE"), ds(dmpBadDataR, "RESTORE", "k", "0", dmpEmptySet, "REPLACE"),
		ds(rbulk("hello"), "GET", "k"),
	}},
	{"restore ttl", []dstep{
		ds(notIntR, "RESTORE", "x", "abc", dmpStr), ds(dmpTTLR, "RESTORE", "x", "-1", dmpStr), ds(notIntR, "RESTORE", "x", "1.5", dmpStr),
		ds(notIntR, "RESTORE", "x", "", dmpStr), ds(notIntR, "RESTORE", "x", "9223372036854775808", dmpStr),
		ds(dmpTTLR, "RESTORE", "x", "-9223372036854775808", dmpStr, "ABSTTL"),
		// The TTL is checked before the payload.
		ds(dmpTTLR, "RESTORE", "x", "-1", "garbage"), ds(notIntR, "RESTORE", "x", "abc", "garbage"),
		ds(okR, "RESTORE", "x", "0", dmpStr, "ABSTTL"), ds(":-1\r\n", "PTTL", "x"),
		ds(okR, "RESTORE", "y", "4102444800123", dmpStr, "ABSTTL"), ds(":4102444800123\r\n", "PEXPIRETIME", "y"),
		ds(":4102444800\r\n", "EXPIRETIME", "y"),
		// A deadline in the past stores nothing, and deletes a key REPLACE
		// would have replaced.
		ds(okR, "RESTORE", "z", "1", dmpStr, "ABSTTL"), ds(":0\r\n", "EXISTS", "z"),
		ds(okR, "SET", "w", "v"), ds(okR, "RESTORE", "w", "1", dmpStr, "ABSTTL", "REPLACE"), ds(":0\r\n", "EXISTS", "w"),
		ds(okR, "SET", "w", "v"), ds(dmpBusyR, "RESTORE", "w", "1", dmpStr, "ABSTTL"), ds(":1\r\n", "EXISTS", "w"),
		// now + 9223372036854775807 overflows (Redis: signed overflow, which
		// wraps): a deadline in the past.
		ds(okR, "RESTORE", "o", "9223372036854775807", dmpStr), ds(":0\r\n", "EXISTS", "o"),
		ds(okR, "SET", "o", "v"), ds(okR, "RESTORE", "o", "9223372036854775807", dmpStr, "REPLACE"), ds(":0\r\n", "EXISTS", "o"),
		ds(okR, "RESTORE", "m", "9223372036854775807", dmpStr, "ABSTTL"), ds(":9223372036854775807\r\n", "PEXPIRETIME", "m"),
		ds(okR, "RESTORE", "q", "9000000000000000000", dmpStr), ds(":1\r\n", "EXISTS", "q"),
		// REPLACE without a TTL leaves none.
		ds(okR, "RESTORE", "y", "0", dmpStr, "REPLACE"), ds(":-1\r\n", "PTTL", "y"),
		ds3("*2\r\n$1\r\n0\r\n*0\r\n", "", "SCAN", "0", "TYPE", "hash"),
	}},
	{"restore payloads", []dstep{
		ds(dmpChecksumR, "RESTORE", "k", "0", dmpBadCRC), ds(dmpChecksumR, "RESTORE", "k", "0", ""),
		ds(dmpChecksumR, "RESTORE", "k", "0", "123456789"), ds(dmpChecksumR, "RESTORE", "k", "0", dmpStr[:len(dmpStr)-1]),
		ds(dmpChecksumR, "RESTORE", "k", "0", "x"+dmpStr), ds(dmpChecksumR, "RESTORE", "k", "0", dmpV13),
		ds(dmpBadDataR, "RESTORE", "k", "0", dmpUnknownType), ds(dmpBadDataR, "RESTORE", "k", "0", dmpEOFType),
		ds(dmpBadDataR, "RESTORE", "k", "0", dmpEmptySet), ds(dmpBadDataR, "RESTORE", "k", "0", dmpCutString),
		ds(dmpBadDataR, "RESTORE", "k", "0", dmpCutSet), ds(dmpBadDataR, "RESTORE", "k", "0", dmpDupSet),
		ds(":0\r\n", "EXISTS", "k"),
		ds(okR, "RESTORE", "k", "0", dmpStr), ds(rbulk("hello"), "GET", "k"), ds(okR, "RESTORE", "", "0", dmpInt),
		ds(rbulk("12345"), "GET", ""), ds(okR, "RESTORE", "l", "0", dmpList), ds("+list\r\n", "TYPE", "l"),
		ds(okR, "RESTORE", "s", "0", dmpSet), ds("+set\r\n", "TYPE", "s"), ds(":2\r\n", "SCARD", "s"),
		ds(okR, "RESTORE", "h", "0", dmpHash), ds3(zbulks("f", "v", "g", "w"), "%2\r\n$1\r\nf\r\n$1\r\nv\r\n$1\r\ng\r\n$1\r\nw\r\n", "HGETALL", "h"),
		ds(okR, "RESTORE", "z", "0", dmpZSet), ds3(zbulks("n", "1.5", "m", "2"), "*2\r\n*2\r\n$1\r\nn\r\n,1.5\r\n*2\r\n$1\r\nm\r\n,2\r\n", "ZRANGE", "z", "0", "-1", "WITHSCORES"),
		ds(":6\r\n", "DBSIZE"),
	}},
	{"restore in multi", []dstep{
		ds(okR, "SET", "b", "v"), ds(okR, "MULTI"), ds("+QUEUED\r\n", "RESTORE", "a", "0", dmpStr), ds("+QUEUED\r\n", "RESTORE", "a", "0", dmpStr),
		ds("+QUEUED\r\n", "RESTORE", "b", "abc", "garbage"), ds("+QUEUED\r\n", "RESTORE", "c", "0", "garbage"),
		ds("+QUEUED\r\n", "RESTORE", "d", "abc", dmpStr), ds("+QUEUED\r\n", "RESTORE", "e", "1", dmpStr, "ABSTTL"),
		ds("+QUEUED\r\n", "RESTORE", "f", "0", dmpStr, "bogus"), ds("+QUEUED\r\n", "DUMP", "a"),
		ds("*8\r\n"+okR+dmpBusyR+dmpBusyR+dmpChecksumR+notIntR+okR+syntaxR+rbulk(dmpStr), "EXEC"),
		ds(":0\r\n", "EXISTS", "e"), ds(okR, "MULTI"), ds(zarity("restore"), "RESTORE", "a", "0"),
		ds("-EXECABORT Transaction discarded because of previous errors.\r\n", "EXEC"),
	}},
	{"restore in scripts", []dstep{
		ds(okR, "EVAL", "return redis.call('RESTORE', KEYS[1], 0, ARGV[1])", "1", "k", dmpStr), ds(rbulk("hello"), "GET", "k"),
		ds("", "EVAL", "return redis.call('RESTORE', KEYS[1], 0, ARGV[1])", "1", "k", dmpStr),
		ds(dmpBusyR, "EVAL", "return redis.pcall('RESTORE', KEYS[1], 0, ARGV[1])", "1", "k", dmpStr),
		ds(dmpChecksumR, "EVAL", "return redis.pcall('RESTORE', KEYS[1], 0, ARGV[1])", "1", "x", "garbage"),
		ds(dmpBadDataR, "EVAL", "return redis.pcall('RESTORE', KEYS[1], 0, ARGV[1])", "1", "x", dmpEmptySet),
		ds(rbulk("hello"), "EVAL", "redis.call('RESTORE', KEYS[1], 0, redis.call('DUMP', KEYS[2])); return redis.call('GET', KEYS[1])", "2", "copy", "k"),
		ds(okR, "EVAL", "return redis.call('RESTORE', KEYS[1], 0, ARGV[1], 'REPLACE')", "1", "k", dmpList),
		ds(zbulks("a", "b", "c"), "LRANGE", "k", "0", "-1"),
		ds(okR, "EVAL", "return redis.call('RESTORE', KEYS[1], 4102444800000, ARGV[1], 'ABSTTL')", "1", "t", dmpSet),
		ds(":4102444800\r\n", "EXPIRETIME", "t"),
		ds("", "EVAL_RO", "return redis.call('RESTORE', KEYS[1], 0, ARGV[1])", "1", "ro", dmpStr), ds(":0\r\n", "EXISTS", "ro"),
	}},
	{"watch", []dstep{
		// RESTORE that stores a key, or deletes one, aborts a WATCH; one
		// that changes nothing does not.
		ds(okR, "WATCH", "k"), dsOn(1, okR, "RESTORE", "k", "0", dmpStr), ds(okR, "MULTI"), ds("+QUEUED\r\n", "PING"),
		ds3("*-1\r\n", "_\r\n", "EXEC"),
		ds(okR, "WATCH", "k"), dsOn(1, dmpBusyR, "RESTORE", "k", "0", dmpStr), dsOn(1, notIntR, "RESTORE", "k", "x", dmpStr, "REPLACE"),
		dsOn(1, dmpChecksumR, "RESTORE", "k", "0", "garbage", "REPLACE"), dsOn(1, rbulk(dmpStr), "DUMP", "k"),
		ds(okR, "MULTI"), ds("+QUEUED\r\n", "PING"), ds("*1\r\n+PONG\r\n", "EXEC"),
		ds(okR, "WATCH", "z"), dsOn(1, okR, "RESTORE", "z", "1", dmpStr, "ABSTTL"), dsOn(1, okR, "RESTORE", "z", "9223372036854775807", dmpStr),
		ds(okR, "MULTI"), ds("+QUEUED\r\n", "PING"), ds("*1\r\n+PONG\r\n", "EXEC"),
		ds(okR, "WATCH", "k"), dsOn(1, okR, "RESTORE", "k", "1", dmpStr, "ABSTTL", "REPLACE"), ds(okR, "MULTI"), ds("+QUEUED\r\n", "PING"),
		ds3("*-1\r\n", "_\r\n", "EXEC"), ds(":0\r\n", "EXISTS", "k"),
		ds(okR, "WATCH", "k"), dsOn(1, okR, "RESTORE", "k", "0", dmpStr), dsOn(1, okR, "RESTORE", "k", "0", dmpStr, "REPLACE"),
		ds(okR, "MULTI"), ds("+QUEUED\r\n", "PING"), ds3("*-1\r\n", "_\r\n", "EXEC"),
	}},
}

// runDumpCases runs the cases on addr, checking every pinned reply; if
// other is set, on other too, whose every reply must be addr's.
func runDumpCases(t *testing.T, addr, other string, resp3 bool) {
	for _, tc := range dumpCases {
		t.Run(tc.name, func(t *testing.T) {
			servers := [][2]*dmpConn{{dmpDial(t, addr, resp3), dmpDial(t, addr, resp3)}}
			if other != "" {
				servers = append(servers, [2]*dmpConn{dmpDial(t, other, resp3), dmpDial(t, other, resp3)})
			}
			for _, cs := range servers {
				cs[0].ok("FLUSHALL")
			}
			for i, st := range tc.steps {
				got := servers[0][st.conn].raw(st.args...)
				want := st.r2
				if resp3 && st.r3 != "" {
					want = st.r3
				}
				if want != "" {
					require.Equal(t, want, got, "step %d %s", i, op{args: st.args})
				}
				if other != "" {
					o := servers[1][st.conn].raw(st.args...)
					require.Equal(t, got, o, "step %d %s: sessiond differs", i, op{args: st.args})
				}
			}
		})
	}
}

func TestDumpRestoreRepliesSessiond(t *testing.T) {
	srv := testserver.Start(t)
	t.Run("resp2", func(t *testing.T) { runDumpCases(t, srv.Addr, "", false) })
	t.Run("resp3", func(t *testing.T) { runDumpCases(t, srv.Addr, "", true) })
}

// TestDumpRestoreRepliesRedis proves the pins against Redis and compares
// sessiond's every reply with Redis's.
func TestDumpRestoreRepliesRedis(t *testing.T) {
	red := testserver.StartRedis(t)
	srv := testserver.Start(t)
	t.Run("resp2", func(t *testing.T) { runDumpCases(t, red.Addr, srv.Addr, false) })
	t.Run("resp3", func(t *testing.T) { runDumpCases(t, red.Addr, srv.Addr, true) })
}

// dumpNotifyCommands cause RESTORE's events: "new" (class n) and
// "restore" (g) for a key stored, also when REPLACE replaced one; "del"
// when a deadline in the past deleted the key REPLACE named; nothing for a
// refusal or a deadline in the past with no key; keymiss for DUMP of a
// missing key.
func dumpNotifyCommands() [][]string {
	return [][]string{
		{"RESTORE", "a", "0", dmpStr}, {"RESTORE", "a", "0", dmpList, "REPLACE"}, {"RESTORE", "a", "0", dmpStr},
		{"RESTORE", "b", "1", dmpStr, "ABSTTL"}, {"SET", "c", "v"}, {"RESTORE", "c", "1", dmpStr, "ABSTTL", "REPLACE"},
		{"RESTORE", "d", "9223372036854775807", dmpStr}, {"SET", "e", "v"}, {"RESTORE", "e", "9223372036854775807", dmpStr, "REPLACE"},
		{"RESTORE", "f", "100000", dmpHash}, {"RESTORE", "g", "0", "garbage"}, {"RESTORE", "g", "0", dmpEmptySet},
		{"RESTORE", "g", "abc", dmpStr}, {"DUMP", "nokey"}, {"DUMP", "a"}, {"RESTORE", "a", "0", dmpSet, "REPLACE"},
		{"MULTI"}, {"RESTORE", "m", "0", dmpStr}, {"RESTORE", "m", "0", dmpZSet, "REPLACE"}, {"EXEC"},
		{"EVAL", "return redis.call('RESTORE', KEYS[1], 0, ARGV[1])", "1", "s", dmpStr},
		{"RESTORE", "x", "30", dmpStr}, {"EXPIRED", "x"}, {"RESTORE", "last", "0", dmpStr},
	}
}

func TestRestoreNotificationsMatchRedis(t *testing.T) {
	red := testserver.StartRedis(t)
	sd := testserver.Start(t)
	for _, events := range []string{"KEAnm", "Kgn", "En", "Eg", "Em"} {
		t.Run(events, func(t *testing.T) {
			for _, addr := range []string{red.Addr, sd.Addr} {
				dmpDial(t, addr, false).ok("FLUSHALL")
			}
			want := listNotifyStream(t, red.Addr, events, dumpNotifyCommands())
			got := listNotifyStream(t, sd.Addr, events, dumpNotifyCommands())
			require.Equal(t, strings.Join(want, "\n"), strings.Join(got, "\n"))
			if events == "KEAnm" {
				require.Contains(t, want, "pmessage __key*__:* __keyspace@0__:a new")
				require.Contains(t, want, "pmessage __key*__:* __keyevent@0__:restore a")
				require.Contains(t, want, "pmessage __key*__:* __keyevent@0__:del c")
			}
		})
	}
}

// TestRestoreWakesBlockedClient: RESTORE of a list serves a client blocked
// on the key; of a string it does not, until REPLACE makes it a list.
func TestRestoreWakesBlockedClient(t *testing.T) {
	blkTargets(t, func(t *testing.T, e *blkEnv) {
		for _, proto := range []int{2, 3} {
			e.ctl.sendArgs("FLUSHALL")
			e.ctl.recv()
			b := e.dial(proto)
			b.send("BLPOP l w 5")
			e.waitBlocked(1)
			require.Equal(t, "+OK", blkRender(e.ctl.req("RESTORE", "l", "0", dmpList)))
			require.Equal(t, `["l" "a"]`, b.recv())
			require.Equal(t, `["b" "c"]`, blkRender(e.ctl.req("LRANGE", "l", "0", "-1")))
			if proto == 3 {
				continue
			}
			b.send("BRPOP w 5")
			e.waitBlocked(1)
			require.Equal(t, "+OK", blkRender(e.ctl.req("RESTORE", "w", "0", dmpStr)))
			b.quiet()
			require.Equal(t, "+OK", blkRender(e.ctl.req("RESTORE", "w", "0", dmpList, "REPLACE")))
			require.Equal(t, `["w" "c"]`, b.recv())
			e.waitBlocked(0)
		}
	})
}

// TestRestoreInfoMatchesRedis compares the changes counted for a save
// (rdb_changes_since_last_save), the keyspace counts, keyspace hits and
// misses (DUMP counts a read; RESTORE none), and the command stats.
func TestRestoreInfoMatchesRedis(t *testing.T) {
	red := testserver.StartRedis(t)
	sd := testserver.Start(t)
	type state struct{ dirty, keyspace, hits, misses, cmdstat, dumpstat string }
	// The test server has no snapshot subsystem, so sessiond's INFO says
	// rdb_changes_since_last_save:0; the keyspace's counter is what it
	// would report.
	read := func(c *dmpConn) state {
		dirty := strconv.FormatInt(sd.Keyspace.Dirty(), 10)
		if c.c.c.RemoteAddr().String() == red.Addr {
			dirty = c.info("persistence", "rdb_changes_since_last_save")
		}
		ks := c.do("INFO", "keyspace").str
		ks = regexp.MustCompile(`,avg_ttl=\d+`).ReplaceAllString(ks, "")
		cmd := func(name string) string {
			v := c.info("commandstats", "cmdstat_"+name)
			return regexp.MustCompile(`usec(_per_call)?=[\d.]+,`).ReplaceAllString(v, "")
		}
		return state{dirty, ks, c.info("stats", "keyspace_hits"),
			c.info("stats", "keyspace_misses"), cmd("restore"), cmd("dump")}
	}
	steps := [][]string{
		{"RESTORE", "a", "0", dmpStr}, {"RESTORE", "a", "0", dmpStr}, {"RESTORE", "a", "0", dmpList, "REPLACE"},
		{"RESTORE", "b", "1", dmpStr, "ABSTTL"}, {"SET", "c", "v"}, {"RESTORE", "c", "1", dmpStr, "ABSTTL", "REPLACE"},
		{"RESTORE", "d", "100000", dmpStr}, {"RESTORE", "e", "4102444800000", dmpHash, "ABSTTL"}, {"RESTORE", "f", "0", "bad"},
		{"RESTORE", "f", "abc", dmpStr}, {"RESTORE", "f", "0", dmpStr, "bogus"}, {"RESTORE", "f"}, {"DUMP", "a"}, {"DUMP", "nokey"},
		{"DUMP", "d"}, {"SELECT", "3"}, {"RESTORE", "x", "0", dmpSet}, {"DUMP", "x"}, {"SELECT", "0"},
	}
	var conns []*dmpConn
	for _, addr := range []string{red.Addr, sd.Addr} {
		c := dmpDial(t, addr, false)
		c.ok("FLUSHALL")
		c.ok("CONFIG", "RESETSTAT")
		// Redis has no cmdstat line for a command not called since.
		c.ok("SET", "warm", "v")
		c.raw("DUMP", "warm")
		c.raw("RESTORE", "warm", "0", dmpStr)
		conns = append(conns, c)
	}
	before := []state{read(conns[0]), read(conns[1])}
	for i, st := range steps {
		var now [2]state
		for j, c := range conns {
			c.raw(st...)
			now[j] = read(c)
		}
		var changes [2]int
		for j := range now {
			d, _ := strconv.Atoi(now[j].dirty)
			b, _ := strconv.Atoi(before[j].dirty)
			changes[j], now[j].dirty = d-b, ""
		}
		require.Equal(t, changes[0], changes[1], "step %d %s: changes counted", i, op{args: st[:min(len(st), 3)]})
		require.Equal(t, now[0], now[1], "step %d %s", i, op{args: st[:min(len(st), 3)]})
	}
}

// TestRestoreObjectIdleAndFreq: IDLETIME sets the LRU idle time (under
// an LRU or no policy), FREQ the LFU counter (under an LFU policy); the
// other is ignored. OBJECT reads them as Redis does, including an idle
// time longer than the 24-bit LRU clock has run since it last wrapped.
func TestRestoreObjectIdleAndFreq(t *testing.T) {
	red := testserver.StartRedis(t)
	sd := testserver.Start(t)
	for _, addr := range []string{red.Addr, sd.Addr} {
		c := dmpDial(t, addr, false)
		name := map[bool]string{true: "redis", false: "sessiond"}[addr == red.Addr]
		c.ok("FLUSHALL")
		c.ok("CONFIG", "SET", "maxmemory-policy", "allkeys-lru")
		idle := func(key string, want int64) {
			t.Helper()
			got := c.int("OBJECT", "IDLETIME", key)
			require.True(t, got >= want && got <= want+1, "%s: OBJECT IDLETIME %s is %d, want %d", name, key, got, want)
		}
		c.ok("RESTORE", "i", "0", dmpStr, "IDLETIME", "1000")
		idle("i", 1000)
		c.ok("RESTORE", "i0", "0", dmpStr, "IDLETIME", "0")
		idle("i0", 0)
		c.ok("RESTORE", "f", "0", dmpStr, "FREQ", "100")
		idle("f", 0)
		// The LRU clock counts seconds in 24 bits (Redis's LRU_CLOCK): an
		// idle time past its last wrap makes the clock go below zero,
		// where Redis adds LRU_CLOCK_MAX (2^24-1) once, and
		// estimateObjectIdleTime subtracts it back, so OBJECT IDLETIME
		// gives the idle time asked for.
		clock := time.Now().Unix() & (1<<24 - 1)
		wrap := clock + 5000
		c.ok("RESTORE", "wrap", "0", dmpStr, "IDLETIME", strconv.FormatInt(wrap, 10))
		idle("wrap", wrap)
		c.ok("RESTORE", "w24", "0", dmpStr, "IDLETIME", strconv.Itoa(1<<24))
		idle("w24", 1)
		require.Equal(t, "-ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching "+
			"between policies at runtime LRU and LFU data will take some time to adjust.\r\n", c.raw("OBJECT", "FREQ", "i"))
		c.ok("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu")
		c.ok("RESTORE", "lfu", "0", dmpStr, "FREQ", "100")
		require.Equal(t, ":100\r\n", c.raw("OBJECT", "FREQ", "lfu"), name)
		c.ok("RESTORE", "lfu0", "0", dmpStr, "FREQ", "0")
		require.Equal(t, ":0\r\n", c.raw("OBJECT", "FREQ", "lfu0"), name)
		c.ok("RESTORE", "lfu255", "0", dmpStr, "FREQ", "255")
		require.Equal(t, ":255\r\n", c.raw("OBJECT", "FREQ", "lfu255"), name)
		c.ok("RESTORE", "lfuidle", "0", dmpStr, "IDLETIME", "1000")
		require.Equal(t, ":5\r\n", c.raw("OBJECT", "FREQ", "lfuidle"), name) // LFU_INIT_VAL: a new key
		c.ok("RESTORE", "lfunone", "0", dmpStr)
		require.Equal(t, ":5\r\n", c.raw("OBJECT", "FREQ", "lfunone"), name)
		// REPLACE deletes the key and adds a new one: its counter starts
		// afresh, unless FREQ sets it (where an overwrite, SET, keeps it).
		c.ok("RESTORE", "lfu255", "0", dmpStr, "REPLACE")
		require.Equal(t, ":5\r\n", c.raw("OBJECT", "FREQ", "lfu255"), name)
		c.ok("RESTORE", "lfu", "0", dmpList, "REPLACE", "IDLETIME", "10")
		require.Equal(t, ":5\r\n", c.raw("OBJECT", "FREQ", "lfu"), name)
		c.ok("RESTORE", "lfu", "0", dmpStr, "REPLACE", "FREQ", "42")
		require.Equal(t, ":42\r\n", c.raw("OBJECT", "FREQ", "lfu"), name)
		c.ok("CONFIG", "SET", "maxmemory-policy", "noeviction")
		c.ok("RESTORE", "n", "0", dmpStr, "IDLETIME", "86400")
		idle("n", 86400)
	}
	// Idle times of more than the clock holds (its 24 bits wrap every 194
	// days) read as Redis reads them, which depends on where the clock
	// is: sessiond's answer is between Redis's before and after.
	r, s := dmpDial(t, red.Addr, false), dmpDial(t, sd.Addr, false)
	for _, idle := range []string{"16777215", "16777216", "16777217", "100000000", "9223372036854775", "9223372036854775807"} {
		k := "big:" + idle
		r.ok("RESTORE", k, "0", dmpStr, "IDLETIME", idle)
		s.ok("RESTORE", k, "0", dmpStr, "IDLETIME", idle)
		before := r.int("OBJECT", "IDLETIME", k)
		got := s.int("OBJECT", "IDLETIME", k)
		after := r.int("OBJECT", "IDLETIME", k)
		require.True(t, before <= got && got <= after, "IDLETIME %s: sessiond says %d, Redis %d then %d", idle, got, before, after)
	}
}

// TestRestoreDeadlines: a key RESTORE REPLACE replaced keeps none of its
// old deadline, a key restored with a deadline expires on it (actively,
// with its expired event), and a key whose deadline has passed is not in
// RESTORE's way, as on Redis.
func TestRestoreDeadlines(t *testing.T) {
	red := testserver.StartRedis(t)
	sd := testserver.Start(t)
	var conns, subs []*dmpConn
	for _, addr := range []string{red.Addr, sd.Addr} {
		c := dmpDial(t, addr, false)
		c.ok("FLUSHALL")
		c.ok("CONFIG", "SET", "notify-keyspace-events", "Exg")
		sub := dmpDial(t, addr, false)
		sub.do("SUBSCRIBE", "__keyevent@0__:expired")
		conns, subs = append(conns, c), append(subs, sub)
	}
	both := func(want string, args ...string) {
		t.Helper()
		for i, c := range conns {
			require.Equal(t, want, c.raw(args...), "server %d: %s", i, op{args: args})
		}
	}
	both(okR, "SET", "short", "v", "PX", "40")
	both(okR, "RESTORE", "short", "100000", dmpStr, "REPLACE")
	both(okR, "SET", "gone", "v", "PX", "1")
	both(okR, "RESTORE", "long", "0", dmpStr)
	both(":1\r\n", "PEXPIRE", "long", "100000")
	both(okR, "RESTORE", "long", "40", dmpList, "REPLACE")
	both(okR, "RESTORE", "plain", "0", dmpStr)
	both(":1\r\n", "PEXPIRE", "plain", "40")
	both(okR, "RESTORE", "plain", "0", dmpSet, "REPLACE")
	for i, sub := range subs {
		// "gone" (1 ms) and "long" (40 ms) expire; "short" and "plain"
		// lost their 40 ms deadlines to RESTORE REPLACE.
		var got []string
		for range 2 {
			sub.c.c.SetDeadline(time.Now().Add(5 * time.Second))
			v, err := readReply(sub.c.br)
			require.NoError(t, err, "server %d", i)
			got = append(got, v.elems[2].str)
		}
		slices.Sort(got)
		require.Equal(t, []string{"gone", "long"}, got, "server %d", i)
	}
	time.Sleep(60 * time.Millisecond)
	both(":1\r\n", "EXISTS", "short")
	both(":1\r\n", "EXISTS", "plain")
	both(":-1\r\n", "PTTL", "plain")
	both(":0\r\n", "EXISTS", "long")
	both(okR, "SET", "lazy", "v", "PX", "1")
	time.Sleep(5 * time.Millisecond)
	both(okR, "RESTORE", "lazy", "0", dmpStr)
	both(rbulk("hello"), "GET", "lazy")
}

// ---------------------------------------------------------------------------
// Differences from Redis 7.0.15, on purpose.

// TestRestoreDiffersFromRedis pins where sessiond's RESTORE answers
// otherwise than Redis 7.0.15, and why.
func TestRestoreDiffersFromRedis(t *testing.T) {
	red := testserver.StartRedis(t)
	sd := testserver.Start(t)
	r, s := dmpDial(t, red.Addr, false), dmpDial(t, sd.Addr, false)
	body := dmpStr[:len(dmpStr)-10]
	// RDB versions 11 and 12 (Redis 7.2, 7.4): Redis 7.0 refuses them;
	// sessiond reads them, so that keys move from newer Redis.
	for _, v := range []uint16{11, 12} {
		p := dmpFrame(v, []byte(body))
		require.Equal(t, dmpChecksumR, r.raw("RESTORE", "k", "0", p))
		s.ok("RESTORE", "k", "0", p, "REPLACE")
	}
	// A stream moves like any value (stream_persist_test.go).
	r.raw("XADD", "st", "1-1", "f", "v")
	stream := r.dump("st")
	require.Equal(t, okR, s.raw("RESTORE", "st", "0", stream))
	require.Equal(t, r.raw("XRANGE", "st", "-", "+"), s.raw("XRANGE", "st", "-", "+"))
	// Redis reads the value out of the whole payload, footer included: a
	// value cut short by up to 10 bytes takes the footer's bytes as its
	// own (here, 10 zero bytes are an empty string of version 0 whose
	// checksum is 0). sessiond reads the value up to the footer.
	zeros := strings.Repeat("\x00", 10)
	require.Equal(t, okR, r.raw("RESTORE", "z", "0", zeros))
	require.Equal(t, rbulk(""), r.raw("GET", "z"))
	require.Equal(t, dmpBadDataR, s.raw("RESTORE", "z", "0", zeros))
	cut := dmpFrame(10, []byte{0, 5, 'a', 'b', 'c'})
	require.Equal(t, okR, r.raw("RESTORE", "cut", "0", cut))
	require.Equal(t, rbulk("abc\n\x00"), r.raw("GET", "cut"))
	require.Equal(t, dmpBadDataR, s.raw("RESTORE", "cut", "0", cut))
}

// TestRestoreBusykeyTouchesTheKey: RESTORE's BUSYKEY check looks the key
// up as Redis's lookupKeyWrite does, which counts as an access: OBJECT
// IDLETIME reads 0 after it (helper-50 saw the old idle time kept).
func TestRestoreBusykeyTouchesTheKey(t *testing.T) {
	clk := clocktest.NewFake(time.UnixMilli(1_700_000_000_000))
	s := testserver.Start(t, testserver.WithClock(clk))
	c := dialRaw(t, s.Addr)
	_, err := c.do("SET", "k", "v")
	require.NoError(t, err)
	clk.Advance(5 * time.Second)
	v, err := c.do("OBJECT", "IDLETIME", "k")
	require.NoError(t, err)
	require.Equal(t, ":5\r\n", string(v.raw))
	v, err = c.do("RESTORE", "k", "0", "x")
	require.NoError(t, err)
	require.Equal(t, "-BUSYKEY Target key name already exists.\r\n", string(v.raw))
	v, err = c.do("OBJECT", "IDLETIME", "k")
	require.NoError(t, err)
	require.Equal(t, ":0\r\n", string(v.raw))
}
