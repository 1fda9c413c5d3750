package resp_test

// Sorted set commands: exact raw replies, pinned in RESP2 and RESP3, and
// compared byte for byte with a real redis-server 7.0 (TestZsetRepliesRedis
// proves every pin against Redis first, then compares sessiond's reply,
// pinned or not, with Redis's). Error texts and the order of the checks
// (syntax, then values, then the key's type), option conflicts, float
// parsing and formatting (Redis's %.17g, and in a listpack the integer
// form and no -0), NaN, ranges and their bounds, the RESP3 shapes
// (doubles, nested WITHSCORES pairs, nulls), OBJECT ENCODING, the
// keyspace events of class z, and which commands abort a WATCH.

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"sessiond/internal/testserver"
)

const (
	zsyntaxR     = "-ERR syntax error\r\n"
	zfloatR      = "-ERR value is not a valid float\r\n"
	zminmaxR     = "-ERR min or max is not a float\r\n"
	zlexR        = "-ERR min or max not valid string range item\r\n"
	znanR        = "-ERR resulting score is not a number (NaN)\r\n"
	zpositiveR   = "-ERR value is out of range, must be positive\r\n"
	zweightR     = "-ERR weight value is not a float\r\n"
	zlimitRankR  = "-ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX\r\n"
	zlexScoresR  = "-ERR syntax error, WITHSCORES not supported in combination with BYLEX\r\n"
	zxxnxR       = "-ERR XX and NX options at the same time are not compatible\r\n"
	zgtltnxR     = "-ERR GT, LT, and/or NX options at the same time are not compatible\r\n"
	zincrPairR   = "-ERR INCR option supports a single increment-element pair\r\n"
	zemptyR      = "*0\r\n"
	znull3R      = "_\r\n"
	zinvalidCurR = "-ERR invalid cursor\r\n"
)

// zarity is the arity error of a command.
func zarity(name string) string {
	return "-ERR wrong number of arguments for '" + name + "' command\r\n"
}

// zarr is an array of already encoded replies.
func zarr(elems ...string) string {
	return fmt.Sprintf("*%d\r\n", len(elems)) + strings.Join(elems, "")
}

// zbulks is an array of bulk strings.
func zbulks(vs ...string) string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = rbulk(v)
	}
	return zarr(out...)
}

// zdbl is a RESP3 double.
func zdbl(v string) string { return "," + v + "\r\n" }

// zpairs2 is a flat member, score list in RESP2 (scores as bulk strings);
// zpairs3 the RESP3 form: an array of [member, double] pairs.
func zpairs2(ms ...string) string { return zbulks(ms...) }

func zpairs3(ms ...string) string {
	var out []string
	for i := 0; i+1 < len(ms); i += 2 {
		out = append(out, zarr(rbulk(ms[i]), zdbl(ms[i+1])))
	}
	return zarr(out...)
}

// zws is a step whose reply is a WITHSCORES list in both protocols.
func zws(line string, ms ...string) hstep { return hs3(line, zpairs2(ms...), zpairs3(ms...)) }

// zsc is a step whose reply is one score: a bulk string, a RESP3 double.
func zsc(line, score string) hstep { return hs3(line, rbulk(score), zdbl(score)) }

// znil is a step whose reply is a null bulk string (RESP3 null).
func znil(line string) hstep { return hs3(line, nilR, znull3R) }

var (
	z64 = strings.Repeat("z", 64) // the longest member a listpack keeps
	z65 = strings.Repeat("y", 65) // one byte more: a skiplist
)

// zbig returns ZADD key with n members m000..., scores 0 to n-1.
func zbig(key string, n int) hstep {
	args := []string{"ZADD", key}
	for i := range n {
		args = append(args, fmt.Sprint(i), fmt.Sprintf("m%03d", i))
	}
	return hsArgs(":"+fmt.Sprint(n)+"\r\n", args...)
}

