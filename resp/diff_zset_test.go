package resp_test

// Sorted set commands in the differential test (diff_test.go). Sorted sets
// share the key pool with strings, sets and hashes (WRONGTYPE both ways,
// and sets as inputs of ZUNION, ZINTER and ZDIFF) and their members with
// sets and hashes. Scores come from a small pool so that they tie often
// (ties are ordered by member), with negatives, -0, fractions that do not
// add exactly, exponents (1.7e12, 1e-5, 1e17, which Redis formats
// differently in a listpack and in a skiplist), infinities in their
// spellings, denormals, and invalid floats. Now and then a sorted set gets
// more than 128 members or a member longer than 64 bytes, and Redis turns
// it into a skiplist; OBJECT ENCODING is compared for every sorted set.
//
// What is deterministic in Redis is compared exactly: every range (ties
// are ordered by member), ZPOPMIN/ZPOPMAX/ZMPOP, and ZUNION/ZINTER/ZDIFF,
// whose result is a sorted set and so is ordered by score, then member
// (the scores they aggregate are summed in the order of the inputs sorted
// by cardinality, with glibc's stable qsort: deterministic too). What is
// not is compared by invariant:
//
//   - ZRANDMEMBER: against the sorted set before.
//   - ZSCAN: exact when Redis keeps the sorted set as a listpack (one reply,
//     in order), else iterated to completion on both, pairs as sets.
//   - Lexicographic ranges over members with different scores: the result
//     is unspecified (Redis documents that all members should share a
//     score), so such a command is not sent at all (it is noted in the
//     history), unless its range is - to + (always the whole set). In a
//     skiplist Redis's result depends on the skiplist's random levels; in
//     a listpack Redis scans linearly, which is deterministic, and
//     DIFF_ZLEX_LISTPACK=1 compares those too.

import (
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
)

// zlexListpack: DIFF_ZLEX_LISTPACK=1 compares lexicographic ranges over a
// listpack whose members have different scores (see above).
var zlexListpack = os.Getenv("DIFF_ZLEX_LISTPACK") != ""

// Comparison kinds of the sorted set commands (after diff_test.go's and
// diff_hash_test.go's).
const (
	kZrand cmpKind = 200 + iota // ZRANDMEMBER: by invariant against the sorted set before
	kZscan                      // ZSCAN key 0 ...: exact for a listpack in Redis, else iterated to completion, pairs as sets
	kZlex                       // a lexicographic range: exact, not sent when its result depends on Redis's skiplist levels
	kZenc                       // OBJECT ENCODING: exact for a sorted set
)

var (
	// zScores are valid ZADD scores; repeated values make ties likely.
	zScores = []string{"0", "0", "1", "1", "1", "2", "2", "3", "-1", "-2.5", "0.5", "1.5", "10", "-0", "0.1", "0.2", "0.3",
		"1.7e12", "1.7320000000E12", "1732000000000", "1e-5", "1e17", "123456789012345678", "1e308", "-1e308", "1e-320",
		"inf", "-inf", "+inf", "Infinity", "-Infinity", "007", "+1", "0x10", ".5", "5.", "1e2", "3.0", "-3"}
	// zBadScores are what ZADD, ZINCRBY and WEIGHTS reject (strtod with
	// Redis's checks: no blanks, no NaN, no overflow or underflow to 0).
	zBadScores = []string{"nan", "NaN", "-nan", "abc", "", " 1", "1 ", "1e400", "-1e400", "1e-400", "(1", "0x", "infx", "--1", "1,5", "[1"}
	// zBoundNums are score range bounds, used as they are or after "(".
	zBoundNums = []string{"0", "1", "1", "2", "3", "-1", "1.5", "0.5", "10", "-0", "1e17", "1.7e12", "-2.5", "0.3", "1e-5"}
	// zBoundOdd are valid bounds that ZADD would reject, or infinities.
	zBoundOdd = []string{"-inf", "+inf", "inf", "-Infinity", "(inf", "(-inf", "(+inf", "", "(", " 1", "( 1", "1e400", "-1e400", "0x1p1", "(1e-400", "1e-400"}
	// zBadBounds are invalid score bounds.
	zBadBounds = []string{"nan", "(nan", "abc", "1 ", "[1", "((1", "(abc", "+-1", "1e", "-", "+", "[a", "1)"}
	// zLexBounds are valid lexicographic bounds.
	zLexBounds = []string{"-", "+", "-", "+", "[a", "(a", "[m1", "(m1", "[m3", "(m2", "[1", "(10", "[", "(", "[m", "(m", "[\xff", "(-3", "[2", "[b", "(c"}
	// zBadLex are invalid lexicographic bounds.
	zBadLex = []string{"a", "", "--", "++", "+a", "-a", "m1", "1", "*", "inf", "-inf", "]a"}
	// zWeights are WEIGHTS values.
	zWeights = []string{"1", "1", "2", "0", "-1", "0.5", "1.5", "3", "-0", "inf", "-inf", "1e308", "abc", "nan", ""}
	// zTiedScores are the scores of genZaddTied.
	zTiedScores = []string{"0", "0", "1", "-0", "inf"}
	// zIncrScores are increments of ZINCRBY, besides zScores.
	zIncrScores = []string{"inf", "-inf", "0", "-0", "1e308"}
	// zMembers are the usual members: few, so that they are found.
	zMembers = []string{"m1", "m2", "m3", "1", "2", "a", "b", "c"}
	// zExtraMembers order differently from the shared members and bytewise.
	zExtraMembers = []string{"a", "b", "c", "aa", "ab", "b\x00", "\xff", "A", "m", "m10", "-", "+", "[a"}
)

