package resp_test

// The differential test: seeded random command sequences are sent to an
// in-process sessiond and to a real redis-server, and the raw reply bytes
// are compared. Where Redis is nondeterministic (SPOP, SRANDMEMBER,
// RANDOMKEY, set and key orders, SCAN cursors, TTLs that move with the
// clock) replies are compared as multisets or by invariant.
//
//	go test ./resp/ -run TestDiffRedis -v                 # default: quick
//	DIFF_SEED=123 go test ./resp/ -run TestDiffRedis      # replay a seed
//	go test ./resp/ -run TestDiffRedis -args -seed=123    # the same
//	DIFF_LONG=1 go test ./resp/ -run TestDiffRedis        # many more sequences
//
// Also: DIFF_SEQS and DIFF_CMDS (sequences per protocol, commands per
// sequence), DIFF_HISTORY (commands shown before a difference, default
// 15), DIFF_PARANOID=1 (DBSIZE after every command, to find the command
// that left an expired key behind), DIFF_ZLEX_LISTPACK=1 (also send lex
// ranges over sorted sets with mixed scores, where Redis's answer is
// unspecified and sessiond's differs; diff_zset_test.go).
//
// Each sequence starts from FLUSHALL with two fresh connections per server
// (the second one makes WATCH meaningful), in RESP2 and then in RESP3
// (HELLO 3 first). Some steps are pipelined batches that mix RESP and
// inline commands. After each sequence every database is compared in
// full: keys, types, values and PTTLs.
//
// The first differing command of a sequence is reported with both replies
// quoted, the commands that led to it, and the seed.

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"sessiond/internal/testserver"
)

var paranoid = os.Getenv("DIFF_PARANOID") != ""

var diffSeed = flag.Int64("seed", 0, "seed for TestDiffRedis (default: $DIFF_SEED, else the time)")

// ---------------------------------------------------------------------------
// A small RESP reader that returns the exact bytes of one reply.

// rv is one parsed reply. raw is the exact bytes it was read from.
type rv struct {
	typ   byte // + - : $ * _ , # ( = % ~ >
	str   string
	null  bool // $-1, *-1 or _
	elems []rv // aggregates; maps are flattened key, value, key, value...
	raw   []byte
}

func (v rv) isErr() bool    { return v.typ == '-' }
func (v rv) isAgg() bool    { return strings.IndexByte("*~>%", v.typ) >= 0 && !v.null }
func (v rv) String() string { return strconv.Quote(string(v.raw)) }

func readReply(br *bufio.Reader) (rv, error) {
	var raw []byte
	return readReplyInto(br, &raw)
}

func readLine(br *bufio.Reader, raw *[]byte) (string, error) {
	line, err := br.ReadString('\n')
	*raw = append(*raw, line...)
	if err != nil {
		return "", err
	}
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return "", fmt.Errorf("malformed RESP line %q", line)
	}
	return line[:len(line)-2], nil
}

func readReplyInto(br *bufio.Reader, raw *[]byte) (rv, error) {
	start := len(*raw)
	line, err := readLine(br, raw)
	if err != nil {
		return rv{}, err
	}
	v := rv{typ: line[0]}
	body := line[1:]
	switch v.typ {
	case '+', '-', ':', ',', '#', '(':
		v.str = body
	case '_':
		v.null = true
	case '$', '=', '!':
		n, err := strconv.Atoi(body)
		if err != nil {
			return rv{}, fmt.Errorf("bad length in %q", line)
		}
		if n < 0 {
			v.null = true
			break
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(br, buf); err != nil {
			return rv{}, err
		}
		*raw = append(*raw, buf...)
		if buf[n] != '\r' || buf[n+1] != '\n' {
			return rv{}, fmt.Errorf("bulk not terminated by CRLF: %q", buf)
		}
		v.str = string(buf[:n])
	case '*', '~', '>', '%', '|':
		n, err := strconv.Atoi(body)
		if err != nil {
			return rv{}, fmt.Errorf("bad length in %q", line)
		}
		if n < 0 {
			v.null = true
			break
		}
		if v.typ == '%' || v.typ == '|' {
			n *= 2
		}
		for range n {
			e, err := readReplyInto(br, raw)
			if err != nil {
				return rv{}, err
			}
			v.elems = append(v.elems, e)
		}
	default:
		return rv{}, fmt.Errorf("unknown RESP type in %q", line)
	}
	v.raw = slices.Clone((*raw)[start:])
	return v, nil
}

// rconn is one raw RESP connection.
type rconn struct {
	c  net.Conn
	br *bufio.Reader
}

func dialRaw(t testing.TB, addr string) *rconn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return &rconn{c: c, br: bufio.NewReader(c)}
}

// encodeCommand writes args as a RESP array of bulk strings.
func encodeCommand(args []string) []byte {
	b := fmt.Appendf(nil, "*%d\r\n", len(args))
	for _, a := range args {
		b = fmt.Appendf(b, "$%d\r\n%s\r\n", len(a), a)
	}
	return b
}

func (c *rconn) do(args ...string) (rv, error) {
	c.c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.c.Write(encodeCommand(args)); err != nil {
		return rv{}, err
	}
	return readReply(c.br)
}

func (c *rconn) close() { c.c.Close() }

// ---------------------------------------------------------------------------
// How a command's replies are compared.

type cmpKind int

const (
	kExact      cmpKind = iota
	kUnordered          // an aggregate: same type and length, elements as a multiset
	kTTL                // an integer: negative values exactly, others within 1
	kPTTL               // an integer: negative values exactly, others within pttlTolerance ms
	kSpop               // SPOP key [count]: by invariant against the set before
	kSrand              // SRANDMEMBER key [count]: by invariant against the set before
	kRandomkey          // RANDOMKEY: by invariant against the keys before
	kScan               // SCAN 0 ...: iterated to completion on both, keys as sets
	kSscan              // SSCAN key 0 ...: iterated to completion on both, members as sets
	kShape              // the same reply type only (HELLO, CLIENT ...)
	kExpiretime         // EXPIRETIME: as kTTL, and consistent with PEXPIRETIME on each server
	kTTLRounded         // TTL: as kTTL, and between the rounded PTTLs just before and after on each server
	kDBSize             // DBSIZE: may count expired keys not yet reclaimed, on either server (as Redis documents)
)

// pttlTolerance bounds the difference between the two servers' millisecond
// TTLs: the same relative deadline is set a few milliseconds apart.
const pttlTolerance = 1000

// op is one generated command.
type op struct {
	args []string
	kind cmpKind
	// afterSet is a key SET with a deadline already in the past: it is
	// reclaimed right after with a no-op write so that DBSIZE agrees (Redis
	// reclaims such keys in the background, sessiond's test server lazily).
	afterSet string
}

func (o op) String() string {
	q := make([]string, len(o.args))
	for i, a := range o.args {
		q[i] = a
		if a == "" || strings.ContainsAny(a, " \"\\\r\n\x00\xff") {
			q[i] = strconv.Quote(a)
		}
	}
	return strings.Join(q, " ")
}

// ---------------------------------------------------------------------------
// The generator.

var (
	diffKeys    = []string{"a", "b", "c", "s:1", "s:2", "s:10", "u:1", "u:[x]*"}
	diffMembers = []string{"m1", "m2", "m3", "m4", "1", "2", "10", "-3"}
	diffValues  = []string{"v", "hello", "10", "-5", "3.5", "", "0", "9223372036854775807", "-9223372036854775808",
		"1e3", "x y", "\x00\xff\r\n", "abc", "20", "1.5", "0.1", " 7", "007"}
	diffPatterns = []string{"*", "s:*", "s:?", "u:[0-9]", "[ab]", "*1*", "nomatch", "s:1*", "[^a]*", "u:\\x", "?", "*:*", "S:*",
		"u:\\[x\\]\\*", "u:[[]x]*", "u:[\\[]*", "[a-c]", "[c-a]", "[^a-b]", "s:[", "s:[1", "[", "\\", "*\\", "a\\", "[]a]", "[^]", "[a-]",
		"s:[0-9][0-9]", "*[*]", "u:?x?*", "s:1?", "**1", "?:*0", "[\\a]", "[a\\-c]*"}
)

