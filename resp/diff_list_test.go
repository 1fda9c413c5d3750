package resp_test

// List commands in the differential test (diff_test.go). Lists share the
// key pool with strings, sets, hashes and sorted sets (WRONGTYPE both
// ways), and their elements with the member pool, so LREM, LPOS and
// LINSERT find what was pushed. Elements are also integers in the forms a
// listpack stores as integers and the strings that only look like them
// ("007", "-0", 2^63), empty strings, elements longer than 64 bytes, and
// now and then one over 8 KB, which Redis keeps in a quicklist node of its
// own; a bulk push of hundreds of short elements spans nodes too. Every
// list reply in Redis is deterministic, so everything is compared exactly;
// OBJECT ENCODING of a list is "quicklist" whatever its size in Redis 7.0.
//
// Blocking commands must never block here. Queued in MULTI, they run at
// EXEC as if their timeout had expired at once when there is nothing to
// pop, so there they get any timeout; outside MULTI they get only
// timeouts that every Redis rejects before looking at a key. Redis parses a timeout as a long double,
// multiplies by 1000 and rounds up (ceill) before the sign check, so "-0",
// "-0.0001" and even "-0.001" are valid and mean "forever": those, and
// the overflowing ones whose error depends on the platform's conversion to
// long long, are sent inside MULTI only.
//
// TestDiffLists runs sequences of mostly list commands, so that lists live
// long and grow; TestDiffRedis mixes them with everything else.
//
//	go test ./resp/ -run 'TestDiff(Lists|Redis)$' -count=1

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"sessiond/internal/testserver"
)

// lKeys are keys only list commands write, so that most list commands
// find a list; the rest of the time they use the shared keys.
var lKeys = []string{"l1", "l2", "l:3"}

var (
	// lExtraElems are elements besides the shared members: the integers a
	// listpack keeps as integers and strings that only look like them
	// (LPOS and LREM compare bytes), and bytes that need escaping.
	lExtraElems = []string{"", "0", "-0", "007", "7", "10", "9223372036854775807", "-9223372036854775808",
		"9223372036854775808", "1.5", " 1", "a b", "\x00", "\r\n", "x", "m1"}
	// lLongElems: the first two are longer than 64 bytes; the last one is
	// over 8 KB, more than a quicklist node holds by default
	// (list-max-listpack-size -2), so it gets a node of its own.
	lLongElems = []string{strings.Repeat("L", 65), strings.Repeat("ab", 150), strings.Repeat("0123456789abcdef", 520)}
	// lIndexes are indexes besides small ones: beyond small lists, inside
	// the bulk ones, and the extremes.
	lIndexes = []string{"100", "-100", "300", "-300", "600", "-600", "1000", "-1000", "9223372036854775807", "-9223372036854775808"}
	// lBadTimeouts are rejected by every Redis before it looks at a key:
	// not a float (strtold with Redis's checks), or negative once
	// multiplied by 1000 and rounded up. Only these are sent outside MULTI.
	lBadTimeouts = []string{"abc", "-1", "", "nan", " 1", "1 ", "-0.5", "-inf", "-1e20", "1,5", "0x", "-5", "--1"}
	// lTimeouts are valid: with no element to pop they would block, so
	// they are sent inside MULTI only. "-0.001" is valid because 0.001 as
	// a long double is a little under 0.001.
	lTimeouts = []string{"0", "0", "0", "0.01", "1", "1.5", "100", "0x10", "-0", "-0.0001", "-0.001", "1e15", ".5"}
	// lOverflowTimeouts overflow the conversion of the milliseconds to long
	// long: on x86-64 that gives LLONG_MIN, "timeout is negative"; another
	// platform may saturate to a valid timeout. Inside MULTI only.
	lOverflowTimeouts = []string{"inf", "+inf", "1e20", "1e400", "9223372036854775807", "1e16"}
)

func (g *gen) lkey() string {
	if g.chance(0.55) {
		return g.pick(lKeys)
	}
	return g.key()
}