var zsetCases = []struct {
	name  string
	steps []hstep
}{
	{"zadd basics", []hstep{
		hs("ZADD z 1 a 2 b 3 c", ":3\r\n"), hs("ZADD z 1 a", ":0\r\n"), hs("ZADD z CH 5 a 2 b", ":1\r\n"),
		hs("ZADD z ch CH 6 a", ":1\r\n"), hs("ZADD z 7 a 8 a", ":0\r\n"), zsc("ZSCORE z a", "8"), hs("ZCARD z", ":3\r\n"),
		hs("ZADD z 1", zarity("zadd")), hs("ZADD z", zarity("zadd")), hs("ZADD z NX", zarity("zadd")),
		hs("ZADD z 1 a 2", zsyntaxR), hs("ZADD z NX XX", zsyntaxR), hs("ZADD z NX 1", zsyntaxR), hs("ZADD z bogus 1 a", zsyntaxR),
		hs("ZADD z 1 a bogus", zsyntaxR), hs("ZADD z 1 a x b", zfloatR), hs("ZCARD z", ":3\r\n"), hs("ZCARD nokey", ":0\r\n"),
		hs("ZCARD", zarity("zcard")), hs("ZCARD z z", zarity("zcard")), hs("TYPE z", "+zset\r\n"),
	}},
	{"zadd option conflicts and their order", []hstep{
		hs("ZADD z NX XX 1 a", zxxnxR), hs("ZADD z XX NX 1 a", zxxnxR), hs("ZADD z GT LT 1 a", zgtltnxR),
		hs("ZADD z NX GT 1 a", zgtltnxR), hs("ZADD z LT NX 1 a", zgtltnxR), hs("ZADD z GT LT NX 1 a", zgtltnxR),
		hs("ZADD z INCR 1 a 2 b", zincrPairR), hs("ZADD z NX XX GT LT INCR 1 a 2 b", zxxnxR),
		hs("ZADD z GT LT INCR 1 a 2 b", zgtltnxR), hs("ZADD z INCR 1 a 2", zsyntaxR), hs("ZADD z NX XX abc a", zxxnxR),
		hs("ZADD z INCR abc a", zfloatR), hs("ZADD z INCR 1 a abc b", zincrPairR), hs("ZADD z XX GT 1 a", ":0\r\n"),
		hs("ZADD z XX LT CH 1 a", ":0\r\n"), hs("EXISTS z", ":0\r\n"), hs("SET str x", okR), hs("ZADD str NX XX 1 a", zxxnxR),
		hs("ZADD str 1 a 2", zsyntaxR), hs("ZADD str abc a", zfloatR), hs("ZADD str 1 a", wrongR), hs("ZADD str XX 1 a", wrongR),
		hs("ZINCRBY str abc a", zfloatR), hs("ZINCRBY str 1 a", wrongR),
	}},
	{"zadd nx xx gt lt ch", []hstep{
		hs("ZADD z 5 a", ":1\r\n"), hs("ZADD z NX 1 a 2 b", ":1\r\n"), zsc("ZSCORE z a", "5"), hs("ZADD z XX 7 a 3 c", ":0\r\n"),
		zsc("ZSCORE z a", "7"), znil("ZSCORE z c"), hs("ZADD z XX CH 8 a 3 c", ":1\r\n"), hs("ZADD z GT 1 a", ":0\r\n"),
		hs("ZADD z GT CH 9 a 1 b", ":1\r\n"), hs("ZADD z LT CH 9 a 1 b 4 d", ":2\r\n"), hs("ZADD z GT 0 e", ":1\r\n"),
		hs("ZADD z LT 100 f", ":1\r\n"), hs("ZADD z GT XX CH 100 f 0 g", ":0\r\n"), hs("ZADD z GT XX CH 101 f 0 g", ":1\r\n"),
		hs("ZADD z NX CH 0 a 0 h", ":1\r\n"),
		zws("ZRANGE z 0 -1 WITHSCORES", "e", "0", "h", "0", "b", "1", "d", "4", "a", "9", "f", "101"),
	}},
	{"zadd incr and zincrby", []hstep{
		zsc("ZADD z INCR 2 a", "2"), zsc("ZADD z INCR 1.5 a", "3.5"), znil("ZADD z NX INCR 1 a"), znil("ZADD z XX INCR 1 b"),
		znil("ZADD z GT INCR -1 a"), zsc("ZADD z LT INCR -1 a", "2.5"), zsc("ZADD z INCR CH 1 a", "3.5"), znil("ZADD z LT INCR 0 a"),
		zsc("ZADD z NX INCR 1 b", "1"), zsc("ZINCRBY z 0.1 a", "3.6000000000000001"), zsc("ZINCRBY z -3.6000000000000001 a", "0"),
		zsc("ZINCRBY z 5 new", "5"), zsc("ZINCRBY z 0 new", "5"), hs("ZINCRBY z abc a", zfloatR), hs("ZINCRBY z 1", zarity("zincrby")),
		hs("ZINCRBY z 1 a b", zarity("zincrby")), znil("ZADD nokey XX INCR 1 a"), hs("EXISTS nokey", ":0\r\n"),
		zsc("ZINCRBY fresh 1e308 m", "1e+308"), zsc("ZINCRBY fresh 1e308 m", "inf"),
	}},
	{"nan from increments", []hstep{
		hs("ZADD z inf a -inf b", ":2\r\n"), hs("ZINCRBY z -inf a", znanR), hs("ZADD z INCR -inf a", znanR),
		hs("ZADD z INCR +inf b", znanR), hs("ZINCRBY z Infinity b", znanR), zsc("ZSCORE z a", "inf"), zsc("ZSCORE z b", "-inf"),
		zsc("ZADD z INCR +inf a", "inf"), zsc("ZINCRBY z -1 b", "-inf"), hs("ZADD z nan c", zfloatR), hs("ZINCRBY z nan a", zfloatR),
		hs("ZADD z -nan c", zfloatR), hs("ZADD z 1 c inf a", ":1\r\n"), hs("ZADD z CH -inf a -inf c", ":2\r\n"),
		zws("ZRANGE z 0 -1 WITHSCORES", "a", "-inf", "b", "-inf", "c", "-inf"),
	}},
	{"float parsing and formatting", []hstep{
		hs("ZADD z 0.1 a 1.7e12 b 1e-5 c 1.7320000000E12 d 1e17 e 123456789012345678 f 1e-320 g 0x10 h", ":8\r\n"),
		zsc("ZSCORE z a", "0.10000000000000001"), zsc("ZSCORE z b", "1700000000000"), zsc("ZSCORE z c", "1.0000000000000001e-05"),
		zsc("ZSCORE z d", "1732000000000"), zsc("ZSCORE z e", "1e+17"), zsc("ZSCORE z f", "1.2345678901234568e+17"),
		zsc("ZSCORE z g", "9.9998886718268301e-321"), zsc("ZSCORE z h", "16"),
		hs("ZADD z +1 i .5 j 5. k 007 l 1E2 m +inf n -Infinity o", ":7\r\n"), zsc("ZSCORE z j", "0.5"), zsc("ZSCORE z l", "7"),
		zsc("ZSCORE z n", "inf"), zsc("ZSCORE z o", "-inf"), hs("ZADD z 1e400 x", zfloatR), hs("ZADD z -1e400 x", zfloatR),
		hs("ZADD z 1e-400 x", zfloatR), hsArgs(zfloatR, "ZADD", "z", " 1", "x"), hsArgs(zfloatR, "ZADD", "z", "1 ", "x"),
		hsArgs(zfloatR, "ZADD", "z", "", "x"), hs("ZADD z 0x x", zfloatR), hs("ZADD z 1,5 x", zfloatR), hs("ZADD z (1 x", zfloatR),
		hs3("ZMSCORE z a nokey h", zarr(rbulk("0.10000000000000001"), nilR, rbulk("16")), zarr(zdbl("0.10000000000000001"), znull3R, zdbl("16"))),
		hs3("ZMSCORE nokey a b", zarr(nilR, nilR), zarr(znull3R, znull3R)), hs("ZMSCORE z", zarity("zmscore")),
		znil("ZSCORE z nokey"), znil("ZSCORE nokey a"), hs("ZSCORE z", zarity("zscore")), hs("ZSCORE z a b", zarity("zscore")),
		// ZSCAN of a listpack shows the scores as stored: integral ones as integers.
		hs("ZSCAN z 0 MATCH [ef]", "*2\r\n$1\r\n0\r\n"+zbulks("e", "100000000000000000", "f", "123456789012345680")),
		hs("ZSCAN z 0 MATCH [ab]", "*2\r\n$1\r\n0\r\n"+zbulks("a", "0.10000000000000001", "b", "1700000000000")),
		// A skiplist's ZSCAN formats with %.17Lg.
		hsArgs(":1\r\n", "ZADD", "z", "1", z65), hs("OBJECT ENCODING z", rbulk("skiplist")),
		hs("ZSCAN z 0 MATCH e COUNT 1000", "*2\r\n$1\r\n0\r\n"+zbulks("e", "1e+17")),
		hs("ZSCAN z 0 MATCH f COUNT 1000", "*2\r\n$1\r\n0\r\n"+zbulks("f", "1.2345678901234568e+17")),
		hs("ZSCAN z 0 MATCH a COUNT 1000", "*2\r\n$1\r\n0\r\n"+zbulks("a", "0.10000000000000001")),
		zsc("ZSCORE z e", "1e+17"),
	}},
	{"negative zero", []hstep{
		hs("ZADD z -0 a", ":1\r\n"), zsc("ZSCORE z a", "0"), hs("ZSCAN z 0", "*2\r\n$1\r\n0\r\n"+zbulks("a", "0")),
		hs("ZADD p 0 a", ":1\r\n"), hs("ZADD p CH -0 a", ":0\r\n"), zsc("ZSCORE p a", "0"), zsc("ZINCRBY p -0 a", "0"),
		hsArgs(":2\r\n", "ZADD", "s", "1", z65, "-0", "a"), hs("OBJECT ENCODING s", rbulk("skiplist")), zsc("ZSCORE s a", "-0"),
		hs("ZADD s CH 0 a", ":0\r\n"), zsc("ZSCORE s a", "-0"), zsc("ZINCRBY s 0 a", "0"), zsc("ZSCORE s a", "-0"),
		hs("ZSCAN s 0 MATCH a COUNT 1000", "*2\r\n$1\r\n0\r\n"+zbulks("a", "-0")),
		hs3("ZMSCORE s a", zarr(rbulk("-0")), zarr(zdbl("-0"))), hs3("ZPOPMIN s", zpairs2("a", "-0"), zarr(rbulk("a"), zdbl("-0"))),
	}},
	{"negative zero stored", []hstep{
		hsArgs(":2\r\n", "ZADD", "s", "1", z65, "-0", "a"), hs("ZUNIONSTORE d 1 s", ":2\r\n"), zsc("ZSCORE d a", "-0"),
		// Stored into a listpack, -0 becomes 0.
		hs("ZRANGESTORE d s 0 0", ":1\r\n"), hs("OBJECT ENCODING d", rbulk("listpack")), zsc("ZSCORE d a", "0"),
		hsArgs(":1\r\n", "ZREM", "s", z65), hs("ZUNIONSTORE d 1 s", ":1\r\n"), hs("OBJECT ENCODING d", rbulk("listpack")), zsc("ZSCORE d a", "0"),
		hs("ZADD n -1 a", ":1\r\n"), hs("ZUNIONSTORE d 1 n WEIGHTS 0", ":1\r\n"), zsc("ZSCORE d a", "0"),
		hs("ZINTERSTORE d 1 n WEIGHTS 0", ":1\r\n"), zsc("ZSCORE d a", "0"),
	}},
	{"negative zero stored by ZRANGESTORE, before the skiplist", []hstep{
		// ZRANGESTORE fills a listpack (a first, -0 becomes 0), which the
		// long member then turns into a skiplist.
		hsArgs(":2\r\n", "ZADD", "s", "1", z65, "-0", "a"), hs("ZRANGESTORE d s 0 -1", ":2\r\n"),
		hs("OBJECT ENCODING d", rbulk("skiplist")), zsc("ZSCORE d a", "0"),
	}},
	{"negative zero in ZUNION and ZINTER replies", []hstep{
		// Their result is a skiplist: -0 stays.
		hsArgs(":2\r\n", "ZADD", "s", "1", z65, "-0", "a"), zws("ZUNION 1 s WITHSCORES", "a", "-0", z65, "1"),
		zws("ZINTER 1 s WITHSCORES", "a", "-0", z65, "1"), hs("ZADD n -1 a", ":1\r\n"), zws("ZUNION 1 n WEIGHTS 0 WITHSCORES", "a", "-0"),
		zws("ZINTER 1 n WEIGHTS 0 WITHSCORES", "a", "-0"), zws("ZUNION 1 n WEIGHTS -0 WITHSCORES", "a", "0"),
		hs("ZADD zero 0 a", ":1\r\n"), zws("ZUNION 1 zero WEIGHTS -1 WITHSCORES", "a", "-0"), zws("ZINTER 2 n zero WEIGHTS 0 -1 WITHSCORES", "a", "-0"),
		zws("ZDIFF 1 s WITHSCORES", "a", "-0", z65, "1"),
	}},
	{"score ranges", []hstep{
		hs("ZADD z 0 a 1 b 2 c 3 d inf e -inf f", ":6\r\n"),
		hs("ZRANGEBYSCORE z (1 3", zbulks("c", "d")), hs("ZRANGEBYSCORE z 1 (3", zbulks("b", "c")),
		hs("ZRANGEBYSCORE z -inf +inf", zbulks("f", "a", "b", "c", "d", "e")), hs("ZRANGEBYSCORE z (-inf (+inf", zbulks("a", "b", "c", "d")),
		hs("ZRANGEBYSCORE z (inf inf", zemptyR), hs("ZRANGEBYSCORE z inf inf", zbulks("e")),
		hsArgs(zbulks("a"), "ZRANGEBYSCORE", "z", "", ""), hs("ZRANGEBYSCORE z ( 1", zbulks("b")),
		hsArgs(zbulks("b", "c"), "ZRANGEBYSCORE", "z", " 1", "2"), hsArgs(zbulks("b", "c"), "ZRANGEBYSCORE", "z", "( 0", "2"),
		hsArgs(zminmaxR, "ZRANGEBYSCORE", "z", "1 ", "2"), hs("ZRANGEBYSCORE z nan 1", zminmaxR),
		hs("ZRANGEBYSCORE z (nan 1", zminmaxR), hs("ZRANGEBYSCORE z [1 2", zminmaxR), hs("ZRANGEBYSCORE z abc 1", zminmaxR),
		hs("ZRANGEBYSCORE z ((1 2", zminmaxR), hs("ZRANGEBYSCORE z 1 2)", zminmaxR), hs("ZRANGEBYSCORE z - +", zminmaxR),
		hs("ZRANGEBYSCORE z 1e400 inf", zbulks("e")), hs("ZRANGEBYSCORE z -1e400 1e-400", zbulks("f", "a")),
		hs("ZRANGEBYSCORE z 0x1p1 0x3", zbulks("c", "d")), hs("ZRANGEBYSCORE z 2 1", zemptyR), hs("ZRANGEBYSCORE z (1 (1", zemptyR),
		hs("ZRANGEBYSCORE z 1 1", zbulks("b")), hs("ZRANGEBYSCORE nokey 0 1", zemptyR), hs("ZRANGEBYSCORE nokey abc 1", zminmaxR),
		zws("ZRANGEBYSCORE z 1 2 WITHSCORES", "b", "1", "c", "2"), zws("ZRANGEBYSCORE z (2 +inf withscores", "d", "3", "e", "inf"),
		hs("ZREVRANGEBYSCORE z 3 1", zbulks("d", "c", "b")), hs("ZREVRANGEBYSCORE z 1 3", zemptyR),
		zws("ZREVRANGEBYSCORE z +inf (2 WITHSCORES", "e", "inf", "d", "3"),
		hs("ZCOUNT z -inf +inf", ":6\r\n"), hs("ZCOUNT z (0 (3", ":2\r\n"), hs("ZCOUNT z 3 0", ":0\r\n"), hs("ZCOUNT z abc 1", zminmaxR),
		hs("ZCOUNT nokey 0 1", ":0\r\n"), hs("ZCOUNT z 0", zarity("zcount")),
		hs("ZRANGEBYSCORE z 0", zarity("zrangebyscore")), hs("ZRANGEBYSCORE z 0 1 BYSCORE", zsyntaxR),
		hs("ZRANGEBYSCORE z 0 1 REV", zsyntaxR), hs("ZRANGEBYSCORE z 0 1 BYLEX", zsyntaxR), hs("ZRANGEBYSCORE z 0 1 WITHSCORES x", zsyntaxR),
		hs("ZREMRANGEBYSCORE z (2 3", ":1\r\n"), hs("ZREMRANGEBYSCORE z abc 3", zminmaxR), hs("ZREMRANGEBYSCORE z 5 6", ":0\r\n"),
		hs("ZREMRANGEBYSCORE z -inf +inf", ":5\r\n"), hs("EXISTS z", ":0\r\n"), hs("ZREMRANGEBYSCORE nokey -inf +inf", ":0\r\n"),
	}},
	{"limit", []hstep{
		hs("ZADD z 0 a 1 b 2 c 3 d inf e -inf f", ":6\r\n"),
		hs("ZRANGEBYSCORE z -inf +inf LIMIT 1 2", zbulks("a", "b")), hs("ZRANGEBYSCORE z -inf +inf LIMIT 0 -1", zbulks("f", "a", "b", "c", "d", "e")),
		hs("ZRANGEBYSCORE z -inf +inf LIMIT 4 -5", zbulks("d", "e")), hs("ZRANGEBYSCORE z -inf +inf LIMIT -1 2", zemptyR),
		hs("ZRANGEBYSCORE z -inf +inf LIMIT 10 1", zemptyR), hs("ZRANGEBYSCORE z -inf +inf LIMIT 1 0", zemptyR),
		hs("ZRANGEBYSCORE z -inf +inf LIMIT abc 1", notIntR), hs("ZRANGEBYSCORE z -inf +inf LIMIT 1 1.5", notIntR),
		hs("ZRANGEBYSCORE z -inf +inf LIMIT 1", zsyntaxR), hs("ZRANGEBYSCORE z -inf +inf LIMIT", zsyntaxR),
		hs("ZRANGEBYSCORE z abc +inf LIMIT abc 1", notIntR),
		zws("ZRANGEBYSCORE z -inf +inf WITHSCORES LIMIT 0 2", "f", "-inf", "a", "0"),
		zws("ZRANGEBYSCORE z -inf +inf LIMIT 5 1 WITHSCORES", "e", "inf"),
		hs("ZREVRANGEBYSCORE z +inf -inf LIMIT 1 2", zbulks("d", "c")),
		hs("ZRANGE z 0 -1 LIMIT 0 1", zlimitRankR), hs("ZRANGE z 0 -1 LIMIT 0 -1", zbulks("f", "a", "b", "c", "d", "e")),
		hs("ZRANGE z 0 -1 LIMIT 3 -1", zbulks("f", "a", "b", "c", "d", "e")), hs("ZRANGE z abc -1 LIMIT 0 1", zlimitRankR),
		hs("ZRANGE z 0 -1 LIMIT 0 abc", notIntR), hs("ZRANGESTORE d z 0 -1 LIMIT 0 1", zlimitRankR), hs("ZRANGE z 0 -1 LIMIT 0", zsyntaxR),
		zws("ZRANGE z -inf +inf BYSCORE LIMIT 0 2 WITHSCORES", "f", "-inf", "a", "0"),
		hs("ZRANGE z +inf (1 BYSCORE REV LIMIT 1 2", zbulks("d", "c")), hs("ZRANGE z (1 +inf BYSCORE REV", zemptyR),
		hs("ZRANGE z 0 -1 BYSCORE LIMIT 0 1 REV", zbulks("a")), hs("ZRANGE z -1 0 REV BYSCORE", zemptyR),
	}},
	{"lexicographic ranges", []hstep{
		hs("ZADD l 0 a 0 b 0 c 0 d 0 e", ":5\r\n"),
		hs("ZRANGEBYLEX l - +", zbulks("a", "b", "c", "d", "e")), hs("ZRANGEBYLEX l [b (d", zbulks("b", "c")),
		hs("ZRANGEBYLEX l (a [c", zbulks("b", "c")), hs("ZRANGEBYLEX l + -", zemptyR), hs("ZRANGEBYLEX l - -", zemptyR),
		hs("ZRANGEBYLEX l [ +", zbulks("a", "b", "c", "d", "e")), hs("ZRANGEBYLEX l ( +", zbulks("a", "b", "c", "d", "e")),
		hs("ZRANGEBYLEX l - [", zemptyR), hs("ZRANGEBYLEX l [c [c", zbulks("c")), hs("ZRANGEBYLEX l (c [c", zemptyR),
		hs("ZRANGEBYLEX l [d [b", zemptyR), hs("ZRANGEBYLEX l [bb (dd", zbulks("c", "d")),
		hs("ZRANGEBYLEX l a +", zlexR), hs("ZRANGEBYLEX l - +a", zlexR), hsArgs(zlexR, "ZRANGEBYLEX", "l", "", "+"),
		hs("ZRANGEBYLEX l -- +", zlexR), hs("ZRANGEBYLEX l - 1", zlexR), hs("ZRANGEBYLEX nokey a +", zlexR),
		hs("ZRANGEBYLEX nokey - +", zemptyR), hs("ZREVRANGEBYLEX l + -", zbulks("e", "d", "c", "b", "a")),
		hs("ZREVRANGEBYLEX l [d (a", zbulks("d", "c", "b")), hs("ZREVRANGEBYLEX l - +", zemptyR),
		hs("ZRANGEBYLEX l - + LIMIT 1 2", zbulks("b", "c")), hs("ZREVRANGEBYLEX l + - LIMIT 1 -1", zbulks("d", "c", "b", "a")),
		hs("ZRANGEBYLEX l - + LIMIT -1 2", zemptyR),
		hs("ZRANGEBYLEX l - + WITHSCORES", zlexScoresR), hs("ZRANGE l - + BYLEX WITHSCORES", zlexScoresR),
		hs("ZRANGE l - + WITHSCORES BYLEX", zlexScoresR), hs("ZRANGEBYLEX l a + WITHSCORES", zlexScoresR),
		hs("ZRANGESTORE d l - + BYLEX WITHSCORES", zsyntaxR), hs("ZRANGEBYLEX l - + BYLEX", zsyntaxR),
		hs("ZRANGE l + [c BYLEX REV", zbulks("e", "d", "c")), hs("ZRANGE l [c + BYLEX REV", zemptyR),
		hs("ZRANGE l - + BYLEX LIMIT 3 5", zbulks("d", "e")),
		hs("ZLEXCOUNT l - +", ":5\r\n"), hs("ZLEXCOUNT l [b [d", ":3\r\n"), hs("ZLEXCOUNT l (b (d", ":1\r\n"), hs("ZLEXCOUNT l b d", zlexR),
		hs("ZLEXCOUNT nokey - +", ":0\r\n"), hs("ZLEXCOUNT l -", zarity("zlexcount")),
		hs("ZREMRANGEBYLEX l (a [b", ":1\r\n"), hs("ZREMRANGEBYLEX l a b", zlexR), hs("ZREMRANGEBYLEX l [x +", ":0\r\n"),
		hs("ZRANGESTORE d l [b [d BYLEX", ":2\r\n"), zws("ZRANGE d 0 -1 WITHSCORES", "c", "0", "d", "0"),
		hs("ZREMRANGEBYLEX l - +", ":4\r\n"), hs("EXISTS l", ":0\r\n"),
		// Bytewise order, and members that look like the bounds' syntax.
		hsArgs(":5\r\n", "ZADD", "b", "0", "", "0", "\x00", "0", "-", "0", "+", "0", "\xff"),
		hsArgs(zbulks("", "\x00", "+", "-", "\xff"), "ZRANGEBYLEX", "b", "-", "+"),
		hsArgs(zbulks("+", "-"), "ZRANGEBYLEX", "b", "[+", "[-"), hsArgs(zbulks("\x00"), "ZRANGEBYLEX", "b", "(", "(+"),
		hsArgs(zbulks("\xff"), "ZRANGEBYLEX", "b", "(-", "+"),
	}},
	{"ranks", []hstep{
		hs("ZADD r 1 a 2 b 3 c", ":3\r\n"), hs("ZRANK r a", ":0\r\n"), hs("ZREVRANK r a", ":2\r\n"), hs("ZRANK r c", ":2\r\n"),
		znil("ZRANK r x"), znil("ZRANK nokey a"), znil("ZREVRANK nokey a"), hs("ZRANK r a WITHSCORE x", zarity("zrank")),
		hs("ZREVRANK r a WITHSCORE x", zarity("zrevrank")), hs("ZRANK r", zarity("zrank")),
		hs("ZRANGE r -100 100", zbulks("a", "b", "c")), hs("ZRANGE r 5 10", zemptyR), hs("ZRANGE r -1 -1", zbulks("c")),
		hs("ZRANGE r 2 1", zemptyR), hs("ZRANGE r -2 -3", zemptyR), hs("ZRANGE r 0 abc", notIntR), hs("ZRANGE r 0 1.0", notIntR),
		hs("ZRANGE r -9223372036854775808 9223372036854775807", zbulks("a", "b", "c")), hs("ZRANGE r 0 9223372036854775808", notIntR),
		zws("ZREVRANGE r 0 0 WITHSCORES", "c", "3"), zws("ZRANGE r 0 0 REV WITHSCORES", "c", "3"),
		hs("ZREVRANGE r -1 100", zbulks("a")), hs("ZRANGE r 0 -1 REV", zbulks("c", "b", "a")),
		hs("ZRANGE nokey 0 -1", zemptyR), hs("ZRANGE nokey abc -1", notIntR),
		hs("ZREMRANGEBYRANK r 5 10", ":0\r\n"), hs("ZREMRANGEBYRANK r -1 -1", ":1\r\n"), hs("ZREMRANGEBYRANK r abc 1", notIntR),
		hs("ZREMRANGEBYRANK r 0", zarity("zremrangebyrank")), hs("ZREMRANGEBYRANK r 0 -1", ":2\r\n"), hs("EXISTS r", ":0\r\n"),
	}},
	{"zrange option errors", []hstep{
		hs("ZADD z 1 a", ":1\r\n"), hs("ZRANGE z 0 -1 BYSCORE BYLEX", zsyntaxR), hs("ZRANGE z 0 -1 BYLEX BYSCORE", zsyntaxR),
		hs("ZRANGE z 0 -1 REV REV", zsyntaxR), hs("ZRANGE z 0 -1 BYSCORE BYSCORE", zsyntaxR), hs("ZRANGE z - + BYLEX BYLEX", zsyntaxR),
		zws("ZRANGE z 0 -1 WITHSCORES WITHSCORES", "a", "1"),
		hs("ZREVRANGE z 0 1 REV", zsyntaxR), hs("ZREVRANGEBYSCORE z 1 0 REV", zsyntaxR), hs("ZREVRANGEBYLEX z + - BYLEX", zsyntaxR),
		hs("ZRANGESTORE d z 0 -1 WITHSCORES", zsyntaxR), hs("ZRANGE z 0 -1 bogus", zsyntaxR), hs("ZRANGE z 0", zarity("zrange")),
		hs("ZRANGESTORE d z 0", zarity("zrangestore")), hs("ZREVRANGE z 0", zarity("zrevrange")),
		hs("ZREVRANGEBYLEX z +", zarity("zrevrangebylex")), hs("ZRANGEBYLEX z -", zarity("zrangebylex")),
		hs("ZRANGE z 0 -1 BYSCORE abc", zsyntaxR), hs("ZRANGE z a b BYSCORE", zminmaxR), hs("ZRANGE z 0 1 BYLEX", zlexR),
		hs("ZRANGE z 0 1 REV bogus", zsyntaxR), hs("SET str x", okR), hs("ZRANGE str abc 1", notIntR), hs("ZRANGE str 0 1", wrongR),
		hs("ZRANGE str 0 1 LIMIT 0 1", zlimitRankR), hs("ZRANGEBYSCORE str abc 1", zminmaxR), hs("ZRANGEBYSCORE str 0 1", wrongR),
		hs("ZRANGEBYLEX str a b", zlexR), hs("ZRANGEBYLEX str - +", wrongR), hs("ZRANGESTORE d str 0 -1", wrongR),
		hs("ZRANGESTORE str z 0 -1", ":1\r\n"), hs("TYPE str", "+zset\r\n"), hs("ZREVRANGE str 0 -1 WITHSCORES x", zsyntaxR),
	}},
	{"zrangestore", []hstep{
		hs("ZADD z 1 a 2 b 3 c", ":3\r\n"), hs("ZRANGESTORE d z 0 1", ":2\r\n"), zws("ZRANGE d 0 -1 WITHSCORES", "a", "1", "b", "2"),
		hs("SET d2 x", okR), hs("ZRANGESTORE d2 z 5 6", ":0\r\n"), hs("EXISTS d2", ":0\r\n"),
		hs("ZRANGESTORE d z (1 +inf BYSCORE LIMIT 0 1", ":1\r\n"), zws("ZRANGE d 0 -1 WITHSCORES", "b", "2"),
		hs("ZRANGESTORE d z +inf -inf BYSCORE REV LIMIT 0 2", ":2\r\n"), zws("ZRANGE d 0 -1 WITHSCORES", "b", "2", "c", "3"),
		hs("ZRANGESTORE d nokey 0 -1", ":0\r\n"), hs("EXISTS d", ":0\r\n"), hs("ZRANGESTORE z z 0 0", ":1\r\n"),
		zws("ZRANGE z 0 -1 WITHSCORES", "a", "1"),
	}},
	{"zrangestore by score packs -0 into its first 128 elements", func() []hstep {
		args := []string{"ZADD", "src", "-0", z65}
		for i := range 200 {
			args = append(args, "-0", fmt.Sprintf("m%03d", i))
		}
		return []hstep{
			hsArgs(":201\r\n", args...), zsc("ZSCORE src m000", "-0"),
			hs("ZRANGESTORE d1 src -inf +inf BYSCORE", ":201\r\n"), zsc("ZSCORE d1 m000", "0"), zsc("ZSCORE d1 m199", "-0"),
			hs("ZRANGESTORE d2 src - + BYLEX", ":201\r\n"), zsc("ZSCORE d2 m000", "0"),
			hs("ZRANGESTORE d3 src 0 -1", ":201\r\n"), zsc("ZSCORE d3 m000", "-0"),
		}
	}()},
	{"bounds that are only spaces, and NULs", []hstep{
		hs("ZADD z 0 a 1 b 2 c", ":3\r\n"), hsArgs(zminmaxR, "ZCOUNT", "z", " ", "10"), hsArgs(zminmaxR, "ZCOUNT", "z", "( ", "10"),
		hsArgs(zminmaxR, "ZCOUNT", "z", " \x00", "10"), hsArgs(":3\r\n", "ZCOUNT", "z", "", "10"), hsArgs(":2\r\n", "ZCOUNT", "z", "(", "10"),
		hsArgs(":2\r\n", "ZCOUNT", "z", " 1", "10"), hsArgs(":2\r\n", "ZCOUNT", "z", "1\x00abc", "10"),
		hsArgs(":3\r\n", "ZLEXCOUNT", "z", "-\x00", "+"), hsArgs(":3\r\n", "ZLEXCOUNT", "z", "-", "+\x00x"),
		hsArgs(zlexR, "ZLEXCOUNT", "z", "-x", "+"),
	}},
	{"zrem", []hstep{
		hs("ZADD z 1 a 2 b 3 c", ":3\r\n"), hs("ZREM z a x a", ":1\r\n"), hs("ZREM nokey a", ":0\r\n"), hs("ZREM z", zarity("zrem")),
		hs("ZREM z b c d", ":2\r\n"), hs("EXISTS z", ":0\r\n"), hs("SET s x", okR), hs("ZREM s a", wrongR),
	}},
	{"zpopmin zpopmax", []hstep{
		hs("ZADD z 1 a 2 b 3 c 3 d", ":4\r\n"), hs3("ZPOPMIN z", zpairs2("a", "1"), zarr(rbulk("a"), zdbl("1"))),
		zws("ZPOPMAX z 1", "d", "3"), hs("ZPOPMIN z 0", zemptyR), hs("ZPOPMAX z 0", zemptyR),
		hs("ZPOPMIN z -1", zpositiveR), hs("ZPOPMIN z abc", zpositiveR), hs("ZPOPMIN z 1 2", zsyntaxR), hs("ZPOPMIN", zarity("zpopmin")),
		hs("ZPOPMIN nokey", zemptyR), hs("ZPOPMIN nokey 0", zemptyR), hs("ZPOPMAX nokey 5", zemptyR), hs("ZPOPMIN nokey -1", zpositiveR),
		hs("SET str x", okR), hs("ZPOPMIN str 0", wrongR), hs("ZPOPMAX str", wrongR), hs("ZPOPMIN str -1", zpositiveR),
		zws("ZPOPMAX z 10", "c", "3", "b", "2"), hs("EXISTS z", ":0\r\n"),
		hsArgs(":2\r\n", "ZADD", "t", "5", "x", "5", "y"), hs3("ZPOPMAX t", zpairs2("y", "5"), zarr(rbulk("y"), zdbl("5"))),
	}},
	{"zmpop", []hstep{
		hs("ZADD z1 1 a 2 b", ":2\r\n"), hs("ZADD z2 5 x", ":1\r\n"),
		hs3("ZMPOP 2 nokey z2 MIN", zarr(rbulk("z2"), zarr(zbulks("x", "5"))), zarr(rbulk("z2"), zpairs3("x", "5"))),
		hs3("ZMPOP 2 z1 z2 max COUNT 5", zarr(rbulk("z1"), zarr(zbulks("b", "2"), zbulks("a", "1"))), zarr(rbulk("z1"), zpairs3("b", "2", "a", "1"))),
		hs3("ZMPOP 1 z1 MIN", "*-1\r\n", znull3R), hs("ZMPOP 0 z1 MIN", "-ERR numkeys should be greater than 0\r\n"),
		hs("ZMPOP abc z1 MIN", "-ERR numkeys should be greater than 0\r\n"), hs("ZMPOP 2 z1 MIN", zsyntaxR), hs("ZMPOP 1 z1 bogus", zsyntaxR),
		hs("ZMPOP 1 z1 MIN COUNT 0", "-ERR count should be greater than 0\r\n"), hs("ZMPOP 1 z1 MIN COUNT abc", "-ERR count should be greater than 0\r\n"),
		hs("ZMPOP 1 z1 MIN COUNT", zsyntaxR), hs("ZMPOP 1 z1 MIN COUNT 1 COUNT 1", zsyntaxR), hs("ZMPOP 1 z1 MIN bogus", zsyntaxR),
		hs("ZMPOP 1 z1", zarity("zmpop")), hs("SET str x", okR), hs("ZADD z3 1 a", ":1\r\n"), hs("ZMPOP 2 str z3 MIN", wrongR),
		hs3("ZMPOP 2 z3 str MIN", zarr(rbulk("z3"), zarr(zbulks("a", "1"))), zarr(rbulk("z3"), zpairs3("a", "1"))),
		hs3("ZMPOP 1 nokey MAX COUNT 3", "*-1\r\n", znull3R), hs("EXISTS z1 z2 z3", ":0\r\n"),
	}},
	{"zrandmember", []hstep{
		znil("ZRANDMEMBER nokey"), hs("ZRANDMEMBER nokey 5", zemptyR), hs("ZRANDMEMBER nokey -5 WITHSCORES", zemptyR),
		hs("ZRANDMEMBER nokey abc", notIntR), hs("ZADD one 1 a", ":1\r\n"), hs("ZRANDMEMBER one", rbulk("a")),
		hs("ZRANDMEMBER one -3", zbulks("a", "a", "a")), zws("ZRANDMEMBER one -2 WITHSCORES", "a", "1", "a", "1"),
		zws("ZRANDMEMBER one 5 WITHSCORES", "a", "1"), zws("ZRANDMEMBER one 1 WITHSCORES", "a", "1"), hs("ZRANDMEMBER one 0", zemptyR),
		hs("ZRANDMEMBER one 0 WITHSCORES", zemptyR), hs("ZRANDMEMBER one abc", notIntR), hs("ZRANDMEMBER one 1 WITHSCORE", zsyntaxR),
		hs("ZRANDMEMBER one 1 WITHSCORES x", zsyntaxR), hs("ZRANDMEMBER one abc WITHSCORE", notIntR),
		hs("ZRANDMEMBER one -9223372036854775808", "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n"),
		hs("ZRANDMEMBER one -4611686018427387904 WITHSCORES", "-ERR value is out of range\r\n"),
		hs("ZRANDMEMBER one 4611686018427387904 WITHSCORES", "-ERR value is out of range\r\n"),
		zws("ZRANDMEMBER one 4611686018427387903 WITHSCORES", "a", "1"), hs("ZRANDMEMBER one 9223372036854775807", zbulks("a")),
		hs("ZRANDMEMBER", zarity("zrandmember")), hs("SET str x", okR), hs("ZRANDMEMBER str", wrongR), hs("ZRANDMEMBER str 1", wrongR),
		hs("ZRANDMEMBER str abc", notIntR),
	}},
	{"zrandmember with a count at least the size", []hstep{
		// A count at least the size returns the whole sorted set, in Redis
		// from the highest score down (its iterator runs backwards).
		hs("ZADD three 3 c 1 a 2 b", ":3\r\n"), zws("ZRANDMEMBER three 3 WITHSCORES", "c", "3", "b", "2", "a", "1"),
		hs("ZRANDMEMBER three 10", zbulks("c", "b", "a")),
	}},
	{"zscan", []hstep{
		hs("ZSCAN nokey 0", emptyScR), hs("ZSCAN nokey abc", zinvalidCurR), hs("ZADD z 1 a1 2 b1 3 a2", ":3\r\n"),
		hs("ZSCAN z 0", "*2\r\n$1\r\n0\r\n"+zbulks("a1", "1", "b1", "2", "a2", "3")),
		hs("ZSCAN z 0 MATCH a* COUNT 1", "*2\r\n$1\r\n0\r\n"+zbulks("a1", "1", "a2", "3")),
		hsArgs("*2\r\n$1\r\n0\r\n"+zbulks("a1", "1", "b1", "2", "a2", "3"), "ZSCAN", "z", ""),
		hs("ZSCAN z 0 NOVALUES", zsyntaxR), hs("ZSCAN z 0 COUNT 0", zsyntaxR), hs("ZSCAN z 0 COUNT abc", notIntR),
		hs("ZSCAN z 0 TYPE zset", zsyntaxR), hs("ZSCAN z 0 MATCH", zsyntaxR), hs("ZSCAN z", zarity("zscan")),
		hsArgs(zinvalidCurR, "ZSCAN", "z", " 1"), hs("ZSCAN z -1", "*2\r\n$1\r\n0\r\n"+zbulks("a1", "1", "b1", "2", "a2", "3")),
		hs("SET s x", okR), hs("ZSCAN s 0", wrongR), hs("ZSCAN s abc", zinvalidCurR),
	}},
	{"zunion zinter zdiff", []hstep{
		hs("ZADD a 1 x 2 y", ":2\r\n"), hs("ZADD b 3 y 4 z", ":2\r\n"), hs("SADD s y z w", ":3\r\n"),
		zws("ZUNION 2 a b WITHSCORES", "x", "1", "z", "4", "y", "5"), hs("ZUNION 2 a b", zbulks("x", "z", "y")),
		zws("ZINTER 2 a b WITHSCORES", "y", "5"), zws("ZUNION 2 a b WEIGHTS 2 1 AGGREGATE MAX WITHSCORES", "x", "2", "y", "4", "z", "4"),
		zws("ZUNION 2 a b aggregate min weights 1 -1 withscores", "z", "-4", "y", "-3", "x", "1"),
		zws("ZINTER 2 a s WITHSCORES", "y", "3"), zws("ZUNION 3 a b s AGGREGATE MIN WITHSCORES", "w", "1", "x", "1", "y", "1", "z", "1"),
		zws("ZUNION 1 s WEIGHTS 2.5 WITHSCORES", "w", "2.5", "y", "2.5", "z", "2.5"), zws("ZINTER 2 a a WITHSCORES", "x", "2", "y", "4"),
		zws("ZDIFF 2 b a WITHSCORES", "z", "4"), hs("ZDIFF 2 b s", zemptyR), hs("ZDIFF 3 s a nokey", zbulks("w", "z")),
		hs("ZDIFF 1 b WEIGHTS 1", zsyntaxR), hs("ZDIFF 1 b AGGREGATE SUM", zsyntaxR), hs("ZUNION 0 a", "-ERR at least 1 input key is needed for 'zunion' command\r\n"),
		hs("ZINTER -1 a", "-ERR at least 1 input key is needed for 'zinter' command\r\n"),
		hs("ZDIFFSTORE d 0 a", "-ERR at least 1 input key is needed for 'zdiffstore' command\r\n"),
		hs("ZUNION 3 a b", zsyntaxR), hs("ZUNION abc a", notIntR), hs("ZUNION 2 a b WEIGHTS 1", zsyntaxR),
		hs("ZUNION 2 a b WEIGHTS 1 abc", zweightR), hs("ZUNION 2 a b WEIGHTS 1 nan", zweightR), hs("ZUNION 2 a b AGGREGATE avg", zsyntaxR),
		hs("ZUNION 2 a b AGGREGATE", zsyntaxR), hs("ZUNIONSTORE d 2 a b WITHSCORES", zsyntaxR), hs("ZUNION 2 a b bogus", zsyntaxR),
		hs("ZUNION 1 nokey", zemptyR), hs("ZUNION 1 nokey WITHSCORES", zemptyR), hs("HSET h f v", ":1\r\n"),
		hs("ZUNION 2 a h", wrongR), hs("ZUNION 2 h a WEIGHTS abc", wrongR), hs("ZUNION 3 a h", zsyntaxR), hs("ZINTERSTORE d 1 h", wrongR),
		hs("ZUNION 1", zarity("zunion")), hs("ZUNIONSTORE d 1", zarity("zunionstore")), hs("ZDIFF 1", zarity("zdiff")),
		hs("ZINTERCARD 2 a b", ":1\r\n"), hs("ZINTERCARD 2 a b LIMIT 0", ":1\r\n"), hs("ZINTERCARD 3 a b s LIMIT 1", ":1\r\n"),
		hs("ZINTERCARD 2 b s", ":2\r\n"), hs("ZINTERCARD 2 b s LIMIT 1", ":1\r\n"), hs("ZINTERCARD 2 a s LIMIT -1", "-ERR LIMIT can't be negative\r\n"),
		hs("ZINTERCARD 2 a s LIMIT abc", "-ERR LIMIT can't be negative\r\n"),
		hs("ZINTERCARD 0 a", "-ERR at least 1 input key is needed for 'zintercard' command\r\n"),
		hs("ZINTERCARD -1 a", "-ERR at least 1 input key is needed for 'zintercard' command\r\n"), hs("ZINTERCARD abc a", notIntR),
		hs("ZINTERCARD 2 a", zsyntaxR), hs("ZINTERCARD 1 a WITHSCORES", zsyntaxR), hs("ZINTERCARD 1 a WEIGHTS 1", zsyntaxR),
		hs("ZINTERCARD 1 a LIMIT", zsyntaxR), hs("ZINTERCARD 2 a h", wrongR), hs("ZINTERCARD 1", zarity("zintercard")),
	}},
	{"zunion with infinities", []hstep{
		hs("ZADD pi 1 m inf n", ":2\r\n"), hs("ZADD ni 1 m -inf n", ":2\r\n"), zws("ZUNION 2 pi ni WITHSCORES", "n", "0", "m", "2"),
		zws("ZINTER 2 pi ni WEIGHTS 0 1 WITHSCORES", "n", "-inf", "m", "1"), zws("ZUNION 1 pi WEIGHTS inf WITHSCORES", "m", "inf", "n", "inf"),
		zws("ZUNION 1 pi WEIGHTS 0 WITHSCORES", "m", "0", "n", "0"), zws("ZUNION 2 pi ni AGGREGATE MAX WITHSCORES", "m", "1", "n", "inf"),
	}},
	{"zinter with a NaN product", []hstep{
		// A NaN product (0 * inf) counts as 0 in the first input, but makes
		// a SUM NaN, so 0, in the others; MIN and MAX keep what they had.
		hs("ZADD na 2 m", ":1\r\n"), hs("ZADD nb 0 m 1 x", ":2\r\n"), zws("ZINTER 2 na nb WEIGHTS 1 inf WITHSCORES", "m", "0"),
		zws("ZINTER 2 nb na WEIGHTS inf 1 WITHSCORES", "m", "0"), zws("ZINTER 2 na nb WEIGHTS 1 inf AGGREGATE MIN WITHSCORES", "m", "2"),
		zws("ZINTER 2 na nb WEIGHTS 1 inf AGGREGATE MAX WITHSCORES", "m", "2"), zws("ZINTER 2 na nb WEIGHTS inf 1 WITHSCORES", "m", "inf"),
		zws("ZINTER 2 nb nb WEIGHTS inf 1 WITHSCORES", "m", "0", "x", "inf"),
		zws("ZUNION 2 na nb WEIGHTS 1 inf WITHSCORES", "m", "2", "x", "inf"), hs("ZINTERSTORE nd 2 na nb WEIGHTS 1 inf", ":1\r\n"),
		zws("ZRANGE nd 0 -1 WITHSCORES", "m", "0"),
	}},
	{"the order of sums", []hstep{
		hs("ZADD f1 0.1 m", ":1\r\n"), hs("ZADD f2 0.2 m", ":1\r\n"), hs("ZADD f3 0.3 m", ":1\r\n"), hs("ZADD f4 0.3 m 1 o", ":2\r\n"),
		zws("ZUNION 3 f1 f2 f3 WITHSCORES", "m", "0.60000000000000009"), zws("ZUNION 3 f3 f2 f1 WITHSCORES", "m", "0.59999999999999998"),
		zws("ZUNION 3 f4 f1 f2 WITHSCORES", "m", "0.60000000000000009", "o", "1"),
		zws("ZINTER 3 f4 f2 f1 WITHSCORES", "m", "0.60000000000000009"), hs("ZADD f5 0.1 m 1 o", ":2\r\n"),
		// The inputs are summed smallest first: f2, f3, then f5.
		zws("ZUNION 3 f5 f2 f3 WITHSCORES", "m", "0.59999999999999998", "o", "1"),
		zws("ZINTER 3 f5 f2 f3 WITHSCORES", "m", "0.59999999999999998"),
		zws("ZUNION 3 f2 f3 f1 WITHSCORES", "m", "0.59999999999999998"),
	}},
	{"zunionstore zinterstore zdiffstore", []hstep{
		hs("ZADD a 1 x 2 y", ":2\r\n"), hs("ZADD b 3 y 4 z", ":2\r\n"), hs("ZUNIONSTORE d 2 a b", ":3\r\n"),
		zws("ZRANGE d 0 -1 WITHSCORES", "x", "1", "z", "4", "y", "5"), hs("SET str x", okR), hs("ZINTERSTORE str 2 a b", ":1\r\n"),
		hs("TYPE str", "+zset\r\n"), hs("ZINTERSTORE d 2 a nokey", ":0\r\n"), hs("EXISTS d", ":0\r\n"), hs("ZDIFFSTORE d 1 a", ":2\r\n"),
		hs("ZDIFFSTORE d 2 a a", ":0\r\n"), hs("EXISTS d", ":0\r\n"), hs("ZUNIONSTORE a 2 a b WEIGHTS 2 1", ":3\r\n"),
		zws("ZRANGE a 0 -1 WITHSCORES", "x", "2", "z", "4", "y", "7"), hs("ZINTERSTORE d 2 a b AGGREGATE MIN", ":2\r\n"),
		zws("ZRANGE d 0 -1 WITHSCORES", "y", "3", "z", "4"), hs("ZDIFFSTORE d 1 a WITHSCORES", zsyntaxR),
	}},
	{"encoding", []hstep{
		hs("ZADD e 1 a", ":1\r\n"), hs("OBJECT ENCODING e", rbulk("listpack")), hsArgs(":1\r\n", "ZADD", "e", "2", z64),
		hs("OBJECT ENCODING e", rbulk("listpack")), hsArgs(":1\r\n", "ZADD", "e", "3", z65), hs("OBJECT ENCODING e", rbulk("skiplist")),
		hsArgs(":1\r\n", "ZREM", "e", z65), hs("OBJECT ENCODING e", rbulk("skiplist")), hs("COPY e e2", ":1\r\n"),
		hs("OBJECT ENCODING e2", rbulk("skiplist")), hs("RENAME e2 e3", okR), hs("OBJECT ENCODING e3", rbulk("skiplist")),
		hs("ZUNIONSTORE u 1 e", ":2\r\n"), hs("OBJECT ENCODING u", rbulk("listpack")), hs("ZRANGESTORE r e 0 -1", ":2\r\n"),
		hs("OBJECT ENCODING r", rbulk("listpack")), hs("ZDIFFSTORE df 1 e", ":2\r\n"), hs("OBJECT ENCODING df", rbulk("listpack")),
		hsArgs(":1\r\n", "ZADD", "long", "1", z65), hs("OBJECT ENCODING long", rbulk("skiplist")),
		hsArgs(":0\r\n", "ZADD", "lx", "XX", "1", z65),
		hs("EXISTS lx", ":0\r\n"), hstep{args: []string{"ZINCRBY", "li", "1", z65}, r2: rbulk("1"), r3: zdbl("1")}, hs("OBJECT ENCODING li", rbulk("skiplist")),
		zbig("big", 128), hs("OBJECT ENCODING big", rbulk("listpack")), hs("ZADD big XX 5 m000", ":0\r\n"),
		hs("OBJECT ENCODING big", rbulk("listpack")), hs("ZADD big 200 x", ":1\r\n"), hs("OBJECT ENCODING big", rbulk("skiplist")),
		hs("ZCARD big", ":129\r\n"), hs("ZRANGESTORE r big 0 127", ":128\r\n"), hs("OBJECT ENCODING r", rbulk("listpack")),
		hs("ZRANGESTORE r big 0 128", ":129\r\n"), hs("OBJECT ENCODING r", rbulk("skiplist")),
		hs("ZRANGESTORE r big -inf +inf BYSCORE LIMIT 1 128", ":128\r\n"), hs("OBJECT ENCODING r", rbulk("listpack")),
		hs("ZUNIONSTORE u 1 big", ":129\r\n"), hs("OBJECT ENCODING u", rbulk("skiplist")), hs("ZPOPMIN big 100", ""),
		hs("OBJECT ENCODING big", rbulk("skiplist")), hs("ZUNIONSTORE u 1 big", ":29\r\n"), hs("OBJECT ENCODING u", rbulk("listpack")),
		zbig("b2", 129), hs("OBJECT ENCODING b2", rbulk("skiplist")), hs("ZREMRANGEBYRANK b2 0 -1", ":129\r\n"), hs("EXISTS b2", ":0\r\n"),
		zsc("ZSCORE big m127", "127"), hs("ZRANK big m127", ":27\r\n"), hs("ZREVRANK big x", ":0\r\n"),
		hs("ZRANGE big 27 28", zbulks("m127", "x")), hs("ZCOUNT big (100 +inf", ":28\r\n"), hs("ZLEXCOUNT b2 - +", ":0\r\n"),
	}},
	{"type scan and generic commands", []hstep{
		hs("ZADD z 1 a", ":1\r\n"), hs("SET s x", okR), hs("SADD t m", ":1\r\n"), hs("TYPE z", "+zset\r\n"),
		hs("SCAN 0 TYPE zset", "*2\r\n$1\r\n0\r\n"+zbulks("z")), hs("SCAN 0 TYPE ZSET", "*2\r\n$1\r\n0\r\n"+zbulks("z")),
		// An absolute deadline (EXPIRETIME) rather than TTL, which a stall
		// of half a second rounds down.
		hs("SCAN 0 TYPE sortedset", emptyScR), znil("OBJECT ENCODING nokey"), hs("EXPIREAT z 4102444800", ":1\r\n"),
		hs("ZADD z 2 b", ":1\r\n"), hs("EXPIRETIME z", ":4102444800\r\n"), hs("ZPOPMIN z", ""), hs("EXPIRETIME z", ":4102444800\r\n"),
		hs("MOVE z 1", ":1\r\n"), hs("SELECT 1", okR), zws("ZRANGE z 0 -1 WITHSCORES", "b", "2"), hs("EXPIRETIME z", ":4102444800\r\n"),
		hs("SELECT 0", okR), hs("RENAME s z2", okR),
	}},
	{"wrong type both ways", []hstep{
		hs("SET s x", okR), hs("ZADD s 1 a", wrongR), hs("ZINCRBY s 1 a", wrongR), hs("ZREM s a", wrongR), hs("ZCARD s", wrongR),
		hs("ZSCORE s a", wrongR), hs("ZMSCORE s a", wrongR), hs("ZCOUNT s 0 1", wrongR), hs("ZLEXCOUNT s - +", wrongR),
		hs("ZRANK s a", wrongR), hs("ZREVRANK s a", wrongR), hs("ZRANGE s 0 1", wrongR), hs("ZREVRANGE s 0 1", wrongR),
		hs("ZRANGEBYSCORE s 0 1", wrongR), hs("ZREVRANGEBYLEX s + -", wrongR), hs("ZREMRANGEBYRANK s 0 1", wrongR),
		hs("ZREMRANGEBYSCORE s 0 1", wrongR), hs("ZREMRANGEBYLEX s - +", wrongR), hs("ZPOPMIN s", wrongR), hs("ZPOPMAX s 2", wrongR),
		hs("ZRANDMEMBER s 1", wrongR), hs("ZSCAN s 0", wrongR), hs("ZUNION 1 s", wrongR), hs("ZINTER 1 s", wrongR), hs("ZDIFF 1 s", wrongR),
		hs("ZUNIONSTORE d 1 s", wrongR), hs("ZINTERCARD 1 s", wrongR), hs("ZMPOP 1 s MIN", wrongR), hs("ZRANGESTORE d s 0 1", wrongR),
		hs("ZADD z 1 a", ":1\r\n"), hs("GET z", wrongR), hs("APPEND z x", wrongR), hs("INCR z", wrongR), hs("SADD z m", wrongR),
		hs("SMEMBERS z", wrongR), hs("SCARD z", wrongR), hs("SUNION z", wrongR), hs("SINTERCARD 1 z", wrongR), hs("SUNIONSTORE d z", wrongR),
		hs("HSET z f v", wrongR), hs("HGETALL z", wrongR), hs("SRANDMEMBER z", wrongR), hs("GETDEL z", wrongR), hs("SET z x GET", wrongR),
		hs("SET z x", okR), hs("TYPE z", "+string\r\n"),
	}},
	{"arity", []hstep{
		hs("ZCOUNT z 1", zarity("zcount")), hs("ZREMRANGEBYSCORE z 1", zarity("zremrangebyscore")),
		hs("ZREMRANGEBYLEX z - + x", zarity("zremrangebylex")), hs("ZRANK z a b c", zarity("zrank")), hs("ZREVRANGEBYSCORE z 1", zarity("zrevrangebyscore")),
		hs("ZINTER 1", zarity("zinter")), hs("ZINTERSTORE d 1", zarity("zinterstore")), hs("ZDIFFSTORE d 1", zarity("zdiffstore")),
		hs("ZPOPMAX", zarity("zpopmax")), hs("ZMSCORE", zarity("zmscore")), hs("ZINCRBY z", zarity("zincrby")),
	}},
}