type gen struct {
	r     *rand.Rand
	baseS int64 // Unix seconds when the sequence started
	used  map[int]bool
}

func newGen(r *rand.Rand) *gen {
	return &gen{r: r, baseS: time.Now().Unix(), used: map[int]bool{}}
}

func (g *gen) n(k int) int           { return g.r.IntN(k) }
func (g *gen) chance(p float64) bool { return g.r.Float64() < p }
func (g *gen) pick(xs []string) string {
	return xs[g.r.IntN(len(xs))]
}

// cs varies the case of a command name or option, as clients do.
func (g *gen) cs(s string) string {
	switch x := g.r.IntN(10); {
	case x < 5:
		return strings.ToUpper(s)
	case x < 8:
		return strings.ToLower(s)
	default:
		b := []byte(s)
		for i := range b {
			if g.chance(0.5) {
				b[i] = strings.ToUpper(string(b[i]))[0]
			} else {
				b[i] = strings.ToLower(string(b[i]))[0]
			}
		}
		return string(b)
	}
}

func (g *gen) key() string {
	if g.chance(0.02) {
		return g.pick([]string{"", "\x00k", "k\r\n"}) // odd but valid key names
	}
	return g.pick(diffKeys)
}

func (g *gen) member() string {
	if g.chance(0.02) {
		return g.pick([]string{"", "\x00", strings.Repeat("m", 100)})
	}
	return g.pick(diffMembers)
}

func (g *gen) value() string {
	if g.chance(0.01) {
		return strings.Repeat("0123456789", 2000)
	}
	return g.pick(diffValues)
}

func (g *gen) keys(lo, hi int) []string {
	out := make([]string, lo+g.n(hi-lo+1))
	for i := range out {
		out[i] = g.key()
	}
	return out
}

func (g *gen) members(lo, hi int) []string {
	out := make([]string, lo+g.n(hi-lo+1))
	for i := range out {
		out[i] = g.member()
	}
	return out
}

var badInts = []string{"abc", "1.5", "", "01", "+1", " 1", "9223372036854775808", "-9223372036854775809", "0x10", "-0", "1e3"}

// int returns a small integer, sometimes an extreme or invalid one.
func (g *gen) int(lo, hi int) string {
	switch x := g.n(100); {
	case x < 85:
		return strconv.Itoa(lo + g.n(hi-lo+1))
	case x < 90:
		return g.pick([]string{"9223372036854775807", "-9223372036854775808", "-1", "0"})
	default:
		return g.pick(badInts)
	}
}

// unique returns a number in [10, 99999] not returned before in this
// sequence, so that no two deadlines set in a sequence are within seconds
// of each other (GT and LT then decide the same way on both servers).
func (g *gen) unique() int64 {
	for {
		k := 10 + g.n(99990)
		if !g.used[k] {
			g.used[k] = true
			return int64(k)
		}
	}
}

var badTTLs = []string{"abc", "1.5", "", "9223372036854775807", "9223372036854775", "-9223372036854775808", "01"}

// ttl returns an expire argument for unit ("ex", "px", "exat", "pxat").
// Valid deadlines are tens of seconds or more away; past and zero ones are
// produced when past is set.
func (g *gen) ttl(unit string, past bool) string {
	if past && g.chance(0.25) {
		switch unit {
		case "ex", "px":
			return g.pick([]string{"0", "-1", "-100"})
		case "exat":
			return g.pick([]string{"1", strconv.FormatInt(g.baseS-1000, 10), "0", "-1"})
		default:
			return g.pick([]string{"1", strconv.FormatInt(g.baseS*1000-5000, 10), "0", "-1"})
		}
	}
	if g.chance(0.07) {
		return g.pick(badTTLs)
	}
	k := g.unique() * 10
	switch unit {
	case "ex":
		return strconv.FormatInt(k, 10)
	case "px":
		return strconv.FormatInt(k*1000, 10)
	case "exat":
		return strconv.FormatInt(g.baseS+k+5, 10)
	default:
		return strconv.FormatInt((g.baseS+k+5)*1000+int64(g.n(1000)), 10)
	}
}

// db returns a database number, mostly 0-2.
func (g *gen) db() string {
	if g.chance(0.9) {
		return strconv.Itoa(g.n(3))
	}
	return g.pick([]string{"15", "16", "-1", "abc", "1.0", "4294967296", ""})
}

// cmdGen generates one command; inMulti says the client is queueing.
type cmdGen struct {
	weight int
	fn     func(g *gen, inMulti bool) op
}

// simpleGen makes a generator of one kind from a function of the generator.
func simpleGen(kind cmpKind, f func(g *gen) []string) func(*gen, bool) op {
	return func(g *gen, _ bool) op { return op{args: f(g), kind: kind} }
}

// argv flattens strings and string slices into one argument list.
func argv(parts ...any) []string {
	var out []string
	for _, p := range parts {
		switch p := p.(type) {
		case string:
			out = append(out, p)
		case []string:
			out = append(out, p...)
		}
	}
	return out
}

func (g *gen) genSet(inMulti bool) op {
	args := []string{g.cs("set"), g.key(), g.value()}
	past := false
	nopt := g.n(4)
	for range nopt {
		switch x := g.n(10); {
		case x < 1:
			args = append(args, g.cs("nx"))
		case x < 2:
			args = append(args, g.cs("xx"))
		case x < 4:
			args = append(args, g.cs("get"))
		case x < 5:
			args = append(args, g.cs("keepttl"))
		case x < 9:
			unit := g.pick([]string{"ex", "px", "exat", "pxat"})
			v := g.ttl(unit, !inMulti)
			if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 &&
				(unit == "exat" && n < g.baseS || unit == "pxat" && n < g.baseS*1000) {
				past = true
			}
			args = append(args, g.cs(unit), v)
		default:
			args = append(args, g.pick([]string{g.cs("persist"), g.cs("ex"), "bogus", g.cs("px")}))
		}
	}
	o := op{args: args}
	if past {
		o.afterSet = args[1]
	}
	return o
}

func (g *gen) genGetex(inMulti bool) op {
	args := []string{g.cs("getex"), g.key()}
	for range g.n(3) {
		if g.chance(0.25) {
			args = append(args, g.cs("persist"))
			continue
		}
		if g.chance(0.1) {
			args = append(args, g.pick([]string{"bogus", g.cs("keepttl"), g.cs("ex")}))
			continue
		}
		unit := g.pick([]string{"ex", "px", "exat", "pxat"})
		args = append(args, g.cs(unit), g.ttl(unit, true))
	}
	return op{args: args}
}

func (g *gen) genExpire(_ bool) op {
	name := g.pick([]string{"expire", "pexpire", "expireat", "pexpireat"})
	unit := map[string]string{"expire": "ex", "pexpire": "px", "expireat": "exat", "pexpireat": "pxat"}[name]
	args := []string{g.cs(name), g.key(), g.ttl(unit, true)}
	switch x := g.n(10); {
	case x < 5:
	case x < 9:
		args = append(args, g.cs(g.pick([]string{"nx", "xx", "gt", "lt"})))
	default:
		for range 1 + g.n(2) {
			args = append(args, g.cs(g.pick([]string{"nx", "xx", "gt", "lt", "foo", "foo\r\n", "\r\nfoo", "a\x00b", "a\nb"})))
		}
	}
	return op{args: args}
}