func (g *gen) lkeys(lo, hi int) []string {
	out := make([]string, lo+g.n(hi-lo+1))
	for i := range out {
		out[i] = g.lkey()
	}
	return out
}

// lelem returns an element to push.
func (g *gen) lelem() string {
	switch x := g.n(1000); {
	case x < 700:
		return g.member()
	case x < 960:
		return g.pick(lExtraElems)
	case x < 993:
		return g.pick(lLongElems[:2])
	default:
		return lLongElems[2]
	}
}

func (g *gen) lelems(lo, hi int) []string {
	out := make([]string, lo+g.n(hi-lo+1))
	for i := range out {
		out[i] = g.lelem()
	}
	return out
}

// lfind returns an element to look for (LREM, LPOS, LINSERT's pivot):
// mostly one that is likely in the list.
func (g *gen) lfind() string {
	switch x := g.n(100); {
	case x < 75:
		return g.pick(diffMembers)
	case x < 80:
		return g.pick(lLongElems)
	case x < 85:
		return fmt.Sprintf("e%03d", g.n(700)) // genLpushBulk's
	default:
		return g.lelem()
	}
}

// lindex returns a list index: mostly small, sometimes far, extreme or
// not an integer.
func (g *gen) lindex() string {
	switch x := g.n(100); {
	case x < 80:
		return strconv.Itoa(g.n(15) - 7)
	case x < 93:
		return g.pick(lIndexes)
	default:
		return g.pick(badInts)
	}
}

// ltimeout returns a blocking command's timeout (see the file comment).
// When next's arity noise drops the timeout, the last key becomes the
// timeout; no key of the pools parses as a number, so that errors too.
func (g *gen) ltimeout(inMulti bool) string {
	if !inMulti || g.chance(0.15) {
		return g.pick(lBadTimeouts)
	}
	if g.chance(0.05) {
		return g.pick(lOverflowTimeouts)
	}
	return g.pick(lTimeouts)
}

// lwhere returns LEFT or RIGHT, now and then something else.
func (g *gen) lwhere() string {
	if g.chance(0.04) {
		return g.pick([]string{"up", "", "LEFTX", "lef", "before"})
	}
	return g.cs(g.pick([]string{"left", "right"}))
}

// lsrcdst returns the source and destination of LMOVE and its kin: often
// the same key, which rotates the list.
func (g *gen) lsrcdst() (string, string) {
	src := g.lkey()
	if g.chance(0.25) {
		return src, src
	}
	return src, g.lkey()
}

// lcount returns the count of LPOP and RPOP.
func (g *gen) lcount() string {
	if g.chance(0.15) {
		return g.pick([]string{"-1", "abc", "1.5", "", "-0", "9223372036854775807", "9223372036854775808",
			"-9223372036854775808", "01"})
	}
	return g.pick([]string{"0", "1", "1", "1", "2", "2", "3", "5", "10"})
}

// lnumkeys returns LMPOP's numkeys for keys, sometimes wrong.
func (g *gen) lnumkeys(keys []string) string {
	if g.chance(0.08) {
		return g.pick([]string{"0", "-1", strconv.Itoa(len(keys) + 1), "abc", "9223372036854775807", "", "1.0"})
	}
	return strconv.Itoa(len(keys))
}

// lmpopTail returns LMPOP's direction and options.
func (g *gen) lmpopTail() []string {
	args := []string{g.lwhere()}
	if g.chance(0.5) {
		count := g.pick([]string{"1", "2", "3", "1", "2", "1", "10"})
		if g.chance(0.15) {
			count = g.pick([]string{"0", "-1", "abc", "9223372036854775807", ""})
		}
		args = append(args, g.cs("count"), count)
	}
	if g.chance(0.03) {
		args = append(args, g.pick([]string{"bogus", g.cs("count"), g.cs("left")}))
	}
	return args
}