// runZsetCases runs the cases on addr, checking every pinned reply. If
// other is set, it runs them there too and requires other's replies,
// pinned or not, to be byte for byte addr's.
func runZsetCases(t *testing.T, addr, other, otherName string, resp3 bool) {
	runStepCases(t, zsetCases, hstep.argv, addr, other, otherName, resp3)
}

func TestZsetRepliesSessiond(t *testing.T) {
	srv := testserver.Start(t)
	t.Run("resp2", func(t *testing.T) { runZsetCases(t, srv.Addr, "", "", false) })
	t.Run("resp3", func(t *testing.T) { runZsetCases(t, srv.Addr, "", "", true) })
}

// TestZsetRepliesRedis proves the pins against real Redis, and compares
// sessiond's every reply, pinned or not, with Redis's.
func TestZsetRepliesRedis(t *testing.T) {
	red := testserver.StartRedis(t)
	srv := testserver.Start(t)
	t.Run("resp2", func(t *testing.T) { runZsetCases(t, red.Addr, srv.Addr, "sessiond", false) })
	t.Run("resp3", func(t *testing.T) { runZsetCases(t, red.Addr, srv.Addr, "sessiond", true) })
}

// zsetNotifyCommands cause the keyspace events of class z (and the generic
// del, expire, rename... on sorted sets); every command that changes
// nothing must cause none.
var zsetNotifyCommands = [][]string{
	{"ZADD", "z", "1", "a", "2", "b"}, {"ZADD", "z", "1", "a"}, {"ZADD", "z", "NX", "5", "a"}, {"ZADD", "z", "XX", "3", "a"},
	{"ZADD", "z", "GT", "1", "a"}, {"ZADD", "z", "INCR", "1", "a"}, {"ZADD", "z", "INCR", "0", "a"}, {"ZADD", "z", "NX", "INCR", "1", "a"},
	{"ZADD", "nokey", "XX", "1", "a"}, {"ZINCRBY", "z", "2", "b"}, {"ZINCRBY", "z", "0", "b"}, {"ZINCRBY", "z2", "1", "x"},
	{"ZADD", "z", "inf", "i"}, {"ZINCRBY", "z", "-inf", "i"}, {"ZADD", "z", "nan", "n"},
	{"ZREM", "z", "nope"}, {"ZREM", "z", "i"}, {"ZREM", "z2", "x"}, {"ZREM", "nokey", "a"},
	{"ZADD", "z", "3", "c", "4", "d", "5", "e", "6", "f"}, {"ZREMRANGEBYRANK", "z", "0", "0"}, {"ZREMRANGEBYRANK", "z", "10", "20"},
	{"ZREMRANGEBYSCORE", "z", "(4", "5"}, {"ZREMRANGEBYSCORE", "z", "100", "200"}, {"ZADD", "l", "0", "a", "0", "b", "0", "c"},
	{"ZREMRANGEBYLEX", "l", "[a", "[a"}, {"ZREMRANGEBYLEX", "l", "[x", "+"}, {"ZREMRANGEBYLEX", "l", "-", "+"},
	{"ZPOPMIN", "z"}, {"ZPOPMAX", "z", "1"}, {"ZPOPMIN", "z", "0"}, {"ZPOPMIN", "nokey"},
	{"ZADD", "p", "1", "a"}, {"ZPOPMAX", "p", "5"}, {"ZADD", "m", "1", "a", "2", "b"}, {"ZMPOP", "2", "nokey", "m", "MIN"},
	{"ZMPOP", "1", "m", "MAX", "COUNT", "10"}, {"ZMPOP", "1", "m", "MAX"},
	{"ZADD", "a", "1", "x", "2", "y"}, {"ZADD", "b", "3", "y"}, {"ZUNIONSTORE", "u", "2", "a", "b"}, {"ZUNIONSTORE", "u", "2", "a", "b"},
	{"ZINTERSTORE", "i", "2", "a", "b"}, {"ZINTERSTORE", "i", "2", "a", "nokey"}, {"ZINTERSTORE", "i", "2", "a", "nokey"},
	{"ZDIFFSTORE", "df", "2", "a", "b"}, {"ZDIFFSTORE", "df", "2", "a", "a"}, {"ZRANGESTORE", "r", "a", "0", "-1"},
	{"ZRANGESTORE", "r", "a", "5", "6"}, {"ZRANGESTORE", "r", "a", "5", "6"}, {"ZRANGESTORE", "r", "a", "-inf", "+inf", "BYSCORE"},
	{"ZUNION", "2", "a", "b"}, {"ZINTER", "2", "a", "b"}, {"ZDIFF", "2", "a", "b"}, {"ZINTERCARD", "2", "a", "b"},
	{"ZRANGE", "a", "0", "-1"}, {"ZSCORE", "a", "x"}, {"ZMSCORE", "a", "x"}, {"ZCARD", "a"}, {"ZCOUNT", "a", "-inf", "+inf"},
	{"ZLEXCOUNT", "a", "-", "+"}, {"ZRANK", "a", "x"}, {"ZRANDMEMBER", "a"}, {"ZSCAN", "a", "0"},
	{"EXPIRE", "a", "100"}, {"RENAME", "a", "a2"}, {"COPY", "a2", "a3"}, {"DEL", "a2"}, {"ZADD", "e", "1", "x"}, {"PEXPIRE", "e", "20"},
	{"EXPIRED", "e"}, {"EXISTS", "e"}, {"ZADD", "last", "1", "x"},
}