// zKeys are keys mostly used by the sorted set commands, so that most of
// those find a sorted set; the other half of the time they use the shared
// keys, so they meet strings, sets and hashes.
var zKeys = []string{"z1", "z2", "z:3"}

func (g *gen) zkey() string {
	if g.chance(0.55) {
		return g.pick(zKeys)
	}
	return g.key()
}

// zdst returns the destination of a STORE command: mostly one of its own,
// as an empty result deletes it.
func (g *gen) zdst() string {
	if g.chance(0.6) {
		return g.pick([]string{"zd", "zd", "z:3"})
	}
	return g.zkey()
}

// zlkey returns the key of a lexicographic command: half the time "zl",
// which only genZaddTied writes, so its members share score 0 and every
// lexicographic range over it is specified.
func (g *gen) zlkey() string {
	if g.chance(0.5) {
		return "zl"
	}
	return g.zkey()
}

func (g *gen) zkeys(lo, hi int) []string {
	out := make([]string, lo+g.n(hi-lo+1))
	for i := range out {
		out[i] = g.zkey()
	}
	return out
}

func (g *gen) zscore() string {
	if g.chance(0.06) {
		return g.pick(zBadScores)
	}
	return g.pick(zScores)
}

func (g *gen) zmember() string {
	switch x := g.n(100); {
	case x < 65:
		return g.pick(zMembers)
	case x < 85:
		return g.member()
	case x < 97:
		return g.pick(zExtraMembers)
	case x < 98:
		return strings.Repeat("z", 64) // the longest a listpack keeps
	default:
		return strings.Repeat("z", 65) // turns the sorted set into a skiplist
	}
}

func (g *gen) zmembers(lo, hi int) []string {
	out := make([]string, lo+g.n(hi-lo+1))
	for i := range out {
		out[i] = g.zmember()
	}
	return out
}

// zbound returns a score range bound.
func (g *gen) zbound() string {
	switch x := g.n(100); {
	case x < 70:
		b := g.pick(zBoundNums)
		if g.chance(0.35) {
			b = "(" + b
		}
		return b
	case x < 94:
		return g.pick(zBoundOdd)
	default:
		return g.pick(zBadBounds)
	}
}

// zscoreRange returns min and max, mostly in order, sometimes reversed.
func (g *gen) zscoreRange() (string, string) {
	lo, hi := g.zbound(), g.zbound()
	if g.chance(0.3) {
		lo = g.pick([]string{"-inf", "-inf", "(-inf", "-1", "0", "(0"})
	}
	if g.chance(0.3) {
		hi = g.pick([]string{"+inf", "+inf", "inf", "(+inf", "3", "(2", "10"})
	}
	return lo, hi
}

func (g *gen) zlex() string {
	if g.chance(0.06) {
		return g.pick(zBadLex)
	}
	return g.pick(zLexBounds)
}