func (g *gen) genLpos(_ bool) op {
	args := []string{g.cs("lpos"), g.lkey(), g.lfind()}
	for range g.n(4) {
		switch g.n(10) {
		case 0, 1, 2, 3:
			rank := g.pick([]string{"1", "1", "2", "3", "-1", "-1", "-2", "-3", "100", "-100"})
			if g.chance(0.1) {
				// Redis 7.0 takes RANK LONG_MIN: its negation overflows
				// to itself, so every match from the tail counts, and COUNT
				// never stops it.
				rank = g.pick([]string{"0", "abc", "-9223372036854775808", "9223372036854775807", "1.5", "-9223372036854775809"})
			}
			args = append(args, g.cs("rank"), rank)
		case 4, 5, 6:
			count := g.pick([]string{"0", "0", "1", "2", "3", "10"})
			if g.chance(0.1) {
				count = g.pick([]string{"-1", "abc", "9223372036854775807"})
			}
			args = append(args, g.cs("count"), count)
		case 7, 8:
			maxlen := g.pick([]string{"0", "1", "2", "3", "5", "10", "500"})
			if g.chance(0.1) {
				maxlen = g.pick([]string{"-1", "abc"})
			}
			args = append(args, g.cs("maxlen"), maxlen)
		default:
			args = append(args, g.pick([]string{"bogus", g.cs("rank"), g.cs("count"), g.cs("maxlen")}))
		}
	}
	return op{args: args}
}

// genLblocking generates BLPOP, BRPOP, BLMOVE, BRPOPLPUSH or BLMPOP with a
// timeout that cannot block (see the file comment).
func (g *gen) genLblocking(inMulti bool) op {
	t := g.ltimeout(inMulti)
	switch name := g.pick([]string{"blpop", "brpop", "blmove", "brpoplpush", "blmpop"}); name {
	case "blpop", "brpop":
		return op{args: argv(g.cs(name), g.lkeys(1, 3), t)}
	case "blmove":
		src, dst := g.lsrcdst()
		return op{args: argv(g.cs(name), src, dst, g.lwhere(), g.lwhere(), t)}
	case "brpoplpush":
		src, dst := g.lsrcdst()
		return op{args: argv(g.cs(name), src, dst, t)}
	default:
		keys := g.lkeys(1, 3)
		return op{args: argv(g.cs(name), t, g.lnumkeys(keys), keys, g.lmpopTail())}
	}
}

// genLpushBulk pushes hundreds of short elements, among them members, so
// that the list spans several quicklist nodes in Redis.
func (g *gen) genLpushBulk(_ bool) op {
	args := []string{g.cs(g.pick([]string{"rpush", "lpush"})), g.lkey()}
	n := 300 + g.n(400)
	for i := range n {
		if i%50 == 7 {
			args = append(args, g.pick(diffMembers))
			continue
		}
		args = append(args, fmt.Sprintf("e%03d", i))
	}
	return op{args: args}
}

// genLgeneric sends the generic key commands (RENAME, COPY, MOVE, EXPIRE,
// TYPE...) with a list key as the source: the shared generators only use
// the shared keys. The destination may be a shared key, never another
// type's value into a list key, so lKeys only ever hold lists.
func (g *gen) genLgeneric(inMulti bool) op {
	src, dst := g.pick(lKeys), g.lkey()
	switch g.n(8) {
	case 0:
		return op{args: argv(g.cs(g.pick([]string{"rename", "renamenx"})), src, dst)}
	case 1:
		args := []string{g.cs("copy"), src, dst}
		if g.chance(0.3) {
			args = append(args, g.cs("db"), g.db())
		}
		if g.chance(0.4) {
			args = append(args, g.cs("replace"))
		}
		return op{args: args}
	case 2:
		return op{args: argv(g.cs("move"), src, g.db())}
	case 3, 4:
		o := g.genExpire(inMulti)
		o.args[1] = src
		return o
	case 5:
		return op{args: argv(g.cs(g.pick([]string{"type", "exists", "persist", "del"})), src)}
	case 6:
		return op{args: argv(g.cs("object"), g.cs("encoding"), src)}
	default:
		return op{args: argv(g.cs("pexpiretime"), src), kind: kPTTL}
	}
}