func (g *gen) genScan(_ bool) op {
	args := []string{g.cs("scan"), "0"}
	if g.chance(0.05) {
		args[1] = g.pick([]string{"abc", "", "1.5", " 1", "99999999999999999999", "+0", "-"})
	}
	for range g.n(3) {
		switch g.n(7) {
		case 0, 1:
			args = append(args, g.cs("match"), g.pick(diffPatterns))
		case 2, 3:
			args = append(args, g.cs("count"), g.pick([]string{"1", "2", "5", "10", "100", "0", "-1", "abc"}))
		case 4, 5:
			args = append(args, g.cs("type"), g.pick([]string{"string", "set", "SET", "hash", "none", "foo"}))
		default:
			args = append(args, g.pick([]string{"bogus", g.cs("match"), g.cs("count")}))
		}
	}
	return op{args: args, kind: kScan}
}

func (g *gen) genSscan(_ bool) op {
	args := []string{g.cs("sscan"), g.key(), "0"}
	if g.chance(0.05) {
		// Not "-1": Redis 7.0 keeps small sets of strings in a hash table,
		// where a nonzero cursor starts mid-table.
		args[2] = g.pick([]string{"abc", "", " 1", "99999999999999999999", "0\x00"})
	}
	for range g.n(3) {
		switch g.n(5) {
		case 0, 1:
			args = append(args, g.cs("match"), g.pick([]string{"*", "m*", "1*", "?", "[m1]*", "x"}))
		case 2, 3:
			args = append(args, g.cs("count"), g.pick([]string{"1", "2", "10", "0", "-1", "abc"}))
		default:
			args = append(args, g.pick([]string{"bogus", g.cs("type"), g.cs("count")}))
		}
	}
	return op{args: args, kind: kSscan}
}

func (g *gen) genSpop(inMulti bool) op {
	args := []string{g.cs("spop"), g.key()}
	if inMulti {
		// Only deterministic pops inside a transaction: everything, or nothing.
		args = append(args, g.pick([]string{"100", "0", "-1", "abc"}))
		return op{args: args, kind: kUnordered}
	}
	if g.chance(0.6) {
		args = append(args, g.int(0, 5))
		if g.chance(0.05) {
			args = append(args, "extra")
		}
	}
	return op{args: args, kind: kSpop}
}

func (g *gen) genSrand(_ bool) op {
	args := []string{g.cs("srandmember"), g.key()}
	if g.chance(0.7) {
		args = append(args, g.pick([]string{"0", "1", "2", "3", "10", "-1", "-3", "-10", "abc", "-9223372036854775808"}))
		if g.chance(0.05) {
			args = append(args, "extra")
		}
	}
	return op{args: args, kind: kSrand}
}

var incrFloats = []string{"1", "1.5", "-0.25", "0.1", "10", "1e2", "3.0e-2", "-3", "0", "abc", "", "inf", "-inf", "nan",
	" 1", "1 ", "0x10", "5.0", "+2", "1e400", "-1e400", "1.7976931348623157e308", "100000000000000000"}