// zlexRange returns min and max, mostly in order, sometimes reversed.
func (g *gen) zlexRange() (string, string) {
	lo, hi := g.zlex(), g.zlex()
	rank := func(b string) string { // "-" < any item < "+"
		switch b {
		case "-":
			return ""
		case "+":
			return "\xff\xff"
		}
		return b[1:] + "\x00"
	}
	if g.chance(0.75) && len(lo) > 0 && len(hi) > 0 && rank(lo) > rank(hi) {
		lo, hi = hi, lo
	}
	return lo, hi
}

// zlimit returns LIMIT offset count.
func (g *gen) zlimit() []string {
	return []string{g.cs("limit"), g.pick([]string{"0", "0", "0", "1", "2", "-1", "5", "abc"}),
		g.pick([]string{"1", "2", "3", "-1", "-1", "-5", "0", "10", "abc", "9223372036854775807"})}
}

// zrank returns a rank index, sometimes out of range.
func (g *gen) zrank() string {
	if g.chance(0.1) {
		return g.pick([]string{"100", "-100", "200", "-200"})
	}
	return g.int(-6, 6)
}

func (g *gen) genZadd(_ bool) op {
	args := []string{g.cs("zadd"), g.zkey()}
	incr := false
	nopt := 0
	if g.chance(0.6) {
		nopt = 1 + g.n(3)
	}
	for range nopt {
		opt := g.pick([]string{"nx", "xx", "gt", "lt", "ch", "ch", "incr", "gt", "xx", "lt"})
		incr = incr || opt == "incr"
		args = append(args, g.cs(opt))
	}
	npairs := 1 + g.n(4)
	if incr && g.chance(0.85) {
		npairs = 1
	}
	for range npairs {
		args = append(args, g.zscore(), g.zmember())
	}
	switch x := g.n(100); {
	case x < 3:
		args = args[:len(args)-1] // a score without its member
	case x < 4:
		args = args[:2+nopt] // options only
	case x < 5:
		args = slices.Insert(args, 2+nopt, g.pick([]string{"bogus", "NX", "incr"}))
	}
	return op{args: args}
}

// genZaddTied adds several members with one score: lexicographic ranges
// are specified for such sorted sets.
func (g *gen) genZaddTied(_ bool) op {
	s, key := g.pick(zTiedScores), g.zkey()
	if g.chance(0.6) {
		s, key = "0", "zl"
	}
	args := []string{g.cs("zadd"), key}
	for range 2 + g.n(5) {
		args = append(args, s, g.zmember())
	}
	return op{args: args}
}

// genZaddBulk adds 120 to 140 members, so Redis converts the sorted set
// into a skiplist past 128.
func (g *gen) genZaddBulk(_ bool) op {
	args := []string{g.cs("zadd"), g.zkey()}
	n := g.pick([]string{"120", "128", "129", "140"})
	cnt, _ := strconv.Atoi(n)
	mod := 1 + g.n(7)
	for i := range cnt {
		score := strconv.Itoa(i % mod)
		if i%11 == 0 {
			score = g.pick(zScores)
		}
		args = append(args, score, fmt.Sprintf("b%03d", (i*37)%cnt))
	}
	return op{args: args}
}