func zsetNotifyStream(t *testing.T, addr, events string) []string {
	c := dialRaw(t, addr)
	sub := dialRaw(t, addr)
	v, err := c.do("CONFIG", "SET", "notify-keyspace-events", events)
	require.NoError(t, err)
	require.Equal(t, okR, string(v.raw))
	_, err = sub.do("PSUBSCRIBE", "__key*__:*")
	require.NoError(t, err)
	var early []string
	for _, args := range zsetNotifyCommands {
		if args[0] == "EXPIRED" {
			early = append(early, awaitExpiry(t, sub, events, args[1])...)
			continue
		}
		_, err := c.do(args...)
		require.NoError(t, err, "%q", args)
	}
	_, err = c.do("PUBLISH", "__keymarker__:end", "done")
	require.NoError(t, err)
	return append(early, collect(t, sub)...)
}

// TestZsetNotificationsMatchRedis subscribes to every keyspace channel on
// both servers, runs the same sorted set commands, and compares the
// message streams.
func TestZsetNotificationsMatchRedis(t *testing.T) {
	red := testserver.StartRedis(t)
	sd := testserver.Start(t)
	for _, events := range []string{"KEA", "Kz", "Ez", "Eg", "KEAm"} {
		t.Run(events, func(t *testing.T) {
			for _, addr := range []string{red.Addr, sd.Addr} {
				c := dialRaw(t, addr)
				_, err := c.do("FLUSHALL")
				require.NoError(t, err)
			}
			want := zsetNotifyStream(t, red.Addr, events)
			got := zsetNotifyStream(t, sd.Addr, events)
			require.Equal(t, strings.Join(want, "\n"), strings.Join(got, "\n"))
			if events == "KEA" {
				require.Greater(t, len(want), 60, "the command list should produce many events")
			}
		})
	}
}