func diffGenerators() []cmdGen {
	return append([]cmdGen{
		// connection
		{2, simpleGen(kExact, func(g *gen) []string {
			return argv(g.cs("ping"), []string{"hi", "a b", ""}[:g.n(3)])
		})},
		{1, simpleGen(kExact, func(g *gen) []string { return argv(g.cs("echo"), g.value()) })},
		{3, simpleGen(kExact, func(g *gen) []string { return argv(g.cs("select"), g.db()) })},
		{1, simpleGen(kExact, func(g *gen) []string {
			switch g.n(5) {
			case 0:
				return argv(g.cs("client"), g.cs("setname"), g.pick([]string{"conn1", "", "a b", "x"}))
			case 1:
				return argv(g.cs("client"), g.cs("getname"))
			case 2:
				return argv(g.cs("client"), g.pick([]string{"bogus", "setname"}))
			case 3:
				return argv(g.cs("client"), g.cs("no-evict"), g.pick([]string{"on", "off", "maybe"}))
			}
			return argv(g.cs("client"))
		})},
		{1, func(g *gen, _ bool) op {
			switch g.n(9) {
			case 0:
				return op{args: argv(g.cs("hello"), g.pick([]string{"4", "1", "abc", "-1", "", "3.0"})), kind: kShape}
			case 1:
				return op{args: argv(g.cs("hello"), g.pick([]string{"2", "3"}), g.cs(g.pick([]string{"setname", "auth", "bogus"}))), kind: kShape}
			case 2:
				return op{args: argv(g.cs("hello"), g.pick([]string{"2", "3"}), g.cs("setname"), g.pick([]string{"n1", "a b", ""})), kind: kShape}
			case 3:
				return op{args: argv(g.cs("hello"), g.pick([]string{"2", "3"}), g.cs("auth"), g.pick([]string{"default", "nobody"}), "pw"), kind: kShape}
			case 4:
				return op{args: argv(g.cs("auth"), []string{g.pick([]string{"default", "nobody"}), "pw", "x"}[:g.n(4)])}
			case 5:
				return op{args: argv(g.cs(g.pick([]string{"info", "time", "lastsave"}))), kind: kShape}
			case 6:
				return op{args: argv(g.cs("client"), g.cs(g.pick([]string{"id", "info", "list"}))), kind: kShape}
			case 7:
				return op{args: argv(g.cs("reset"), []string{"x"}[:g.n(2)])}
			}
			return op{args: argv(g.cs("info"), g.pick([]string{"server", "keyspace", "bogus", "all", "default"})), kind: kShape}
		}},
		{2, simpleGen(kExact, func(g *gen) []string {
			return argv(g.pick([]string{"nosuchcmd", "GETT", "s add", "xyzzy", "a\r\nb", "x\x00y", "\xff"}), []string{g.key(), g.value(), "x\ny"}[:g.n(4)])
		})},
		// strings
		{10, (*gen).genSet},
		{3, simpleGen(kExact, func(g *gen) []string {
			if g.chance(0.5) {
				return argv(g.cs("setex"), g.key(), g.ttl("ex", true), g.value())
			}
			return argv(g.cs("psetex"), g.key(), g.ttl("px", true), g.value())
		})},
		{2, simpleGen(kExact, func(g *gen) []string { return argv(g.cs("setnx"), g.key(), g.value()) })},
		{3, (*gen).genGetex},
		{2, simpleGen(kExact, func(g *gen) []string { return argv(g.cs("getdel"), g.key()) })},
		{2, simpleGen(kExact, func(g *gen) []string { return argv(g.cs("getset"), g.key(), g.value()) })},
		{6, simpleGen(kExact, func(g *gen) []string { return argv(g.cs("get"), g.key()) })},
		{3, simpleGen(kExact, func(g *gen) []string { return argv(g.cs("mget"), g.keys(1, 4)) })},
		{2, simpleGen(kExact, func(g *gen) []string {
			name := g.pick([]string{"mset", "msetnx"})
			args := []string{g.cs(name)}
			for range 1 + g.n(3) {
				args = append(args, g.key(), g.value())
			}
			if g.chance(0.1) {
				args = args[:len(args)-1]
			}
			return args
		})},
		{3, simpleGen(kExact, func(g *gen) []string { return argv(g.cs("append"), g.key(), g.value()) })},
		{2, simpleGen(kExact, func(g *gen) []string { return argv(g.cs("strlen"), g.key()) })},
		{2, simpleGen(kExact, func(g *gen) []string { return argv(g.cs("getrange"), g.key(), g.int(-6, 6), g.int(-6, 6)) })},
		{1, simpleGen(kExact, func(g *gen) []string { return argv(g.cs("substr"), g.key(), g.int(-6, 6), g.int(-6, 6)) })},
		{1, simpleGen(kExact, func(g *gen) []string {
			a := argv(g.cs("lcs"), g.key(), g.key())
			for range g.n(4) {
				switch g.n(5) {
				case 0:
					a = append(a, g.cs("len"))
				case 1, 2:
					a = append(a, g.cs("idx"))
				case 3:
					a = append(a, g.cs("minmatchlen"), g.int(-1, 4))
				default:
					a = append(a, g.cs("withmatchlen"))
				}
			}
			return a
		})},
		{2, simpleGen(kExact, func(g *gen) []string {
			off := g.int(0, 12)
			if g.chance(0.05) {
				off = "536870912"
			}
			return argv(g.cs("setrange"), g.key(), off, g.pick([]string{"x", "", "hello", "\x00"}))
		})},
		{5, simpleGen(kExact, func(g *gen) []string {
			switch name := g.pick([]string{"incr", "decr", "incrby", "decrby"}); name {
			case "incr", "decr":
				return argv(g.cs(name), g.key())
			default:
				return argv(g.cs(name), g.key(), g.int(-10, 10))
			}
		})},
		{3, simpleGen(kExact, func(g *gen) []string { return argv(g.cs("incrbyfloat"), g.key(), g.pick(incrFloats)) })},
		// keys
		{4, simpleGen(kExact, func(g *gen) []string { return argv(g.cs(g.pick([]string{"del", "unlink"})), g.keys(1, 3)) })},
		{3, simpleGen(kExact, func(g *gen) []string { return argv(g.cs(g.pick([]string{"exists", "touch"})), g.keys(1, 3)) })},
		{3, simpleGen(kExact, func(g *gen) []string { return argv(g.cs("type"), g.key()) })},
		{8, (*gen).genExpire},
		{2, simpleGen(kTTLRounded, func(g *gen) []string { return argv(g.cs("ttl"), g.key()) })},
		{2, simpleGen(kPTTL, func(g *gen) []string { return argv(g.cs("pttl"), g.key()) })},
		{1, simpleGen(kExpiretime, func(g *gen) []string { return argv(g.cs("expiretime"), g.key()) })},
		{1, simpleGen(kPTTL, func(g *gen) []string { return argv(g.cs("pexpiretime"), g.key()) })},
		{2, simpleGen(kExact, func(g *gen) []string { return argv(g.cs("persist"), g.key()) })},
		{2, simpleGen(kUnordered, func(g *gen) []string { return argv(g.cs("keys"), g.pick(diffPatterns)) })},
		{2, (*gen).genScan},
		{1, simpleGen(kRandomkey, func(g *gen) []string { return argv(g.cs("randomkey")) })},
		{3, simpleGen(kExact, func(g *gen) []string {
			return argv(g.cs(g.pick([]string{"rename", "renamenx"})), g.key(), g.key())
		})},
		{3, simpleGen(kExact, func(g *gen) []string {
			args := []string{g.cs("copy"), g.key(), g.key()}
			for range g.n(3) {
				if g.chance(0.5) {
					args = append(args, g.cs("db"), g.db())
				} else {
					args = append(args, g.pick([]string{g.cs("replace"), "bogus", g.cs("db")}))
				}
			}
			return args
		})},
		{2, simpleGen(kExact, func(g *gen) []string { return argv(g.cs("move"), g.key(), g.db()) })},
		{2, simpleGen(kDBSize, func(g *gen) []string { return argv(g.cs("dbsize")) })},
		{1, func(g *gen, _ bool) op {
			if g.chance(0.3) {
				return op{args: argv(g.cs("flushdb"), []string{g.pick([]string{"async", "SYNC", "bogus"}), "x"}[:g.n(3)])}
			}
			if g.chance(0.3) {
				return op{args: argv(g.cs("flushall"), []string{g.pick([]string{"async", "sync", "bogus"})}[:g.n(2)])}
			}
			return op{args: argv(g.cs("swapdb"), g.db(), g.db())}
		}},
		// sets
		{10, simpleGen(kExact, func(g *gen) []string { return argv(g.cs("sadd"), g.key(), g.members(1, 4)) })},
		{4, simpleGen(kExact, func(g *gen) []string { return argv(g.cs("srem"), g.key(), g.members(1, 3)) })},
		{3, simpleGen(kUnordered, func(g *gen) []string { return argv(g.cs("smembers"), g.key()) })},
		{2, simpleGen(kExact, func(g *gen) []string { return argv(g.cs("sismember"), g.key(), g.member()) })},
		{2, simpleGen(kExact, func(g *gen) []string { return argv(g.cs("smismember"), g.key(), g.members(1, 3)) })},
		{2, simpleGen(kExact, func(g *gen) []string { return argv(g.cs("scard"), g.key()) })},
		{3, (*gen).genSpop},
		{2, (*gen).genSrand},
		{3, simpleGen(kExact, func(g *gen) []string { return argv(g.cs("smove"), g.key(), g.key(), g.member()) })},
		{4, simpleGen(kUnordered, func(g *gen) []string {
			return argv(g.cs(g.pick([]string{"sinter", "sunion", "sdiff"})), g.keys(1, 3))
		})},
		{3, simpleGen(kExact, func(g *gen) []string {
			return argv(g.cs(g.pick([]string{"sinterstore", "sunionstore", "sdiffstore"})), g.key(), g.keys(1, 3))
		})},
		{2, simpleGen(kExact, func(g *gen) []string {
			ks := g.keys(1, 3)
			nk := strconv.Itoa(len(ks))
			if g.chance(0.15) {
				nk = g.pick([]string{"0", "-1", "5", "abc"})
			}
			args := argv(g.cs("sintercard"), nk, ks)
			if g.chance(0.4) {
				args = append(args, g.cs("limit"), g.pick([]string{"0", "1", "2", "-1", "abc"}))
			}
			if g.chance(0.05) {
				args = append(args, "bogus")
			}
			return args
		})},
		{2, (*gen).genSscan},
		// transactions
		{3, simpleGen(kExact, func(g *gen) []string { return argv(g.cs("multi")) })},
		{1, simpleGen(kExact, func(g *gen) []string { return argv(g.cs("exec")) })},
		{1, simpleGen(kExact, func(g *gen) []string { return argv(g.cs("discard")) })},
		{3, simpleGen(kExact, func(g *gen) []string { return argv(g.cs("watch"), g.keys(1, 2)) })},
		{1, simpleGen(kExact, func(g *gen) []string { return argv(g.cs("unwatch")) })},
		// scripting
		{4, (*gen).genEval},
		{3, (*gen).genFcall},
	}, slices.Concat(hashGenerators(), zsetGenerators(), listGenerators(), bitmapGenerators())...)
}

// next generates one command for a client in the given state.
func (g *gen) next(gens []cmdGen, total int, inMulti bool) op {
	if inMulti {
		switch x := g.n(100); {
		case x < 15:
			return op{args: []string{g.cs("exec")}}
		case x < 17:
			return op{args: []string{g.cs("discard")}}
		}
	}
	w := g.n(total)
	var o op
	for _, cg := range gens {
		if w < cg.weight {
			o = cg.fn(g, inMulti)
			break
		}
		w -= cg.weight
	}
	// Wrong arities and stray arguments now and then.
	if o.kind == kExact && len(o.args) > 1 && g.chance(0.03) {
		// ZRANK and ZREVRANK take a fourth argument (WITHSCORE) from Redis
		// 7.2, which sessiond follows: a stray one is a syntax error there,
		// a wrong arity in 7.0.
		zrank := strings.EqualFold(o.args[0], "zrank") || strings.EqualFold(o.args[0], "zrevrank")
		if g.chance(0.5) || zrank {
			o.args = o.args[:len(o.args)-1]
		} else {
			o.args = append(o.args, "extra")
		}
		// afterSet stays: the reclaiming SETRANGE k 0 "" changes nothing.
	}
	return o
}

// ---------------------------------------------------------------------------
// The harness.

// client is one connection to each server, used in lock step.
type diffClient struct {
	s, r    *rconn // sessiond, redis
	inMulti bool
	queued  []op // commands queued on both, for comparing EXEC's reply
}