// genZrange generates ZRANGE or ZRANGESTORE with the options in any order.
func (g *gen) genZrange(inMulti bool) op {
	store := g.chance(0.3)
	args := []string{g.cs("zrange")}
	if store {
		args = []string{g.cs("zrangestore"), g.zdst()}
	}
	mode := g.pick([]string{"rank", "rank", "score", "score", "lex"})
	if inMulti && mode == "lex" {
		mode = "score"
	}
	if mode == "lex" {
		args = append(args, g.zlkey())
	} else {
		args = append(args, g.zkey())
	}
	var opts [][]string
	rev := g.chance(0.3)
	if rev {
		opts = append(opts, []string{g.cs("rev")})
	}
	switch mode {
	case "rank":
		args = append(args, g.zrank(), g.zrank())
		if g.chance(0.05) {
			opts = append(opts, g.zlimit()) // an error, except LIMIT x -1
		}
	case "score":
		lo, hi := g.zscoreRange()
		if rev {
			lo, hi = hi, lo
		}
		args = append(args, lo, hi)
		opts = append(opts, []string{g.cs("byscore")})
		if g.chance(0.35) {
			opts = append(opts, g.zlimit())
		}
	case "lex":
		lo, hi := g.zlexRange()
		if rev {
			lo, hi = hi, lo
		}
		args = append(args, lo, hi)
		opts = append(opts, []string{g.cs("bylex")})
		if g.chance(0.35) {
			opts = append(opts, g.zlimit())
		}
	}
	if g.chance(0.4) && (!store || g.chance(0.1)) && (mode != "lex" || g.chance(0.2)) {
		opts = append(opts, []string{g.cs("withscores")})
	}
	if g.chance(0.04) {
		extra := []string{g.cs("byscore"), g.cs("rev"), g.cs("limit"), "bogus"}
		if !inMulti {
			extra = append(extra, g.cs("bylex"))
		}
		opts = append(opts, []string{g.pick(extra)})
	}
	g.r.Shuffle(len(opts), func(i, j int) { opts[i], opts[j] = opts[j], opts[i] })
	for _, o := range opts {
		args = append(args, o...)
	}
	kind := kExact
	if slices.ContainsFunc(args, func(a string) bool { return strings.EqualFold(a, "bylex") }) {
		kind = kZlex
	}
	return op{args: args, kind: kind}
}

// genZrangeOld generates the older range commands.
func (g *gen) genZrangeOld(inMulti bool) op {
	name := g.pick([]string{"zrevrange", "zrangebyscore", "zrevrangebyscore", "zrangebylex", "zrevrangebylex"})
	if inMulti && strings.HasSuffix(name, "lex") {
		name = "zrangebyscore"
	}
	args := []string{g.cs(name), g.zkey()}
	kind := kExact
	if strings.HasSuffix(name, "lex") {
		args[1] = g.zlkey()
	}
	switch name {
	case "zrevrange":
		args = append(args, g.zrank(), g.zrank())
		if g.chance(0.4) {
			args = append(args, g.cs("withscores"))
		}
	case "zrangebyscore", "zrevrangebyscore":
		lo, hi := g.zscoreRange()
		if name == "zrevrangebyscore" {
			lo, hi = hi, lo
		}
		args = append(args, lo, hi)
		var opts [][]string
		if g.chance(0.4) {
			opts = append(opts, []string{g.cs("withscores")})
		}
		if g.chance(0.4) {
			opts = append(opts, g.zlimit())
		}
		if g.chance(0.04) {
			opts = append(opts, []string{g.pick([]string{g.cs("byscore"), g.cs("rev"), g.cs("limit"), "bogus"})})
		}
		g.r.Shuffle(len(opts), func(i, j int) { opts[i], opts[j] = opts[j], opts[i] })
		for _, o := range opts {
			args = append(args, o...)
		}
	default:
		kind = kZlex
		lo, hi := g.zlexRange()
		if name == "zrevrangebylex" {
			lo, hi = hi, lo
		}
		args = append(args, lo, hi)
		if g.chance(0.4) {
			args = append(args, g.zlimit()...)
		}
		if g.chance(0.05) {
			args = append(args, g.pick([]string{g.cs("withscores"), g.cs("bylex"), "bogus"}))
		}
	}
	return op{args: args, kind: kind}
}

func (g *gen) genZremrange(inMulti bool) op {
	name := g.pick([]string{"zremrangebyrank", "zremrangebyscore", "zremrangebylex"})
	if inMulti && name == "zremrangebylex" {
		name = "zremrangebyscore"
	}
	args := []string{g.cs(name), g.zkey()}
	switch name {
	case "zremrangebyrank":
		return op{args: append(args, g.zrank(), g.zrank())}
	case "zremrangebyscore":
		lo, hi := g.zscoreRange()
		return op{args: append(args, lo, hi)}
	}
	args[1] = g.zlkey()
	lo, hi := g.zlexRange()
	return op{args: append(args, lo, hi), kind: kZlex}
}