func listGenerators() []cmdGen {
	return []cmdGen{
		{16, simpleGen(kExact, func(g *gen) []string {
			return argv(g.cs(g.pick([]string{"lpush", "rpush"})), g.lkey(), g.lelems(1, 5))
		})},
		{3, simpleGen(kExact, func(g *gen) []string {
			return argv(g.cs(g.pick([]string{"lpushx", "rpushx"})), g.lkey(), g.lelems(1, 3))
		})},
		{1, func(g *gen, inMulti bool) op {
			if g.chance(0.3) {
				return g.genLpushBulk(inMulti)
			}
			return op{args: argv(g.cs("rpush"), g.lkey(), g.lelems(1, 4))}
		}},
		{7, simpleGen(kExact, func(g *gen) []string {
			args := argv(g.cs(g.pick([]string{"lpop", "rpop"})), g.lkey())
			if g.chance(0.5) {
				args = append(args, g.lcount())
			}
			return args
		})},
		{3, simpleGen(kExact, func(g *gen) []string { return argv(g.cs("llen"), g.lkey()) })},
		{4, simpleGen(kExact, func(g *gen) []string { return argv(g.cs("lindex"), g.lkey(), g.lindex()) })},
		{3, simpleGen(kExact, func(g *gen) []string { return argv(g.cs("lset"), g.lkey(), g.lindex(), g.lelem()) })},
		{8, simpleGen(kExact, func(g *gen) []string {
			start, stop := g.lindex(), g.lindex()
			if g.chance(0.3) {
				start, stop = g.pick([]string{"0", "0", "1", "-3"}), g.pick([]string{"-1", "-1", "2", "-2"})
			}
			return argv(g.cs("lrange"), g.lkey(), start, stop)
		})},
		{3, simpleGen(kExact, func(g *gen) []string {
			// Mostly trims that keep something, or lists would rarely grow.
			start, stop := g.pick([]string{"0", "0", "0", "1", "-10", "-20", "-100"}), g.pick([]string{"-1", "-1", "-1", "-2", "10", "20", "100"})
			if g.chance(0.15) {
				start, stop = g.lindex(), g.lindex()
			}
			return argv(g.cs("ltrim"), g.lkey(), start, stop)
		})},
		{4, simpleGen(kExact, func(g *gen) []string {
			count := g.pick([]string{"0", "1", "1", "2", "-1", "-1", "-2", "3", "-3", "100", "-100"})
			if g.chance(0.07) {
				count = g.pick([]string{"abc", "1.5", "", "-0", "9223372036854775807", "-9223372036854775808"})
			}
			return argv(g.cs("lrem"), g.lkey(), count, g.lfind())
		})},
		{4, simpleGen(kExact, func(g *gen) []string {
			where := g.cs(g.pick([]string{"before", "after"}))
			if g.chance(0.05) {
				where = g.pick([]string{"bogus", "", "left", "beforex"})
			}
			return argv(g.cs("linsert"), g.lkey(), where, g.lfind(), g.lelem())
		})},
		{5, (*gen).genLpos},
		{5, simpleGen(kExact, func(g *gen) []string {
			src, dst := g.lsrcdst()
			return argv(g.cs("lmove"), src, dst, g.lwhere(), g.lwhere())
		})},
		{2, simpleGen(kExact, func(g *gen) []string {
			src, dst := g.lsrcdst()
			return argv(g.cs("rpoplpush"), src, dst)
		})},
		{3, simpleGen(kExact, func(g *gen) []string {
			keys := g.lkeys(1, 3)
			return argv(g.cs("lmpop"), g.lnumkeys(keys), keys, g.lmpopTail())
		})},
		{4, (*gen).genLblocking},
		{3, (*gen).genLgeneric},
		{1, simpleGen(kScan, func(g *gen) []string {
			args := argv(g.cs("scan"), "0", g.cs("type"), g.pick([]string{"list", "list", "LIST", "lists"}))
			if g.chance(0.3) {
				args = append(args, g.cs("match"), g.pick(diffPatterns))
			}
			return args
		})},
	}
}