type diffRun struct {
	t         *testing.T
	sAddr     string
	rAddr     string
	resp3     bool
	seed      int64
	pass      string
	seq       int
	history   []string
	prefix    string
	cur       *diffClient
	pipelined bool
	inspS     *rconn
	inspR     *rconn
	failures  *int
	cmdsSent  *int
	lastError string
	gens      []cmdGen   // the generators; nil: diffGenerators()
	setup     [][]string // sent to both servers' database 0 after FLUSHALL
}

// diffMismatch is a difference found; the sequence stops at the first.
type diffMismatch struct{ msg string }

func (d *diffRun) fail(format string, args ...any) {
	panic(diffMismatch{fmt.Sprintf(format, args...)})
}

// both sends args to both servers on client c and returns (sessiond, redis).
func (d *diffRun) both(c *diffClient, args []string) (rv, rv) {
	*d.cmdsSent++
	a, err := c.s.do(args...)
	if err != nil {
		d.fail("sessiond: %s: %v", op{args: args}, err)
	}
	b, err := c.r.do(args...)
	if err != nil {
		d.fail("redis: %s: %v", op{args: args}, err)
	}
	d.record(args, a, b)
	return a, b
}

// record adds a command and its replies to the history.
func (d *diffRun) record(args []string, a, b rv) {
	line := fmt.Sprintf("%s%s -> %s", d.prefix, op{args: args}, a)
	if string(a.raw) != string(b.raw) {
		line = fmt.Sprintf("%s%s -> sessiond %s, redis %s", d.prefix, op{args: args}, a, b)
	}
	d.prefix = ""
	d.history = append(d.history, line)
	if len(d.history) > envInt("DIFF_HISTORY", 15) {
		d.history = d.history[1:]
	}
}

// simpleArg reports whether a can be sent in an inline command as is.
func simpleArg(a string) bool {
	if a == "" {
		return false
	}
	for i := 0; i < len(a); i++ {
		if c := a[i]; c <= ' ' || c > '~' || c == '"' || c == '\'' || c == '\\' {
			return false
		}
	}
	return true
}

// pipeline sends ops on c in one write to each server, some of them as
// inline commands, then reads and checks the replies in order. Only ops
// whose check needs nothing from the servers are pipelined.
func (d *diffRun) pipeline(c *diffClient, ops []op, inline []bool) {
	var req []byte
	for i, o := range ops {
		if inline[i] {
			req = append(req, strings.Join(o.args, " ")+"\r\n"...)
		} else {
			req = append(req, encodeCommand(o.args)...)
		}
	}
	read := func(who string, conn *rconn) []rv {
		conn.c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := conn.c.Write(req); err != nil {
			d.fail("%s: pipeline: %v", who, err)
		}
		out := make([]rv, len(ops))
		for i := range ops {
			v, err := readReply(conn.br)
			if err != nil {
				d.fail("%s: pipeline reply %d of %d (%s): %v", who, i, len(ops), ops[i], err)
			}
			out[i] = v
		}
		return out
	}
	*d.cmdsSent += len(ops)
	as, bs := read("sessiond", c.s), read("redis", c.r)
	d.pipelined = true // the state has moved on: no follow-up queries
	defer func() { d.pipelined = false }()
	for i, o := range ops {
		if inline[i] {
			d.prefix += "(inline) "
		}
		d.record(o.args, as[i], bs[i])
		d.check(c, o, as[i], bs[i], rv{}, false)
	}
}

// mismatch reports the first differing command with both replies.
func (d *diffRun) mismatch(o op, a, b rv, why string) {
	keys := ""
	if c := d.cur; c != nil && !c.inMulti {
		// The keys of the client's database, for context.
		sk, err1 := c.s.do("keys", "*")
		rk, err2 := c.r.do("keys", "*")
		if err1 == nil && err2 == nil {
			keys = fmt.Sprintf("\n    keys in the client's db: sessiond %q, redis %q", sortedSet(strsOf(sk.elems)), sortedSet(strsOf(rk.elems)))
		}
	}
	d.fail("first difference (%s) in: %s\n    sessiond: %s\n    redis:    %s%s", why, o, a, b, keys)
}

func multiset(vs []rv) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v.raw)
	}
	slices.Sort(out)
	return out
}

// sortedSet returns strs sorted, without duplicates.
func sortedSet(strs []string) []string {
	out := slices.Clone(strs)
	slices.Sort(out)
	return slices.Compact(out)
}

// withinTol compares integers: negative ones (no key, no TTL) exactly,
// others within tol. Anything else is compared exactly.
func withinTol(a, b rv, tol int64) bool {
	if a.typ != ':' || b.typ != ':' {
		return string(a.raw) == string(b.raw)
	}
	x, _ := strconv.ParseInt(a.str, 10, 64)
	y, _ := strconv.ParseInt(b.str, 10, 64)
	if x < 0 || y < 0 {
		return x == y
	}
	return x-y <= tol && y-x <= tol
}

// equalKind compares two replies to a command of kind k without asking the
// servers anything more (a queued command's reply inside EXEC). It returns
// "" when they agree.
func equalKind(k cmpKind, a, b rv) string {
	if a.isErr() || b.isErr() || a.null || b.null {
		if string(a.raw) != string(b.raw) {
			return "exact"
		}
		return ""
	}
	switch k {
	case kExact:
		if string(a.raw) != string(b.raw) {
			return "exact"
		}
	case kUnordered:
		if a.typ != b.typ || len(a.elems) != len(b.elems) || !slices.Equal(multiset(a.elems), multiset(b.elems)) {
			return "as multisets"
		}
	case kTTL, kExpiretime, kTTLRounded:
		if !withinTol(a, b, 1) {
			return "TTL within 1"
		}
	case kPTTL:
		if !withinTol(a, b, pttlTolerance) {
			return fmt.Sprintf("PTTL within %d ms", pttlTolerance)
		}
	case kSrand, kSpop, kHrand:
		if a.typ != b.typ || len(a.elems) != len(b.elems) {
			return "type and length"
		}
	case kHashPairs, kHashList:
		return hashEqual(k, a, b)
	case kZrand, kZscan, kZlex, kZenc:
		return zsetEqual(k, a, b)
	case kSortGroups:
		if a.typ != b.typ || !slices.Equal(multiset(a.elems), multiset(b.elems)) {
			return "as multisets"
		}
	case kScan, kSscan, kHscan:
		if a.typ != '*' || b.typ != '*' || len(a.elems) != 2 || len(b.elems) != 2 ||
			a.elems[0].typ != '$' || b.elems[0].typ != '$' || a.elems[1].typ != b.elems[1].typ {
			return "scan reply shape"
		}
		if a.elems[0].str == "0" && b.elems[0].str == "0" &&
			!slices.Equal(sortedSet(strsOf(a.elems[1].elems)), sortedSet(strsOf(b.elems[1].elems))) {
			return "complete scan as sets"
		}
	case kShape, kRandomkey:
		if a.typ != b.typ {
			return "reply type"
		}
	}
	return ""
}

func strsOf(vs []rv) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.str
	}
	return out
}