func (g *gen) genZrand(_ bool) op {
	args := []string{g.cs("zrandmember"), g.zkey()}
	if g.chance(0.75) {
		count := g.pick([]string{"0", "1", "1", "2", "2", "3", "3", "5", "10", "200", "-1", "-2", "-3", "-5", "-10"})
		if g.chance(0.1) {
			count = g.pick([]string{"abc", "1.5", "", "-9223372036854775808", "4611686018427387904", "-4611686018427387904", "9223372036854775807"})
		}
		args = append(args, count)
		// A huge negative count is an error only WITHSCORES; without, both
		// servers would try to send that many members.
		if g.chance(0.5) || strings.HasPrefix(args[2], "-4611686018427387904") {
			ws := g.cs("withscores")
			if g.chance(0.05) {
				ws = g.pick([]string{"withscore", "bogus"})
			}
			args = append(args, ws)
		}
		if g.chance(0.05) {
			args = append(args, "extra")
		}
	}
	return op{args: args, kind: kZrand}
}

func (g *gen) genZscan(_ bool) op {
	args := []string{g.cs("zscan"), g.zkey(), "0"}
	if g.chance(0.05) {
		args[2] = g.pick([]string{"abc", "", " 1", "99999999999999999999", "0\x00"})
	}
	for range g.n(3) {
		switch g.n(5) {
		case 0, 1:
			args = append(args, g.cs("match"), g.pick([]string{"*", "m*", "1*", "?", "[m1]*", "x", "b1*", "*[0-9]"}))
		case 2, 3:
			args = append(args, g.cs("count"), g.pick([]string{"1", "2", "10", "0", "-1", "abc", "1000"}))
		default:
			args = append(args, g.pick([]string{"bogus", g.cs("type"), g.cs("count"), g.cs("novalues")}))
		}
	}
	return op{args: args, kind: kZscan}
}

// genZsetop generates ZUNION, ZINTER, ZDIFF, their STORE forms and ZINTERCARD.
func (g *gen) genZsetop(_ bool) op {
	name := g.pick([]string{"zunion", "zinter", "zdiff", "zunionstore", "zinterstore", "zdiffstore", "zintercard"})
	store := strings.HasSuffix(name, "store")
	args := []string{g.cs(name)}
	if store {
		args = append(args, g.zdst())
	}
	keys := g.zkeys(1, 3)
	nk := strconv.Itoa(len(keys))
	diff := strings.HasPrefix(name, "zdiff")
	card := name == "zintercard"
	if g.chance(0.08) {
		nk = g.pick([]string{"0", "-1", strconv.Itoa(len(keys) + 1), "abc", "9223372036854775807", ""})
	}
	args = append(args, nk)
	args = append(args, keys...)
	if card {
		if g.chance(0.4) {
			args = append(args, g.cs("limit"), g.pick([]string{"0", "1", "2", "-1", "abc"}))
		}
	} else {
		var opts [][]string
		if g.chance(0.35) && (!diff || g.chance(0.1)) {
			w := []string{g.cs("weights")}
			n := len(keys)
			if g.chance(0.08) {
				n += g.pick2(-1, 1)
			}
			for range max(n, 0) {
				w = append(w, g.pick(zWeights))
			}
			opts = append(opts, w)
		}
		if g.chance(0.35) && (!diff || g.chance(0.1)) {
			opts = append(opts, []string{g.cs("aggregate"), g.cs(g.pick([]string{"sum", "min", "max", "sum", "min", "max", "avg"}))})
		}
		if g.chance(0.5) && (!store || g.chance(0.1)) {
			opts = append(opts, []string{g.cs("withscores")})
		}
		g.r.Shuffle(len(opts), func(i, j int) { opts[i], opts[j] = opts[j], opts[i] })
		for _, o := range opts {
			args = append(args, o...)
		}
	}
	if g.chance(0.03) {
		args = append(args, g.pick([]string{"bogus", g.cs("weights"), g.cs("aggregate"), g.cs("limit")}))
	}
	return op{args: args}
}

// pick2 returns a or b.
func (g *gen) pick2(a, b int) int {
	if g.chance(0.5) {
		return a
	}
	return b
}