// zsetWatchCommands are run by a second client between WATCH z and EXEC;
// a command that changes nothing must not abort the transaction.
var zsetWatchCommands = []string{
	"ZADD z 1 a", "ZADD z 5 a", "ZADD z NX 1 a", "ZADD z XX 1 c", "ZADD z GT 0 a", "ZADD z CH 1 a", "ZADD z -0 a",
	"ZADD z INCR 0 a", "ZINCRBY z 0 a", "ZINCRBY z 1 a", "ZADD z INCR inf a", "ZREM z x", "ZREM z a", "ZREMRANGEBYSCORE z 10 20",
	"ZREMRANGEBYSCORE z 0 1", "ZREMRANGEBYRANK z 5 6", "ZREMRANGEBYLEX z [x [y", "ZPOPMIN z 0", "ZPOPMIN z", "ZPOPMAX nokey",
	"ZMPOP 1 z MAX", "ZMPOP 1 nokey MAX", "ZRANGESTORE z nokey 0 -1", "ZRANGESTORE other z 0 -1", "ZRANGESTORE z z 0 -1",
	"ZUNIONSTORE z 1 z", "ZINTERSTORE z 1 nokey", "ZDIFFSTORE other 1 z", "ZRANGE z 0 -1", "ZUNION 1 z", "ZRANDMEMBER z 0",
	"ZADD z nan a", "ZINCRBY z -inf n", "DEL z", "EXPIRE z 100", "RENAME z z2",
}