// run executes one generated command on client c and compares.
func (d *diffRun) run(c *diffClient, o op) {
	// Invariant checks need the state before: both servers hold the same.
	var before rv
	var hasBefore bool
	var pttlBefore [2]int64
	if !c.inMulti && o.kind == kTTLRounded {
		for i, conn := range []*rconn{c.s, c.r} {
			v, err := conn.do("pttl", o.args[1])
			if err != nil {
				d.fail("%v", err)
			}
			pttlBefore[i], _ = strconv.ParseInt(v.str, 10, 64)
		}
	}
	if !c.inMulti {
		switch o.kind {
		case kSpop, kSrand:
			before, hasBefore = d.redisOnly(c, "smembers", o.args[1]), true
		case kRandomkey:
			before, hasBefore = d.redisOnly(c, "keys", "*"), true
		case kHrand:
			before, hasBefore = d.redisOnly(c, "hgetall", o.args[1]), true
		case kZrand:
			before, hasBefore = d.redisOnly(c, "zrange", o.args[1], "0", "-1", "withscores"), true
		case kZlex:
			if ok, why := d.zlexComparable(c, o); !ok {
				d.history = append(d.history, fmt.Sprintf("%s%s -> not sent: %s", d.prefix, o, why))
				d.prefix = ""
				return
			}
		}
	}
	a, b := d.both(c, o.args)
	d.check(c, o, a, b, before, hasBefore)
	if !c.inMulti && o.kind == kTTLRounded && !a.isErr() {
		// Redis rounds: (ms+500)/1000. Time only moves forward, so TTL lies
		// between the rounded PTTL after and the rounded PTTL before.
		for i, side := range []struct {
			who  string
			conn *rconn
			v    rv
		}{{"sessiond", c.s, a}, {"redis", c.r, b}} {
			ttl, _ := strconv.ParseInt(side.v.str, 10, 64)
			p, err := side.conn.do("pttl", o.args[1])
			if err != nil {
				d.fail("%s: %v", side.who, err)
			}
			after, _ := strconv.ParseInt(p.str, 10, 64)
			if ttl < 0 || after < 0 || pttlBefore[i] < 0 {
				continue
			}
			lo, hi := after/1000+(after%1000+500)/1000, pttlBefore[i]/1000+(pttlBefore[i]%1000+500)/1000
			if ttl < lo || ttl > hi {
				d.mismatch(o, a, b, fmt.Sprintf("%s TTL %d not between the rounded PTTLs %d (after) and %d (before)", side.who, ttl, after, pttlBefore[i]))
			}
		}
	}
}

// check compares the replies a (sessiond) and b (redis) to o, tracks the
// client's MULTI state, and keeps both servers in the same state.
func (d *diffRun) check(c *diffClient, o op, a, b, before rv, hasBefore bool) {
	name := strings.ToLower(o.args[0])
	if c.inMulti {
		if a.typ == '+' && a.str == "QUEUED" && b.typ == '+' && b.str == "QUEUED" {
			c.queued = append(c.queued, o)
			return
		}
	}
	switch name {
	case "multi":
		if string(a.raw) == "+OK\r\n" && string(b.raw) == "+OK\r\n" {
			c.inMulti, c.queued = true, nil
			return
		}
	case "exec":
		queued := c.queued
		if c.inMulti {
			c.inMulti, c.queued = false, nil
		}
		if a.typ == '*' && b.typ == '*' && !a.null && !b.null {
			if len(a.elems) != len(b.elems) || len(a.elems) != len(queued) {
				d.mismatch(o, a, b, "EXEC length")
			}
			for i := range a.elems {
				if why := equalKind(queued[i].kind, a.elems[i], b.elems[i]); why != "" {
					d.mismatch(o, a, b, fmt.Sprintf("EXEC element %d (%s): %s", i, queued[i], why))
				}
			}
			return
		}
	case "discard", "reset":
		if (a.str == "OK" || a.str == "RESET") && a.typ == '+' && string(a.raw) == string(b.raw) {
			c.inMulti, c.queued = false, nil
		}
	}

	if a.isErr() || b.isErr() || a.typ != b.typ {
		if string(a.raw) != string(b.raw) {
			d.mismatch(o, a, b, "exact")
		}
		return
	}
	switch o.kind {
	case kSpop:
		d.checkSpop(c, o, before, a, b)
	case kSrand:
		d.checkSrand(o, before, a, b)
	case kHrand:
		d.checkHrand(o, before, a, b)
	case kHashPairs, kHashList:
		d.checkHash(c, o, a, b)
	case kHscan:
		d.checkHscan(c, o, a, b)
	case kZrand, kZscan, kZlex, kZenc:
		d.checkZset(c, o, a, b, before)
	case kSortGroups:
		d.checkSortGroups(o, a, b)
	case kRandomkey:
		if hasBefore && !a.null {
			if !slices.Contains(strsOf(before.elems), a.str) {
				d.mismatch(o, a, b, "RANDOMKEY returned a key that does not exist")
			}
		}
		if why := equalKind(kRandomkey, a, b); why != "" || a.null != b.null {
			d.mismatch(o, a, b, "RANDOMKEY null or not")
		}
	case kExpiretime:
		if why := equalKind(o.kind, a, b); why != "" {
			d.mismatch(o, a, b, why)
		}
		// The deadline is the same absolute time on each server up to a few
		// ms, so EXPIRETIME is compared with PEXPIRETIME on the same server:
		// Redis rounds, (ms+500)/1000.
		for _, side := range []struct {
			who  string
			conn *rconn
			v    rv
		}{{"sessiond", c.s, a}, {"redis", c.r, b}} {
			sec, _ := strconv.ParseInt(side.v.str, 10, 64)
			if side.v.typ != ':' || sec < 0 || d.pipelined {
				continue
			}
			p, err := side.conn.do("pexpiretime", o.args[1])
			if err != nil {
				d.fail("%s: %v", side.who, err)
			}
			ms, _ := strconv.ParseInt(p.str, 10, 64)
			if want := ms/1000 + (ms%1000+500)/1000; sec != want {
				d.mismatch(o, a, b, fmt.Sprintf("%s EXPIRETIME %d but PEXPIRETIME %d (want %d)", side.who, sec, ms, want))
			}
		}
	case kScan:
		d.checkScan(c, o, 1, a, b)
	case kSscan:
		d.checkScan(c, o, 2, a, b)
	case kDBSize:
		d.checkDBSize(c, o, a, b)
	default:
		if why := equalKind(o.kind, a, b); why != "" {
			d.mismatch(o, a, b, why)
		}
	}
	if o.afterSet != "" {
		// Reclaim the already expired key with a write that changes nothing.
		a, b := d.both(c, []string{"setrange", o.afterSet, "0", ""})
		if string(a.raw) != string(b.raw) {
			d.mismatch(op{args: []string{"setrange", o.afterSet, "0", ""}}, a, b, "exact")
		}
	}
}

// checkDBSize compares DBSIZE by invariant: both servers hold the same
// live keys, and each one's DBSIZE counts at least its live keys. An
// expired key not yet reclaimed may still be counted by either server.
func (d *diffRun) checkDBSize(c *diffClient, o op, a, b rv) {
	if a.typ != ':' || b.typ != ':' {
		d.mismatch(o, a, b, "integer replies")
		return
	}
	if c.inMulti || d.pipelined {
		return
	}
	var live [2]int
	for i, conn := range []*rconn{c.s, c.r} {
		v, err := conn.do("keys", "*")
		if err != nil {
			d.fail("%v", err)
		}
		live[i] = len(v.elems)
	}
	na, _ := strconv.Atoi(a.str)
	nb, _ := strconv.Atoi(b.str)
	if live[0] != live[1] || na < live[0] || nb < live[1] {
		d.mismatch(o, a, b, fmt.Sprintf("live keys sessiond %d redis %d; DBSIZE must count at least those", live[0], live[1]))
	}
}

// redisOnly asks redis (same connection, so same database) for state.
func (d *diffRun) redisOnly(c *diffClient, args ...string) rv {
	v, err := c.r.do(args...)
	if err != nil {
		d.fail("redis: %v", err)
	}
	return v
}

func (d *diffRun) checkSpop(c *diffClient, o op, before, a, b rv) {
	hasCount := len(o.args) == 3
	var popped, rpopped []string
	switch {
	case a.null != b.null:
		d.mismatch(o, a, b, "SPOP null or not")
	case a.null:
		return
	case !hasCount:
		if a.typ != '$' {
			d.mismatch(o, a, b, "SPOP reply type")
		}
		popped, rpopped = []string{a.str}, []string{b.str}
	default:
		if len(a.elems) != len(b.elems) {
			d.mismatch(o, a, b, "SPOP count")
		}
		popped, rpopped = strsOf(a.elems), strsOf(b.elems)
	}
	members := strsOf(before.elems)
	if len(sortedSet(popped)) != len(popped) {
		d.mismatch(o, a, b, "SPOP returned a member twice")
	}
	for _, m := range popped {
		if !slices.Contains(members, m) {
			d.mismatch(o, a, b, fmt.Sprintf("SPOP returned %q, not a member of %q", m, members))
		}
	}
	// Make redis pop what sessiond popped.
	if !slices.Equal(sortedSet(popped), sortedSet(rpopped)) {
		d.redisOnly(c, argv("sadd", o.args[1], rpopped)...)
		d.redisOnly(c, argv("srem", o.args[1], popped)...)
	}
}