func (g *gen) genZmpop(_ bool) op {
	keys := g.zkeys(1, 3)
	nk := strconv.Itoa(len(keys))
	if g.chance(0.08) {
		nk = g.pick([]string{"0", "-1", strconv.Itoa(len(keys) + 1), "abc"})
	}
	where := g.cs(g.pick([]string{"min", "max"}))
	if g.chance(0.05) {
		where = g.pick([]string{"bogus", "", "count"})
	}
	args := argv(g.cs("zmpop"), nk, keys, where)
	if g.chance(0.5) {
		count := g.pick([]string{"1", "2", "3", "10", "1", "2"})
		if g.chance(0.15) {
			count = g.pick([]string{"0", "-1", "abc", "9223372036854775807"})
		}
		args = append(args, g.cs("count"), count)
	}
	if g.chance(0.03) {
		args = append(args, g.pick([]string{"bogus", g.cs("count")}))
	}
	return op{args: args}
}

func zsetGenerators() []cmdGen {
	return []cmdGen{
		{14, (*gen).genZadd},
		{4, (*gen).genZaddTied},
		{1, func(g *gen, inMulti bool) op {
			if g.chance(0.3) {
				return (*gen).genZaddBulk(g, inMulti)
			}
			return (*gen).genZadd(g, inMulti)
		}},
		{4, simpleGen(kExact, func(g *gen) []string {
			incr := g.zscore()
			if g.chance(0.3) {
				incr = g.pick(zIncrScores)
			}
			return argv(g.cs("zincrby"), g.zkey(), incr, g.zmember())
		})},
		{5, simpleGen(kExact, func(g *gen) []string { return argv(g.cs("zrem"), g.zkey(), g.zmembers(1, 3)) })},
		{3, simpleGen(kExact, func(g *gen) []string { return argv(g.cs("zcard"), g.zkey()) })},
		{4, simpleGen(kExact, func(g *gen) []string { return argv(g.cs("zscore"), g.zkey(), g.zmember()) })},
		{2, simpleGen(kExact, func(g *gen) []string { return argv(g.cs("zmscore"), g.zkey(), g.zmembers(1, 3)) })},
		{3, simpleGen(kExact, func(g *gen) []string {
			lo, hi := g.zscoreRange()
			return argv(g.cs("zcount"), g.zkey(), lo, hi)
		})},
		{2, func(g *gen, inMulti bool) op {
			if inMulti {
				return op{args: argv(g.cs("zlexcount"), g.zkey(), g.pick(zBadLex), g.zlex())}
			}
			lo, hi := g.zlexRange()
			return op{args: argv(g.cs("zlexcount"), g.zlkey(), lo, hi), kind: kZlex}
		}},
		{4, simpleGen(kExact, func(g *gen) []string {
			return argv(g.cs(g.pick([]string{"zrank", "zrevrank"})), g.zkey(), g.zmember())
		})},
		{9, (*gen).genZrange},
		{6, (*gen).genZrangeOld},
		{3, (*gen).genZremrange},
		{4, simpleGen(kExact, func(g *gen) []string {
			args := argv(g.cs(g.pick([]string{"zpopmin", "zpopmax"})), g.zkey())
			if g.chance(0.6) {
				args = append(args, g.int(-1, 4))
			}
			return args
		})},
		{3, (*gen).genZrand},
		{2, (*gen).genZscan},
		{7, (*gen).genZsetop},
		{2, (*gen).genZmpop},
		{1, simpleGen(kZenc, func(g *gen) []string { return argv(g.cs("object"), g.cs("encoding"), g.zkey()) })},
		{1, simpleGen(kScan, func(g *gen) []string {
			args := argv(g.cs("scan"), "0", g.cs("type"), g.pick([]string{"zset", "zset", "ZSET", "sortedset"}))
			if g.chance(0.3) {
				args = append(args, g.cs("match"), g.pick(diffPatterns))
			}
			return args
		})},
	}
}

// ---------------------------------------------------------------------------
// Checks.

// zsetPairs returns the (member, score) pairs of a WITHSCORES reply: flat
// in RESP2, nested pairs in RESP3.
func zsetPairs(v rv) [][2]rv {
	var out [][2]rv
	if len(v.elems) > 0 && v.elems[0].typ == '*' {
		for _, p := range v.elems {
			if len(p.elems) == 2 {
				out = append(out, [2]rv{p.elems[0], p.elems[1]})
			}
		}
		return out
	}
	for i := 0; i+1 < len(v.elems); i += 2 {
		out = append(out, [2]rv{v.elems[i], v.elems[i+1]})
	}
	return out
}