func zsetWatchRun(t *testing.T, addr string) []string {
	var out []string
	for _, cmd := range zsetWatchCommands {
		c1, c2 := dialRaw(t, addr), dialRaw(t, addr)
		for _, args := range [][]string{{"FLUSHALL"}, {"ZADD", "z", "0", "a", "2", "b", "inf", "n"}, {"WATCH", "z"}} {
			_, err := c1.do(args...)
			require.NoError(t, err)
		}
		v, err := c2.do(strings.Fields(cmd)...)
		require.NoError(t, err)
		_, err = c1.do("MULTI")
		require.NoError(t, err)
		_, err = c1.do("PING")
		require.NoError(t, err)
		e, err := c1.do("EXEC")
		require.NoError(t, err)
		out = append(out, fmt.Sprintf("%s -> %q; EXEC %q", cmd, v.raw, e.raw))
		c1.close()
		c2.close()
	}
	return out
}

// TestZsetWatchMatchesRedis: which sorted set commands abort a WATCHing
// transaction, compared with Redis.
func TestZsetWatchMatchesRedis(t *testing.T) {
	red := testserver.StartRedis(t)
	sd := testserver.Start(t)
	want := zsetWatchRun(t, red.Addr)
	require.Contains(t, want, `ZINCRBY z 0 a -> "$1\r\n0\r\n"; EXEC "*1\r\n+PONG\r\n"`)
	require.Contains(t, want, `ZADD z 5 a -> ":0\r\n"; EXEC "*-1\r\n"`)
	require.Equal(t, strings.Join(want, "\n"), strings.Join(zsetWatchRun(t, sd.Addr), "\n"))
}