func (d *diffRun) checkSrand(o op, before, a, b rv) {
	members := strsOf(before.elems)
	if len(o.args) == 2 {
		if a.null != b.null {
			d.mismatch(o, a, b, "SRANDMEMBER null or not")
		}
		if !a.null && !slices.Contains(members, a.str) {
			d.mismatch(o, a, b, "SRANDMEMBER returned a non-member")
		}
		return
	}
	if why := equalKind(kSrand, a, b); why != "" {
		d.mismatch(o, a, b, why)
	}
	got := strsOf(a.elems)
	for _, m := range got {
		if !slices.Contains(members, m) {
			d.mismatch(o, a, b, fmt.Sprintf("SRANDMEMBER returned %q, not a member of %q", m, members))
		}
	}
	if !strings.HasPrefix(o.args[2], "-") && len(sortedSet(got)) != len(got) {
		d.mismatch(o, a, b, "SRANDMEMBER with a positive count repeated a member")
	}
}

// checkScan iterates a SCAN (cursor at position ci) to completion on both
// servers and compares what they returned as sets.
func (d *diffRun) checkScan(c *diffClient, o op, ci int, a, b rv) {
	collect := func(who string, conn *rconn, first rv) []string {
		var all []string
		v := first
		for range 10000 {
			if v.typ != '*' || len(v.elems) != 2 || v.elems[0].typ != '$' || !v.elems[1].isAgg() && v.elems[1].typ != '*' {
				d.mismatch(o, a, b, who+" SCAN reply shape")
			}
			all = append(all, strsOf(v.elems[1].elems)...)
			if v.elems[0].str == "0" {
				return all
			}
			args := slices.Clone(o.args)
			args[ci] = v.elems[0].str
			var err error
			if v, err = conn.do(args...); err != nil {
				d.fail("%s: %v", who, err)
			}
		}
		d.fail("%s: SCAN did not finish", who)
		return nil
	}
	sk := collect("sessiond", c.s, a)
	rk := collect("redis", c.r, b)
	if len(sortedSet(sk)) != len(sk) {
		d.mismatch(o, a, b, fmt.Sprintf("sessiond SCAN returned duplicates: %q", sk))
	}
	if !slices.Equal(sortedSet(sk), sortedSet(rk)) {
		d.mismatch(o, a, b, fmt.Sprintf("complete SCAN as sets: sessiond %q, redis %q", sortedSet(sk), sortedSet(rk)))
	}
}

// compareState compares every database in full: keys, types, values, TTLs.
func (d *diffRun) compareState() {
	q := func(conn *rconn, args ...string) rv {
		v, err := conn.do(args...)
		if err != nil {
			d.fail("state: %v", err)
		}
		return v
	}
	for db := range 16 {
		sdb := strconv.Itoa(db)
		q(d.inspS, "select", sdb)
		q(d.inspR, "select", sdb)
		sk, rk := q(d.inspS, "keys", "*"), q(d.inspR, "keys", "*")
		if !slices.Equal(sortedSet(strsOf(sk.elems)), sortedSet(strsOf(rk.elems))) {
			d.fail("final state of db %d: keys differ: sessiond %q, redis %q", db, sortedSet(strsOf(sk.elems)), sortedSet(strsOf(rk.elems)))
		}
		for _, k := range sortedSet(strsOf(sk.elems)) {
			st, rt := q(d.inspS, "type", k), q(d.inspR, "type", k)
			if string(st.raw) != string(rt.raw) {
				d.fail("final state of db %d key %q: TYPE sessiond %s, redis %s", db, k, st, rt)
			}
			switch st.str {
			case "string":
				sv, rv := q(d.inspS, "get", k), q(d.inspR, "get", k)
				if string(sv.raw) != string(rv.raw) {
					d.fail("final state of db %d key %q: GET sessiond %s, redis %s", db, k, sv, rv)
				}
			case "set":
				sv, rv := q(d.inspS, "smembers", k), q(d.inspR, "smembers", k)
				if !slices.Equal(multiset(sv.elems), multiset(rv.elems)) {
					d.fail("final state of db %d key %q: SMEMBERS sessiond %s, redis %s", db, k, sv, rv)
				}
			case "hash":
				d.compareHashState(q, db, k)
			case "zset":
				d.compareZsetState(q, db, k)
			case "list":
				d.compareListState(q, db, k)
			}
			sp, rp := q(d.inspS, "pttl", k), q(d.inspR, "pttl", k)
			if !withinTol(sp, rp, pttlTolerance) {
				d.fail("final state of db %d key %q: PTTL sessiond %s, redis %s", db, k, sp, rp)
			}
		}
	}
}

// sequence runs one generated sequence from empty servers and reports the
// first difference, if any.
func (d *diffRun) sequence(r *rand.Rand, n int) (failed bool) {
	d.history = nil
	defer func() {
		if x := recover(); x != nil {
			m, ok := x.(diffMismatch)
			if !ok {
				panic(x)
			}
			*d.failures++
			d.t.Errorf("DIFF seed=%d pass=%s sequence=%d: %s\n  last commands (#index client: command -> reply):\n    %s",
				d.seed, d.pass, d.seq, m.msg, strings.Join(d.history, "\n    "))
			failed = true
		}
	}()
	for _, c := range []*rconn{d.inspS, d.inspR} {
		if v, err := c.do("flushall"); err != nil || v.str != "OK" {
			d.fail("FLUSHALL: %v %s", err, v)
		}
		if v, err := c.do("function", "load", "replace", diffLibrary()); err != nil || v.str != "diff" {
			d.fail("FUNCTION LOAD: %v %s", err, v)
		}
		if len(d.setup) > 0 {
			c.do("select", "0")
		}
		for _, args := range d.setup {
			if v, err := c.do(args...); err != nil || v.isErr() {
				d.fail("setup %s: %v %s", op{args: args}, err, v)
			}
		}
	}
	g := newGen(r)
	gens := d.gens
	if gens == nil {
		gens = diffGenerators()
	}
	total := 0
	for _, cg := range gens {
		total += cg.weight
	}
	var clients [2]*diffClient
	for i := range clients {
		c := &diffClient{s: dialRaw(d.t, d.sAddr), r: dialRaw(d.t, d.rAddr)}
		defer c.s.close()
		defer c.r.close()
		if d.resp3 {
			a, b := d.both(c, []string{"HELLO", "3"})
			if why := equalKind(kShape, a, b); why != "" || a.typ != '%' {
				d.mismatch(op{args: []string{"HELLO", "3"}}, a, b, "HELLO 3 shape")
			}
		}
		clients[i] = c
	}
	for i := range n {
		ci := 0
		if g.chance(0.15) {
			ci = 1
		}
		c := clients[ci]
		d.cur = c
		if g.chance(0.03) {
			// A pipelined batch, some commands inline.
			var ops []op
			var inline []bool
			multi := c.inMulti
			for range 2 + g.n(15) {
				o := g.next(gens, total, multi)
				switch o.kind {
				case kSpop, kSrand, kRandomkey, kScan, kSscan, kHrand, kHscan, kZrand, kZscan, kZlex, kZenc:
					continue
				}
				if o.afterSet != "" {
					continue
				}
				switch strings.ToLower(o.args[0]) {
				case "multi":
					multi = true
				case "exec", "discard", "reset":
					multi = false
				}
				ops = append(ops, o)
				inline = append(inline, g.chance(0.3) && !slices.ContainsFunc(o.args, func(a string) bool { return !simpleArg(a) }))
			}
			if len(ops) > 0 {
				d.prefix = fmt.Sprintf("#%d c%d pipelined: ", i, ci)
				d.pipeline(c, ops, inline)
			}
			continue
		}
		o := g.next(gens, total, c.inMulti)
		d.prefix = fmt.Sprintf("#%d c%d: ", i, ci)
		d.run(c, o)
		if paranoid && !c.inMulti {
			// DIFF_PARANOID=1: DBSIZE after every command finds the
			// command that left an expired key behind.
			a, b := d.both(c, []string{"dbsize"})
			if string(a.raw) != string(b.raw) {
				d.mismatch(op{args: []string{"dbsize"}}, a, b, "DBSIZE after the previous command")
			}
		}
	}
	d.compareState()
	return false
}