// zsetEqual compares replies of the sorted set kinds without asking the
// servers anything (a queued command's reply inside EXEC).
func zsetEqual(k cmpKind, a, b rv) string {
	switch k {
	case kZrand:
		if a.typ != b.typ || len(a.elems) != len(b.elems) {
			return "type and length"
		}
	case kZscan:
		if a.typ != '*' || b.typ != '*' || len(a.elems) != 2 || len(b.elems) != 2 ||
			a.elems[0].typ != '$' || b.elems[0].typ != '$' || a.elems[1].typ != b.elems[1].typ {
			return "scan reply shape"
		}
	case kZlex:
		if string(a.raw) != string(b.raw) {
			return "exact"
		}
	case kZenc:
		if (a.str == "skiplist" || b.str == "skiplist") && string(a.raw) != string(b.raw) {
			return "exact (a skiplist)"
		}
	}
	return ""
}

// checkZset compares the replies of the sorted set kinds.
func (d *diffRun) checkZset(c *diffClient, o op, a, b, before rv) {
	switch o.kind {
	case kZrand:
		d.checkZrand(o, before, a, b)
	case kZscan:
		d.checkZscan(c, o, a, b)
	case kZlex:
		if string(a.raw) != string(b.raw) {
			d.mismatch(o, a, b, "exact")
		}
	case kZenc:
		if !c.inMulti && !d.pipelined {
			if t := d.redisOnly(c, "type", o.args[2]); t.str == "zset" && string(a.raw) != string(b.raw) {
				d.mismatch(o, a, b, "exact (OBJECT ENCODING of a sorted set)")
			}
			return
		}
		if why := zsetEqual(o.kind, a, b); why != "" {
			d.mismatch(o, a, b, why)
		}
	}
}

// zlexKeyIndex returns the position of the source key of a lex range command.
func zlexKeyIndex(o op) int {
	if strings.EqualFold(o.args[0], "zrangestore") {
		return 2
	}
	return 1
}

// zlexComparable reports whether a lexicographic range command has one
// result in Redis: its source is not a sorted set, or a listpack (scanned
// linearly), or its members all have one score, or the range is - to +.
// Redis is asked; both servers hold the same data.
func (d *diffRun) zlexComparable(c *diffClient, o op) (bool, string) {
	ki := zlexKeyIndex(o)
	if len(o.args) < ki+3 {
		return true, ""
	}
	lo, hi := o.args[ki+1], o.args[ki+2]
	if lo == "-" && hi == "+" || lo == "+" && hi == "-" {
		return true, ""
	}
	key := o.args[ki]
	if t := d.redisOnly(c, "type", key); t.str != "zset" {
		return true, ""
	}
	if zlexListpack {
		if enc := d.redisOnly(c, "object", "encoding", key); enc.str == "listpack" {
			return true, ""
		}
	}
	pairs := zsetPairs(d.redisOnly(c, "zrange", key, "0", "-1", "withscores"))
	for _, p := range pairs {
		x, _ := strconv.ParseFloat(p[1].str, 64)
		y, _ := strconv.ParseFloat(pairs[0][1].str, 64)
		if x != y && !(math.IsNaN(x) && math.IsNaN(y)) {
			return false, "a skiplist whose members have different scores"
		}
	}
	return true, ""
}