// listFocusGenerators are TestDiffLists's: the list commands, and a few
// others that put other types on the shared keys, delete, expire and
// move keys, and open and close transactions.
func listFocusGenerators() []cmdGen {
	return append(listGenerators(),
		cmdGen{3, (*gen).genSet},
		cmdGen{2, simpleGen(kExact, func(g *gen) []string { return argv(g.cs("sadd"), g.key(), g.members(1, 3)) })},
		cmdGen{1, simpleGen(kExact, func(g *gen) []string { return argv(g.cs("hset"), g.key(), g.member(), g.value()) })},
		cmdGen{1, simpleGen(kExact, func(g *gen) []string { return argv(g.cs("zadd"), g.key(), "1", g.member()) })},
		cmdGen{1, simpleGen(kExact, func(g *gen) []string { return argv(g.cs("del"), g.lkeys(1, 2)) })},
		cmdGen{2, simpleGen(kExact, func(g *gen) []string { return argv(g.cs("type"), g.lkey()) })},
		cmdGen{2, (*gen).genExpire},
		cmdGen{1, simpleGen(kExact, func(g *gen) []string {
			return argv(g.cs(g.pick([]string{"rename", "copy"})), g.key(), g.key())
		})},
		cmdGen{1, simpleGen(kExact, func(g *gen) []string { return argv(g.cs("select"), g.db()) })},
		cmdGen{4, simpleGen(kExact, func(g *gen) []string { return argv(g.cs("multi")) })},
		cmdGen{1, simpleGen(kExact, func(g *gen) []string { return argv(g.cs("exec")) })},
		cmdGen{2, simpleGen(kExact, func(g *gen) []string { return argv(g.cs("watch"), g.lkeys(1, 2)) })},
		cmdGen{1, simpleGen(kDBSize, func(g *gen) []string { return argv(g.cs("dbsize")) })},
	)
}

// compareListState compares list key k in the final state: its elements
// in order, byte for byte, and its encoding.
func (d *diffRun) compareListState(q func(*rconn, ...string) rv, db int, k string) {
	sv, rv := q(d.inspS, "lrange", k, "0", "-1"), q(d.inspR, "lrange", k, "0", "-1")
	if string(sv.raw) != string(rv.raw) {
		d.fail("final state of db %d key %q: LRANGE 0 -1 sessiond %s, redis %s", db, k, sv, rv)
	}
	se, re := q(d.inspS, "object", "encoding", k), q(d.inspR, "object", "encoding", k)
	if string(se.raw) != string(re.raw) {
		d.fail("final state of db %d key %q: OBJECT ENCODING sessiond %s, redis %s (%d elements)", db, k, se, re, len(rv.elems))
	}
}

// TestDiffLists runs sequences of mostly list commands against sessiond
// and a real redis-server and compares their replies, as TestDiffRedis
// does with every command. DIFF_SEED, DIFF_LONG, DIFF_SEQS and DIFF_CMDS
// apply.
func TestDiffLists(t *testing.T) {
	red := testserver.StartRedis(t)
	srv := testserver.Start(t)
	seed := diffSeedValue()
	t.Logf("seed=%d (replay with DIFF_SEED=%d)", seed, seed)

	seqs, cmds := 10, 300
	if os.Getenv("DIFF_LONG") != "" {
		seqs, cmds = 200, 600
	}
	seqs, cmds = envInt("DIFF_SEQS", seqs), envInt("DIFF_CMDS", cmds)

	gens := listFocusGenerators()
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
					inspS: inspS, inspR: inspR, failures: &failures, cmdsSent: &sent, gens: gens}
				passN := uint64(2) // not TestDiffRedis's streams
				if pass == "resp3" {
					passN = 3
				}
				r := rand.New(rand.NewPCG(uint64(seed), passN<<32|uint64(seq)))
				d.sequence(r, cmds)
			}
		})
	}
	t.Logf("%d sequences x %d commands x 2 protocols: %d commands sent to each server in %v",
		seqs, cmds, sent, time.Since(start).Round(time.Millisecond))
}