func diffSeedValue() int64 {
	if *diffSeed != 0 {
		return *diffSeed
	}
	if s := os.Getenv("DIFF_SEED"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err == nil {
			return n
		}
	}
	return time.Now().UnixNano()
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// TestDiffRedis runs random command sequences against sessiond and a real
// redis-server and compares their replies.
func TestDiffRedis(t *testing.T) {
	red := testserver.StartRedis(t)
	srv := testserver.Start(t)
	seed := diffSeedValue()
	t.Logf("seed=%d (replay with DIFF_SEED=%d)", seed, seed)

	seqs, cmds := 20, 200
	if os.Getenv("DIFF_LONG") != "" {
		seqs, cmds = 400, 500
	}
	seqs, cmds = envInt("DIFF_SEQS", seqs), envInt("DIFF_CMDS", cmds)

	failures, sent := 0, 0
	start := time.Now()
	for _, pass := range []string{"resp2", "resp3"} {
		t.Run(pass, func(t *testing.T) {
			inspS, inspR := dialRaw(t, srv.Addr), dialRaw(t, red.Addr)
			for seq := range seqs {
				if failures >= 20 {
					t.Logf("stopping after %d failures", failures)
					return
				}
				d := &diffRun{t: t, sAddr: srv.Addr, rAddr: red.Addr, resp3: pass == "resp3", seed: seed, pass: pass, seq: seq,
					inspS: inspS, inspR: inspR, failures: &failures, cmdsSent: &sent}
				passN := uint64(0)
				if pass == "resp3" {
					passN = 1
				}
				r := rand.New(rand.NewPCG(uint64(seed), passN<<32|uint64(seq)))
				d.sequence(r, cmds)
			}
		})
	}
	t.Logf("%d sequences x %d commands x 2 protocols: %d commands sent to each server in %v",
		seqs, cmds, sent, time.Since(start).Round(time.Millisecond))
}

// randomNumber returns a string that is often, but not always, a number
// strtold accepts: signs, leading zeros, long mantissas, fractions,
// exponents, hexadecimal, inf and nan, and junk.
func randomNumber(r *rand.Rand) string {
	pick := func(xs ...string) string { return xs[r.IntN(len(xs))] }
	digits := func(n int, alphabet string) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		return string(b)
	}
	var s string
	switch r.IntN(10) {
	case 0:
		s = pick("inf", "INF", "infinity", "Infinity", "nan", "NaN", "in", "infx", "0x", "0x.", ".", "e1", "", " 1", "1 ", "1e", "1e+", "--1", "+-1", "0b1", "1_0", "0o7")
	case 1, 2:
		s = "0x" + digits(r.IntN(6), "0123456789abcdefABCDEF")
		if r.IntN(2) == 0 {
			s += "." + digits(r.IntN(4), "0123456789abcdef")
		}
		if r.IntN(2) == 0 {
			s += pick("p", "P") + pick("", "+", "-") + strconv.Itoa(r.IntN(70))
		}
	default:
		s = digits(r.IntN(25), "0123456789")
		if r.IntN(2) == 0 {
			s += "." + digits(r.IntN(25), "0123456789")
		}
		if r.IntN(3) == 0 {
			s += pick("e", "E") + pick("", "+", "-") + strconv.Itoa(r.IntN(40)*r.IntN(40)*r.IntN(8))
		}
	}
	if r.IntN(3) == 0 {
		s = pick("-", "+") + s
	}
	return s
}

// TestDiffIncrbyfloat compares INCRBYFLOAT, the long double arithmetic and
// format and the strtold parser, on random stored values and increments.
func TestDiffIncrbyfloat(t *testing.T) {
	red := testserver.StartRedis(t)
	srv := testserver.Start(t)
	seed := diffSeedValue()
	t.Logf("seed=%d (replay with DIFF_SEED=%d)", seed, seed)
	r := rand.New(rand.NewPCG(uint64(seed), 7))
	sc, rc := dialRaw(t, srv.Addr), dialRaw(t, red.Addr)
	n := 2000
	if os.Getenv("DIFF_LONG") != "" {
		n = 30000
	}
	fails := 0
	for i := range n {
		var cmds [][]string
		if r.IntN(4) == 0 {
			cmds = append(cmds, []string{"DEL", "k"})
		} else if r.IntN(2) == 0 {
			cmds = append(cmds, []string{"SET", "k", randomNumber(r)})
		}
		for range 1 + r.IntN(3) {
			cmds = append(cmds, []string{"INCRBYFLOAT", "k", randomNumber(r)})
		}
		cmds = append(cmds, []string{"GET", "k"})
		for _, args := range cmds {
			a, err := sc.do(args...)
			require.NoError(t, err)
			b, err := rc.do(args...)
			require.NoError(t, err)
			if string(a.raw) != string(b.raw) {
				fails++
				t.Errorf("seed=%d case %d: %s\n    sessiond: %s\n    redis:    %s", seed, i, op{args: args}, a, b)
				if fails > 10 {
					t.FailNow()
				}
				sc.do("DEL", "k")
				rc.do("DEL", "k")
				break
			}
		}
	}
}

// TestDiffInline sends random inline command lines (quotes, escapes, odd
// blanks) on fresh connections to both servers, as a person at a terminal
// would, and compares how they were split.
func TestDiffInline(t *testing.T) {
	red := testserver.StartRedis(t)
	srv := testserver.Start(t)
	seed := diffSeedValue()
	t.Logf("seed=%d (replay with DIFF_SEED=%d)", seed, seed)
	r := rand.New(rand.NewPCG(uint64(seed), 11))
	pieces := []string{"a", "b", "x", "41", " ", "  ", "\t", "\v", "\f", "\r", "\"", "'", "\\", "\\x41", "\\x4", "\\n", "\\'", "\\\"", "\xff"}
	n := 300
	if os.Getenv("DIFF_LONG") != "" {
		n = 10000
	}
	exchange := func(addr, line string) []rv {
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		require.NoError(t, err)
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		_, err = c.Write([]byte(line + "\r\nSMEMBERS s\r\nDEL s\r\nQUIT\r\n"))
		require.NoError(t, err)
		br := bufio.NewReader(c)
		var out []rv
		for {
			v, err := readReply(br)
			if err != nil {
				return out
			}
			out = append(out, v)
		}
	}
	for i := range n {
		var b strings.Builder
		b.WriteString("SADD s ")
		for range 1 + r.IntN(8) {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		line := b.String()
		as, bs := exchange(srv.Addr, line), exchange(red.Addr, line)
		same := len(as) == len(bs)
		for j := 0; same && j < len(as); j++ {
			if j == 1 && as[j].typ == '*' { // SMEMBERS: any order
				same = slices.Equal(multiset(as[j].elems), multiset(bs[j].elems))
			} else {
				same = string(as[j].raw) == string(bs[j].raw)
			}
		}
		if !same {
			t.Fatalf("seed=%d case %d: inline %q\n    sessiond: %q\n    redis:    %q", seed, i, line, as, bs)
		}
	}
}