// checkZrand checks ZRANDMEMBER's reply against the sorted set before.
func (d *diffRun) checkZrand(o op, before, a, b rv) {
	zs := map[string]string{}
	for _, p := range zsetPairs(before) {
		zs[p[0].str] = string(p[1].raw)
	}
	if len(o.args) == 2 {
		if a.null != b.null || a.typ != b.typ {
			d.mismatch(o, a, b, "ZRANDMEMBER null or not")
		}
		if _, ok := zs[a.str]; !a.null && !ok {
			d.mismatch(o, a, b, "ZRANDMEMBER returned a non-member")
		}
		return
	}
	if a.typ != b.typ || len(a.elems) != len(b.elems) {
		d.mismatch(o, a, b, "type and length")
	}
	withScores := len(o.args) == 4
	var members []string
	if withScores {
		for _, p := range zsetPairs(a) {
			want, ok := zs[p[0].str]
			if !ok {
				d.mismatch(o, a, b, fmt.Sprintf("ZRANDMEMBER returned %q, not a member", p[0].str))
			}
			if string(p[1].raw) != want {
				d.mismatch(o, a, b, fmt.Sprintf("ZRANDMEMBER returned %q with score %q, the sorted set has %q", p[0].str, p[1].raw, want))
			}
			members = append(members, p[0].str)
		}
		if 2*len(members) != len(a.elems) && len(members) != len(a.elems) {
			d.mismatch(o, a, b, "ZRANDMEMBER WITHSCORES shape")
		}
		if len(a.elems) > 0 && a.elems[0].typ != b.elems[0].typ {
			d.mismatch(o, a, b, "ZRANDMEMBER WITHSCORES shape (flat or pairs)")
		}
	} else {
		for _, m := range a.elems {
			if _, ok := zs[m.str]; !ok {
				d.mismatch(o, a, b, fmt.Sprintf("ZRANDMEMBER returned %q, not a member", m.str))
			}
			members = append(members, m.str)
		}
	}
	if n, _ := strconv.ParseInt(o.args[2], 10, 64); n >= 0 && len(sortedSet(members)) != len(members) {
		d.mismatch(o, a, b, "ZRANDMEMBER with a positive count repeated a member")
	}
}

// checkZscan compares ZSCAN: exactly when Redis keeps the sorted set as a
// listpack, else iterated to completion on both servers, the (member,
// score) pairs as sets; no member may repeat.
func (d *diffRun) checkZscan(c *diffClient, o op, a, b rv) {
	if !c.inMulti && !d.pipelined {
		if enc := d.redisOnly(c, "object", "encoding", o.args[1]); enc.str == "listpack" {
			if string(a.raw) != string(b.raw) {
				d.mismatch(o, a, b, "exact (a listpack sorted set is scanned in one reply, in order)")
			}
			return
		}
	}
	if why := zsetEqual(kZscan, a, b); why != "" {
		d.mismatch(o, a, b, why)
	}
	if c.inMulti || d.pipelined {
		return
	}
	collect := func(who string, conn *rconn, first rv) []string {
		var all []string
		v := first
		for range 10000 {
			if v.typ != '*' || len(v.elems) != 2 || v.elems[0].typ != '$' || v.elems[1].typ != '*' || len(v.elems[1].elems)%2 != 0 {
				d.mismatch(o, a, b, who+" ZSCAN reply shape")
			}
			for i := 0; i+1 < len(v.elems[1].elems); i += 2 {
				all = append(all, v.elems[1].elems[i].str+"\x00"+v.elems[1].elems[i+1].str)
			}
			if v.elems[0].str == "0" {
				return all
			}
			args := slices.Clone(o.args)
			args[2] = v.elems[0].str
			var err error
			if v, err = conn.do(args...); err != nil {
				d.fail("%s: %v", who, err)
			}
		}
		d.fail("%s: ZSCAN did not finish", who)
		return nil
	}
	sp, rp := collect("sessiond", c.s, a), collect("redis", c.r, b)
	if len(sortedSet(sp)) != len(sp) {
		d.mismatch(o, a, b, fmt.Sprintf("sessiond ZSCAN returned a pair twice: %q", sp))
	}
	if !slices.Equal(sortedSet(sp), sortedSet(rp)) {
		d.mismatch(o, a, b, fmt.Sprintf("complete ZSCAN as sets of pairs: sessiond %q, redis %q", sortedSet(sp), sortedSet(rp)))
	}
}

// compareZsetState compares sorted set key k in the final state: members
// and scores in order, byte for byte, and the encoding.
func (d *diffRun) compareZsetState(q func(*rconn, ...string) rv, db int, k string) {
	sv, rv := q(d.inspS, "zrange", k, "0", "-1", "withscores"), q(d.inspR, "zrange", k, "0", "-1", "withscores")
	if string(sv.raw) != string(rv.raw) {
		d.fail("final state of db %d key %q: ZRANGE 0 -1 WITHSCORES sessiond %s, redis %s", db, k, sv, rv)
	}
	se, re := q(d.inspS, "object", "encoding", k), q(d.inspR, "object", "encoding", k)
	if string(se.raw) != string(re.raw) {
		d.fail("final state of db %d key %q: OBJECT ENCODING sessiond %s, redis %s (%d members)", db, k, se, re, len(rv.elems)/2)
	}
}