// TestEmptyMatchPatternMatchesRedis: an explicit empty MATCH (or KEYS)
// pattern matches only the empty string, in every SCAN and in KEYS; an
// empty sorted-set member is an empty bulk string, not a null.
func TestEmptyMatchPatternMatchesRedis(t *testing.T) {
	red := testserver.StartRedis(t)
	sd := testserver.Start(t)
	run := func(addr string) []string {
		c := dialRaw(t, addr)
		var out []string
		for _, args := range [][]string{
			{"FLUSHALL"}, {"SET", "", "e"}, {"SET", "k", "v"}, {"SADD", "s", "", "a"}, {"HSET", "h", "", "1", "f", "2"},
			{"ZADD", "z", "1", "", "2", "a"}, {"KEYS", ""}, {"SCAN", "0", "MATCH", ""}, {"SSCAN", "s", "0", "MATCH", ""},
			{"HSCAN", "h", "0", "MATCH", ""}, {"ZSCAN", "z", "0", "MATCH", ""}, {"ZSCAN", "z", "0"}, {"ZRANGE", "z", "0", "-1"},
			{"EVAL", "return redis.call('ZSCAN', KEYS[1], 0)", "1", "z"},
		} {
			v, err := c.do(args...)
			require.NoError(t, err)
			out = append(out, fmt.Sprintf("%q -> %q", args, v.raw))
		}
		return out
	}
	want := run(red.Addr)
	require.Contains(t, want, `["KEYS" ""] -> "*1\r\n$0\r\n\r\n"`)
	require.Equal(t, strings.Join(want, "\n"), strings.Join(run(sd.Addr), "\n"))
}
