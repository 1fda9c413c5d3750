package resp_test

// SORT and SORT_RO against a real redis-server 7.0. TestSortRepliesRedis
// proves the pinned replies of sortCases against Redis and compares every
// reply of sessiond, pinned or not, with Redis's byte for byte, in RESP2
// and RESP3: every option and its errors, LIMIT's clamping, BY and GET
// patterns (hash fields, missing keys, keys of another type, NUL bytes),
// the weights strtod reads, ties, BY nosort on each type, STORE and what
// it leaves behind, SORT_RO, MULTI and scripts, COMMAND GETKEYS. Then the
// keyspace events, WATCH, a BLPOP woken by STORE, ACL users, the keyspace
// hit counters, and TestDiffSort's random sequences, all compared with
// Redis; TestSortByIsAtomic checks that BY and GET see one moment.
//
//	go test ./resp -run 'Sort' -count=1

import (
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"sessiond/internal/testserver"
)

const (
	sortScoreErrR = "-ERR One or more scores can't be converted into double\r\n"
	sortSyntaxR   = "-ERR syntax error\r\n"
	sortNotIntR   = "-ERR value is not an integer or out of range\r\n"
	sortWrongR    = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
	sortNull3R    = "_\r\n"
)

// sr is a step whose reply is an array of bulk strings.
func sr(line string, vs ...string) hstep { return hs(line, zbulks(vs...)) }

// sint is a step whose reply is an integer.
func sint(line string, n int) hstep { return hs(line, ":"+strconv.Itoa(n)+"\r\n") }

// snil stands for a null in sa's items.
const snil = "\x00nil"

// sa is a step whose reply is an array of bulk strings and nulls (snil):
// null bulk strings in RESP2, nulls in RESP3.
func sa(line string, items ...string) hstep {
	r2, r3 := make([]string, len(items)), make([]string, len(items))
	for i, it := range items {
		r2[i], r3[i] = rbulk(it), rbulk(it)
		if it == snil {
			r2[i], r3[i] = nilR, sortNull3R
		}
	}
	return hs3(line, zarr(r2...), zarr(r3...))
}

// saArgs is sa with the arguments given one by one.
func saArgs(items []string, args ...string) hstep {
	st := sa("", items...)
	st.args = args
	return st
}

var sortCases = []struct {
	name  string
	steps []hstep
}{
	{"numeric", []hstep{
		sint("RPUSH l 3 1 2 10 -1 1.5 0x10 1e2", 8),
		sr("SORT l", "-1", "1", "1.5", "2", "3", "10", "0x10", "1e2"),
		sr("SORT l DESC", "1e2", "0x10", "10", "3", "2", "1.5", "1", "-1"),
		sr("SORT l desc asc", "-1", "1", "1.5", "2", "3", "10", "0x10", "1e2"),
		sr("SORT l ASC DESC", "1e2", "0x10", "10", "3", "2", "1.5", "1", "-1"),
		sr("SORT_RO l", "-1", "1", "1.5", "2", "3", "10", "0x10", "1e2"),
		sr("SORT l ALPHA", "-1", "0x10", "1", "1.5", "10", "1e2", "2", "3"),
		sr("SORT l alpha desc", "3", "2", "1e2", "10", "1.5", "1", "0x10", "-1"),
		sr("SORT l ALPHA ALPHA", "-1", "0x10", "1", "1.5", "10", "1e2", "2", "3"),
		sr("LRANGE l 0 -1", "3", "1", "2", "10", "-1", "1.5", "0x10", "1e2"),
	}},
	{"not numbers", []hstep{
		sint("RPUSH l 3 a 1", 3),
		hs("SORT l", sortScoreErrR),
		hs("SORT l DESC LIMIT 0 1", sortScoreErrR),
		sr("SORT l ALPHA", "1", "3", "a"),
		hs("SORT l STORE d", sortScoreErrR),
		sint("EXISTS d", 0),
		hs("SET d keep", okR)},
	},
	{"ties by element", []hstep{
		// Equal scores: the elements' bytes decide, both ways.
		sint("RPUSH l 1 +1 1.0 01 0x1 1e0 2 0 -0 0.0", 10),
		sr("SORT l", "-0", "0", "0.0", "+1", "01", "0x1", "1", "1.0", "1e0", "2"),
		sr("SORT l DESC", "2", "1e0", "1.0", "1", "0x1", "01", "+1", "0.0", "0", "-0"),
		sr("SORT l LIMIT 2 3", "0.0", "+1", "01"),
		sint("SADD s 1 +1 1.0 01 0x1 1e0 2 0 -0 0.0", 10),
		sr("SORT s", "-0", "0", "0.0", "+1", "01", "0x1", "1", "1.0", "1e0", "2"),
		sr("SORT s DESC LIMIT 0 4", "2", "1e0", "1.0", "1"),
	}},
	{"limit", []hstep{
		sint("RPUSH l 5 4 3 2 1", 5),
		sr("SORT l LIMIT 0 0"),
		sr("SORT l LIMIT 0 1", "1"),
		sr("SORT l LIMIT 1 2", "2", "3"),
		sr("SORT l LIMIT 3 10", "4", "5"),
		sr("SORT l LIMIT 4 1", "5"),
		sr("SORT l LIMIT 5 1"),
		sr("SORT l LIMIT 100 1"),
		sr("SORT l LIMIT -1 2", "1", "2"),
		sr("SORT l LIMIT -100 -1", "1", "2", "3", "4", "5"),
		sr("SORT l LIMIT 2 -1", "3", "4", "5"),
		sr("SORT l LIMIT 2 -5", "3", "4", "5"),
		sr("SORT l LIMIT 1 9223372036854775807", "2", "3", "4", "5"),
		sr("SORT l LIMIT 9223372036854775807 9223372036854775807"),
		sr("SORT l LIMIT -9223372036854775808 -9223372036854775808", "1", "2", "3", "4", "5"),
		sr("SORT l LIMIT -9223372036854775808 2", "1", "2"),
		sr("SORT l DESC LIMIT 1 2", "4", "3"),
		sr("SORT l LIMIT 0 1 LIMIT 3 1", "4"),
		hs("SORT l LIMIT a 1", sortNotIntR),
		hs("SORT l LIMIT 1 a", sortNotIntR),
		hs("SORT l LIMIT 1.5 1", sortNotIntR),
		hs("SORT l LIMIT 9223372036854775808 1", sortNotIntR),
		hs("SORT l LIMIT 0", sortSyntaxR),
		hs("SORT l LIMIT", sortSyntaxR),
		hs("SORT l LIMIT a 1 BOGUS", sortNotIntR),
		hs("SORT l BOGUS LIMIT a 1", sortSyntaxR),
		sr("SORT nokey LIMIT 0 1"),
		sr("SORT nokey LIMIT -1 -1"),
		sr("SORT nokey"),
		hsArgs(sortNotIntR, "SORT", "l", "LIMIT", "", "1"),
		hsArgs(sortNotIntR, "SORT", "l", "LIMIT", " 1", "1"),
	}},
	{"syntax", []hstep{
		sint("RPUSH l 2 1", 2),
		hs("SORT", zarity("sort")),
		hs("SORT_RO", zarity("sort_ro")),
		hs("SORT l BOGUS", sortSyntaxR),
		hs("SORT l BY", sortSyntaxR),
		hs("SORT l GET", sortSyntaxR),
		hs("SORT l STORE", sortSyntaxR),
		hs("SORT l ASC BOGUS DESC", sortSyntaxR),
		hs("SORT_RO l STORE d", sortSyntaxR),
		hs("SORT_RO l store", sortSyntaxR),
		hs("SORT l ALPHA extra", sortSyntaxR),
		sr("SORT l ASC", "1", "2"),
		hsArgs(sortSyntaxR, "SORT", "l", ""),
		hsArgs(zbulks("2", "1"), "SORT", "l", "desc\x00x"), // options are C strings
		hsArgs(zbulks("1", "2"), "SORT", "l", "LIMIT\x00", "0", "5"),
	}},
	{"wrong type", []hstep{
		hs("SET str v", okR),
		sint("HSET h f v", 1),
		hs("SORT str", sortWrongR),
		hs("SORT h", sortWrongR),
		hs("SORT_RO h", sortWrongR),
		hs("SORT str BOGUS", sortSyntaxR), // the options first
		hs("SORT str LIMIT x 1", sortNotIntR),
		hs("SORT str STORE d", sortWrongR),
		sint("EXISTS d", 0),
		hs("SORT str BY nosort", sortWrongR),
	}},
	{"by pattern", []hstep{
		sint("RPUSH l a b c d", 4),
		hs("MSET w_a 3 w_b 1 w_c 2", okR),
		// d has no weight: it scores 0 numerically, and comes first with ALPHA.
		sr("SORT l BY w_*", "d", "b", "c", "a"),
		sr("SORT l BY w_* DESC", "a", "c", "b", "d"),
		sr("SORT l BY w_* ALPHA", "d", "b", "c", "a"),
		sr("SORT l BY w_* ALPHA DESC", "a", "c", "b", "d"),
		sr("SORT l BY w_* LIMIT 1 2", "b", "c"),
		sr("SORT l BY w_* ALPHA LIMIT 0 2", "d", "b"),
		sr("SORT_RO l BY w_*", "d", "b", "c", "a"),
		sr("SORT l BY *_w", "a", "b", "c", "d"), // no such keys: all 0, then by element
		sr("SORT l BY w_*_x", "a", "b", "c", "d"),
		hs("SET w_d x", okR),
		hs("SORT l BY w_*", sortScoreErrR),
		sr("SORT l BY w_* ALPHA", "b", "c", "a", "d"),
		sint("DEL w_d", 1),
		sint("RPUSH w_d 1", 1), // a list: no weight
		sr("SORT l BY w_*", "d", "b", "c", "a"),
		sr("SORT l BY w_* BY nosort", "a", "b", "c", "d"), // BY without '*' wins
		sr("SORT l BY nosort BY w_*", "a", "b", "c", "d"), // and stays
		sr("SORT l BY w_ DESC", "d", "c", "b", "a"),
		sr("SORT l BY **", "a", "b", "c", "d"),
		hs("MSET a_w 1 b_w 0", okR),
		sr("SORT l BY *_w", "b", "c", "d", "a"),
		// The first '*' only is replaced.
		hs("MSET x_a_* 2 x_b_* 1", okR),
		sr("SORT l BY x_*_* DESC", "a", "b", "d", "c"), // ties: elements, reversed too
	}},
	{"hash fields", []hstep{
		sint("RPUSH l a b c", 3),
		sint("HSET h_a f 30 g x", 2),
		sint("HSET h_b f 10", 1),
		sint("HSET h_c g 5", 1),
		sr("SORT l BY h_*->f", "c", "b", "a"),
		sr("SORT l BY h_*->f DESC", "a", "b", "c"),
		hs("SORT l BY h_*->g", sortScoreErrR),
		sr("SORT l BY h_*->g ALPHA", "b", "c", "a"),
		sa("SORT l BY h_*->f GET # GET h_*->f GET h_*->g GET h_*->nofield",
			"c", snil, "5", snil, "b", "10", snil, snil, "a", "30", "x", snil),
		// "->" with nothing after is part of the key name; before the '*' too.
		hs("SET h_a-> 1", okR),
		sr("SORT l BY h_*-> DESC", "a", "c", "b"),
		sa("SORT l BY nosort GET h_*->", "1", snil, snil),
		hs("SET f->h_a 9", okR),
		sa("SORT l BY nosort GET f->h_*", "9", snil, snil), // "->" before the '*': part of the key
		// A string where a hash is wanted, and the reverse: nothing.
		hs("SET s_a 1", okR),
		sa("SORT l ALPHA GET s_*->f GET h_*", snil, snil, snil, snil, snil, snil),
		// The field is everything after the first "->".
		sint("HSET k_a x->y 7", 1),
		sa("SORT l ALPHA GET k_*->x->y", "7", snil, snil),
		// An empty field value.
		sint("HSET h_b e \"\"", 1),
		saArgs([]string{snil, "", snil}, "SORT", "l", "ALPHA", "GET", "h_*->e"),
	}},
	{"get", []hstep{
		sint("RPUSH l 2 1 3", 3),
		hs("MSET o_1 one o_2 two", okR),
		sa("SORT l GET o_*", "one", "two", snil),
		sa("SORT l GET # GET o_*", "1", "one", "2", "two", "3", snil),
		sr("SORT l GET # GET #", "1", "1", "2", "2", "3", "3"),
		sa("SORT l GET nostar", snil, snil, snil),
		sa("SORT l GET #x", snil, snil, snil),
		hs("SORT l GET o_* LIMIT 1 1 DESC", zarr(rbulk("two"))),
		hs("SORT l LIMIT 0 0 GET o_*", "*0\r\n"),
		hsArgs(zbulks("1", "2", "3"), "SORT", "l", "GET", "#\x00x"),
		saArgs([]string{snil, snil, snil}, "SORT", "l", "GET", "o_\x00*"),
		hs("SET 1 k1", okR),
		sa("SORT l GET *", "k1", snil, snil),
		sr("SORT nokey GET # GET o_*"),
		hs("RPUSH o_3 x", ":1\r\n"), // a list: nothing
		sa("SORT l GET o_*", "one", "two", snil),
	}},
	{"nosort", []hstep{
		sint("RPUSH l c a b d", 4),
		sr("SORT l BY nosort", "c", "a", "b", "d"),
		sr("SORT l BY nosort DESC", "d", "b", "a", "c"),
		sr("SORT l BY nosort LIMIT 1 2", "a", "b"),
		sr("SORT l BY nosort DESC LIMIT 1 2", "b", "a"),
		sr("SORT l BY nosort LIMIT 3 5", "d"),
		sr("SORT l BY nosort DESC LIMIT 3 5", "c"),
		sr("SORT l BY nosort LIMIT 4 5"),
		sr("SORT l BY nosort LIMIT -5 2", "c", "a"),
		sr("SORT l BY nosort ALPHA", "c", "a", "b", "d"),
		sr("SORT l BY nosort GET #", "c", "a", "b", "d"),
		hsArgs(zbulks("c", "a", "b", "d"), "SORT", "l", "BY", "w_\x00*"), // '*' after a NUL: no pattern
		sint("ZADD z 3 c 1 a 2 b 2 bb 0 z", 5),
		sr("SORT z BY nosort", "z", "a", "b", "bb", "c"),
		sr("SORT z BY nosort DESC", "c", "bb", "b", "a", "z"),
		sr("SORT z BY nosort LIMIT 1 2", "a", "b"),
		sr("SORT z BY nosort DESC LIMIT 1 2", "bb", "b"),
		sr("SORT z BY nosort DESC LIMIT 0 1", "c"),
		sr("SORT z BY nosort DESC LIMIT 4 10", "z"),
		sr("SORT z BY nosort LIMIT 5 1"),
		sr("SORT z BY nosort DESC LIMIT 5 1"),
		sr("SORT z BY nosort LIMIT -1 0"),
		sr("SORT z ALPHA", "a", "b", "bb", "c", "z"),
		sr("SORT z BY nosort ALPHA LIMIT 0 2", "z", "a"),
		sint("SORT z BY nosort DESC STORE d", 5),
		sr("LRANGE d 0 -1", "c", "bb", "b", "a", "z"),
		// A set is sorted when its order would be stored (or given to a
		// script): ALPHA, whatever else was asked for.
		sint("SADD s c a b 10 2", 5),
		sint("SORT s BY nosort STORE d", 5),
		sr("LRANGE d 0 -1", "10", "2", "a", "b", "c"),
		sint("SORT s BY nosort DESC LIMIT 1 2 STORE d", 2),
		sr("LRANGE d 0 -1", "b", "a"),
		sint("SORT s BY nosort GET # GET w_* STORE d", 10),
		sr("LRANGE d 0 -1", "10", "", "2", "", "a", "", "b", "", "c", ""),
		sint("SADD one x", 1),
		sr("SORT one BY nosort", "x"),
		sr("SORT one BY nosort DESC LIMIT 0 5", "x"),
	}},
	{"zset encoding", []hstep{
		// SORT converts a listpack sorted set to a skiplist for good, even
		// SORT_RO, even when it then fails.
		sint("ZADD z 1 a 2 b", 2),
		sint("ZADD y 1 1 2 2", 2),
		hs("OBJECT ENCODING z", rbulk("listpack")),
		hs("SORT z", sortScoreErrR),
		hs("OBJECT ENCODING z", rbulk("skiplist")),
		sr("SORT_RO y LIMIT 0 0"),
		hs("OBJECT ENCODING y", rbulk("skiplist")),
		sr("ZRANGE y 0 -1", "1", "2"),
		sint("ZADD y 3 3", 1),
		hs("OBJECT ENCODING y", rbulk("skiplist")),
	}},
	{"store", []hstep{
		sint("RPUSH l 3 1 2", 3),
		sint("SORT l STORE d", 3),
		sr("LRANGE d 0 -1", "1", "2", "3"),
		hs("TYPE d", "+list\r\n"),
		hs("SET d v EX 100", okR),
		sint("SORT l DESC STORE d", 3),
		sr("LRANGE d 0 -1", "3", "2", "1"),
		sint("TTL d", -1),
		hs("SADD d x", sortWrongR),
		sint("SORT l LIMIT 0 0 STORE d", 0),
		sint("EXISTS d", 0),
		sint("SORT l LIMIT 0 0 STORE d", 0),
		sint("SORT nokey STORE d", 0),
		sint("SORT l STORE d STORE e", 3),
		sint("EXISTS d e", 1),
		sr("LRANGE e 0 -1", "1", "2", "3"),
		sint("SORT l GET # GET nokey_* STORE d", 6),
		sr("LRANGE d 0 -1", "1", "", "2", "", "3", ""),
		sint("SORT l STORE l", 3), // onto itself
		sr("LRANGE l 0 -1", "1", "2", "3"),
		sint("SORT l store L DESC", 3),
		sr("LRANGE L 0 -1", "3", "2", "1"),
		hsArgs(":3\r\n", "SORT", "l", "STORE", ""),
		hsArgs(zbulks("1", "2", "3"), "LRANGE", "", "0", "-1"),
		sint("HSET hd f v", 1),
		sint("SORT l STORE hd", 3),
		hs("TYPE hd", "+list\r\n"),
		sint("ZADD z 1 a", 1),
		sint("SORT z ALPHA STORE z", 1),
		hs("TYPE z", "+list\r\n"),
		sint("SORT missing STORE z", 0),
		sint("EXISTS z", 0),
	}},
	{"alpha and bytes", []hstep{
		// ALPHA compares as strcoll in the C locale: bytes, up to a NUL.
		// With STORE Redis compares whole strings. Equal ones keep the
		// list's order.
		hsArgs(":7\r\n", "RPUSH", "l", "a\x00c", "b", "a\x00b", "a", "\xc3\xa9", "\xff", "B"),
		hsArgs(zbulks("B", "a\x00c", "a\x00b", "a", "b", "\xc3\xa9", "\xff"), "SORT", "l", "ALPHA"),
		hsArgs(zbulks("\xff", "\xc3\xa9", "b", "a\x00c", "a\x00b", "a", "B"), "SORT", "l", "ALPHA", "DESC"),
		hsArgs(":7\r\n", "SORT", "l", "ALPHA", "STORE", "d"),
		hsArgs(zbulks("B", "a", "a\x00b", "a\x00c", "b", "\xc3\xa9", "\xff"), "LRANGE", "d", "0", "-1"),
		hsArgs(":7\r\n", "SORT", "l", "ALPHA", "DESC", "STORE", "d"),
		hsArgs(zbulks("\xff", "\xc3\xa9", "b", "a\x00c", "a\x00b", "a", "B"), "LRANGE", "d", "0", "-1"),
		// Weights too.
		hsArgs(okR, "MSET", "w_a\x00c", "x\x00b", "w_b", "x", "w_a\x00b", "x\x00a", "w_a", "y", "w_B", "a"),
		hsArgs(zbulks("\xc3\xa9", "\xff", "B", "a\x00c", "b", "a\x00b", "a"), "SORT", "l", "BY", "w_*", "ALPHA"),
		hsArgs(":7\r\n", "SORT", "l", "BY", "w_*", "ALPHA", "STORE", "d"),
		hsArgs(zbulks("\xc3\xa9", "\xff", "B", "b", "a\x00b", "a\x00c", "a"), "LRANGE", "d", "0", "-1"),
		// Numbers end at a NUL too.
		hsArgs(":4\r\n", "RPUSH", "n", "3\x00x", "2", "1\x00", "\x00"),
		hsArgs(zbulks("\x00", "1\x00", "2", "3\x00x"), "SORT", "n"),
	}},
	{"weights strtod reads", []hstep{
		hsArgs(":12\r\n", "RPUSH", "l", "", " 5", "\t6", "0x1p-1074", "-inf", "inf", "+4", ".5", "5.", "1E1", "0X1P+3", "-0x1.8"),
		hsArgs(zbulks("-inf", "-0x1.8", "", "0x1p-1074", ".5", "+4", " 5", "5.", "\t6", "0X1P+3", "1E1", "inf"), "SORT", "l"),
		hs("DEL l", ":1\r\n"),
		hsArgs(":1\r\n", "RPUSH", "l", "5 "),
		hs("SORT l", sortScoreErrR),
		hsArgs(":2\r\n", "RPUSH", "l2", "1e400", "1"),
		hs("SORT l2", sortScoreErrR),
		errnoReset,
		hsArgs(":1\r\n", "RPUSH", "l3", "1e-310"),
		hs("SORT l3", sortScoreErrR),
		errnoReset,
		hsArgs(":1\r\n", "RPUSH", "l4", "nan"),
		hs("SORT l4", sortScoreErrR),
		hsArgs(":1\r\n", "RPUSH", "l5", "  "),
		hs("SORT l5", sortScoreErrR),
		hsArgs(":1\r\n", "RPUSH", "l6", "1_000"),
		hs("SORT l6", sortScoreErrR),
		hsArgs(":1\r\n", "RPUSH", "l7", "0x"),
		hs("SORT l7", sortScoreErrR),
		hsArgs(":1\r\n", "RPUSH", "l8", "4.9406564584124654e-324"),
		hs("SORT l8", sortScoreErrR),
		errnoReset,
		hsArgs(":1\r\n", "RPUSH", "l9", "0x1.fffffffffffffffp-1023"),
		sr("SORT l9", "0x1.fffffffffffffffp-1023"),
		hsArgs(":1\r\n", "RPUSH", "l10", "0x1.fffffffffffff7p-1023"),
		hs("SORT l10", sortScoreErrR),
		errnoReset,
		hsArgs(":1\r\n", "RPUSH", "l11", "infinity"),
		sr("SORT l11", "infinity"),
		hsArgs(":1\r\n", "RPUSH", "l12", "infinit"),
		hs("SORT l12", sortScoreErrR),
		hsArgs(":1\r\n", "RPUSH", "l13", "0e-99999"),
		sr("SORT l13", "0e-99999"),
	}},
	{"big", []hstep{
		sortBulk("l", 1500),
		sr("SORT l LIMIT 0 3", "-749", "-748", "-747"),
		sr("SORT l DESC LIMIT 0 3", "750", "749", "748"),
		sr("SORT l LIMIT 1497 10", "748", "749", "750"),
		sint("SORT l STORE d", 1500),
		sr("LRANGE d 700 702", "-49", "-48", "-47"),
		sr("SORT l ALPHA LIMIT 0 3", "-1", "-10", "-100"),
		sr("SORT l BY nosort LIMIT 0 2", "-749", "-330"),
	}},
	{"multi", []hstep{
		sint("RPUSH l 3 1 2", 3),
		hs("MULTI", okR),
		hs("SORT l", "+QUEUED\r\n"),
		hs("SORT l BOGUS", "+QUEUED\r\n"),
		hs("SORT l BY w_* GET # STORE d", "+QUEUED\r\n"),
		hs("SORT_RO l STORE d", "+QUEUED\r\n"),
		hs("LRANGE d 0 -1", "+QUEUED\r\n"),
		hs("SORT str", "+QUEUED\r\n"),
		hs("EXEC", zarr(zbulks("1", "2", "3"), sortSyntaxR, ":3\r\n", sortSyntaxR, zbulks("1", "2", "3"), "*0\r\n")),
		hs("MULTI", okR),
		hs("SORT", zarity("sort")),
		hs("EXEC", "-EXECABORT Transaction discarded because of previous errors.\r\n"),
	}},
	{"scripts", []hstep{
		sint("SADD s c a b", 3),
		sint("RPUSH l c a b", 3),
		// A set's nosort order is sorted inside a script.
		hs("EVAL \"return redis.call('sort',KEYS[1],'by','nosort')\" 1 s", zbulks("a", "b", "c")),
		hs("EVAL \"return redis.call('sort',KEYS[1],'by','nosort','desc','limit','0','2')\" 1 s", zbulks("c", "b")),
		hs("EVAL \"return redis.call('sort',KEYS[1],'by','nosort')\" 1 l", zbulks("c", "a", "b")),
		sa("EVAL \"return redis.call('sort_ro',KEYS[1],'alpha','get','#','get','w_*')\" 1 l", "a", snil, "b", snil, "c", snil),
		hs("EVAL \"return redis.call('sort',KEYS[1],'alpha','store','d')\" 1 l", ":3\r\n"),
		sr("LRANGE d 0 -1", "a", "b", "c"),
		hs("EVAL \"return redis.pcall('sort',KEYS[1])\" 1 l", sortScoreErrR),
		hs("EVAL_RO \"return redis.call('sort_ro',KEYS[1],'alpha')\" 1 l", zbulks("a", "b", "c")),
		hs("EVAL_RO \"return redis.pcall('sort',KEYS[1],'alpha')\" 1 l", ""),
		hs("EVAL \"return redis.pcall('sort_ro',KEYS[1],'store','x')\" 1 l", sortSyntaxR),
	}},
	{"getkeys", []hstep{
		sr("COMMAND GETKEYS SORT k", "k"),
		sr("COMMAND GETKEYS SORT k STORE d", "k", "d"),
		sr("COMMAND GETKEYS SORT k STORE d STORE e", "k", "e"),
		sr("COMMAND GETKEYS SORT k LIMIT store x STORE d", "k", "d"),
		sr("COMMAND GETKEYS SORT k BY store GET store STORE d", "k", "d"),
		sr("COMMAND GETKEYS SORT k STORE", "k"),
		sr("COMMAND GETKEYS SORT k STORE store d", "k", "d"),
		sr("COMMAND GETKEYS SORT k BOGUS STORE d", "k", "d"),
		sr("COMMAND GETKEYS SORT_RO k STORE d", "k"),
		hs("COMMAND GETKEYSANDFLAGS SORT k LIMIT 0 1 STORE d", ""),
		hs("COMMAND GETKEYSANDFLAGS SORT_RO k", ""),
		hs("COMMAND GETKEYS SORT", zarity("command|getkeys")),
		hs("COMMAND GETKEYS SORT_RO", zarity("command|getkeys")),
	}},
}

// errnoReset follows each SORT whose weight overflows or underflows in
// strtod: Redis does not clear errno before its strtod, so a stale ERANGE
// fails its next numeric SORT whatever the weights, until a call that
// clears errno (INCRBYFLOAT's string2ld) runs. sessiond has no such state.
var errnoReset = hs("INCRBYFLOAT errno:reset 0", rbulk("0"))

// sortBulk returns RPUSH key with n integers around 0 (i - n/2), and its
// reply.
func sortBulk(key string, n int) hstep {
	args := []string{"RPUSH", key}
	for i := range n {
		args = append(args, strconv.Itoa((i*7919)%n-n/2+1))
	}
	return hsArgs(":"+strconv.Itoa(n)+"\r\n", args...)
}

// runSortCases runs sortCases on addr, checking the pinned replies; with
// other set, it runs them there too and requires the same bytes.
func runSortCases(t *testing.T, addr, other, otherName string, resp3 bool) {
	runStepCases(t, sortCases, sortArgv, addr, other, otherName, resp3)
}

// sortArgv splits a step's line as the shell would for double quotes (the
// scripts), or takes its arguments.
func sortArgv(st hstep) []string {
	if st.args != nil || !strings.Contains(st.line, `"`) {
		return st.argv()
	}
	var out []string
	for i, part := range strings.Split(st.line, `"`) {
		if i%2 == 1 {
			out = append(out, part)
			continue
		}
		out = append(out, strings.Fields(part)...)
	}
	return out
}

// TestSortRepliesSessiond checks sessiond's pinned replies alone.
func TestSortRepliesSessiond(t *testing.T) {
	srv := testserver.Start(t)
	t.Run("resp2", func(t *testing.T) { runSortCases(t, srv.Addr, "", "", false) })
	t.Run("resp3", func(t *testing.T) { runSortCases(t, srv.Addr, "", "", true) })
}

// TestSortRepliesRedis proves the pins against Redis and compares every
// reply of sessiond with Redis's.
func TestSortRepliesRedis(t *testing.T) {
	red := testserver.StartRedis(t)
	srv := testserver.Start(t)
	t.Run("resp2", func(t *testing.T) { runSortCases(t, red.Addr, srv.Addr, "sessiond", false) })
	t.Run("resp3", func(t *testing.T) { runSortCases(t, red.Addr, srv.Addr, "sessiond", true) })
}

// sortNotifyCommands cause SORT's events: "sortstore" (class l) on the
// destination with "new" before it when created, "del" (class g) when an
// empty result deletes it, nothing when there was nothing to delete;
// "keymiss" (class m) for the sorted key and every key a BY or GET
// pattern looks up in vain.
var sortNotifyCommands = [][]string{
	{"RPUSH", "l", "3", "1", "2"}, {"SORT", "l"}, {"SORT", "l", "STORE", "d"}, {"SORT", "l", "DESC", "STORE", "d"},
	{"SORT", "l", "LIMIT", "0", "0", "STORE", "d"}, {"SORT", "l", "LIMIT", "0", "0", "STORE", "d"},
	{"SORT", "nokey", "STORE", "d"}, {"SORT", "nokey"}, {"SORT_RO", "nokey", "BY", "w_*"},
	{"SET", "w_1", "5"}, {"HSET", "h_2", "f", "1"}, {"SORT", "l", "BY", "w_*", "GET", "#", "GET", "h_*->f"},
	{"SORT", "l", "BY", "h_*->f", "STORE", "e"}, {"SORT", "l", "GET", "nostar", "GET", "#"},
	{"SET", "s", "v"}, {"SORT", "s", "STORE", "d"}, {"SORT", "l", "STORE", "s"},
	{"SET", "t", "v", "EX", "100"}, {"SORT", "l", "STORE", "t"},
	{"SADD", "set", "b", "a"}, {"SORT", "set", "BY", "nosort", "STORE", "set"},
	{"ZADD", "z", "1", "a"}, {"SORT", "z", "BY", "nosort", "STORE", "z2"},
	{"SORT", "l", "BOGUS", "STORE", "d"}, {"SORT", "l", "STORE", "x", "BY", "nosort", "LIMIT", "5", "5"},
	{"MULTI"}, {"SORT", "l", "STORE", "m"}, {"SORT", "l", "GET", "w_*", "STORE", "m2"}, {"EXEC"},
	{"EVAL", "return redis.call('sort', KEYS[1], 'store', KEYS[2])", "2", "l", "ev"},
}

// TestSortNotificationsMatchRedis subscribes to every keyspace channel on
// both servers, runs the same SORT commands, and compares the streams.
func TestSortNotificationsMatchRedis(t *testing.T) {
	red := testserver.StartRedis(t)
	sd := testserver.Start(t)
	for _, events := range []string{"KEA", "KEAm", "El", "Eg", "Kn", "Em"} {
		t.Run(events, func(t *testing.T) {
			for _, addr := range []string{red.Addr, sd.Addr} {
				c := dialRaw(t, addr)
				_, err := c.do("FLUSHALL")
				require.NoError(t, err)
			}
			want := listNotifyStream(t, red.Addr, events, sortNotifyCommands)
			got := listNotifyStream(t, sd.Addr, events, sortNotifyCommands)
			require.Equal(t, strings.Join(want, "\n"), strings.Join(got, "\n"))
			switch events {
			case "El":
				require.Contains(t, want, "pmessage __key*__:* __keyevent@0__:sortstore d")
			case "Em":
				require.Contains(t, want, "pmessage __key*__:* __keyevent@0__:keymiss w_3")
			}
		})
	}
}

// sortWatchCommands are run by a second client between WATCH d l and
// EXEC: a SORT that stores aborts the transaction (as does one that
// deletes an existing destination); one that only reads, or finds nothing
// to delete, does not.
var sortWatchCommands = []string{
	"SORT l", "SORT_RO l BY w_* GET #", "SORT l STORE d", "SORT l STORE other", "SORT l LIMIT 0 0 STORE d",
	"SORT l LIMIT 0 0 STORE nokey", "SORT nokey STORE d", "SORT l STORE l", "SORT l BOGUS STORE d",
	"SORT z STORE other", "SORT l ALPHA BY nosort STORE d",
}

func sortWatchRun(t *testing.T, addr string) []string {
	var out []string
	for _, cmd := range sortWatchCommands {
		c1, c2 := dialRaw(t, addr), dialRaw(t, addr)
		for _, args := range [][]string{{"FLUSHALL"}, {"RPUSH", "l", "2", "1"}, {"RPUSH", "d", "x"}, {"ZADD", "z", "1", "5"}, {"WATCH", "d", "l", "z"}} {
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
		out = append(out, cmd+" -> "+strconv.Quote(string(v.raw))+"; EXEC "+strconv.Quote(string(e.raw)))
		c1.close()
		c2.close()
	}
	return out
}

// TestSortWatchMatchesRedis: which SORTs abort a WATCHing transaction.
func TestSortWatchMatchesRedis(t *testing.T) {
	red := testserver.StartRedis(t)
	sd := testserver.Start(t)
	want := sortWatchRun(t, red.Addr)
	require.Contains(t, want, `SORT l STORE d -> ":2\r\n"; EXEC "*-1\r\n"`)
	require.Contains(t, want, `SORT l -> "*2\r\n$1\r\n1\r\n$1\r\n2\r\n"; EXEC "*1\r\n+PONG\r\n"`)
	require.Equal(t, strings.Join(want, "\n"), strings.Join(sortWatchRun(t, sd.Addr), "\n"))
}

// sortBlockRun blocks a client in BLPOP (or BRPOP) on the destination,
// stores into it with SORT from another, and returns what each saw.
func sortBlockRun(t *testing.T, addr string) []string {
	var out []string
	for _, tc := range []struct{ block, before, sort []string }{
		{[]string{"BLPOP", "d", "5"}, nil, []string{"SORT", "src", "STORE", "d"}},
		{[]string{"BRPOP", "d", "5"}, nil, []string{"SORT", "src", "DESC", "LIMIT", "0", "2", "STORE", "d"}},
		{[]string{"BLPOP", "nothere", "d", "5"}, nil, []string{"SORT", "src", "BY", "w_*", "GET", "#", "GET", "w_*", "STORE", "d"}},
		{[]string{"BLMOVE", "d", "moved", "RIGHT", "LEFT", "5"}, nil, []string{"SORT", "src", "ALPHA", "STORE", "d"}},
		{[]string{"BLPOP", "d", "5"}, nil, []string{"EVAL", "return redis.call('sort', KEYS[1], 'store', KEYS[2])", "2", "src", "d"}},
		{[]string{"BLPOP", "d", "5"}, []string{"MULTI"}, []string{"SORT", "src", "STORE", "d"}}, // EXEC below
		// A key that got another type meanwhile is overwritten, which in
		// Redis 7.0 wakes no one: BLPOP times out.
		{[]string{"BLPOP", "d", "0.5"}, []string{"SET", "d", "x"}, []string{"SORT", "src", "STORE", "d"}},
		// A list does not serve a sorted-set pop.
		{[]string{"BZPOPMIN", "d", "0.5"}, nil, []string{"SORT", "src", "STORE", "d"}},
	} {
		c1, c2, ctl := dialRaw(t, addr), dialRaw(t, addr), dialRaw(t, addr)
		for _, args := range [][]string{{"FLUSHALL"}, {"RPUSH", "src", "3", "1", "2"}, {"MSET", "w_1", "9", "w_2", "8"}} {
			_, err := ctl.do(args...)
			require.NoError(t, err)
		}
		c1.c.SetDeadline(time.Now().Add(10 * time.Second))
		_, err := c1.c.Write(encodeCommand(tc.block))
		require.NoError(t, err)
		sortWaitBlocked(t, ctl, 1)
		if tc.before != nil {
			_, err := c2.do(tc.before...)
			require.NoError(t, err)
		}
		v, err := c2.do(tc.sort...)
		if tc.before != nil && tc.before[0] == "MULTI" {
			require.NoError(t, err)
			require.Equal(t, "+QUEUED\r\n", string(v.raw))
			v, err = c2.do("EXEC")
		}
		require.NoError(t, err)
		b, err := readReply(c1.br)
		require.NoError(t, err)
		l, err := ctl.do("LRANGE", "d", "0", "-1")
		require.NoError(t, err)
		m, err := ctl.do("LRANGE", "moved", "0", "-1")
		require.NoError(t, err)
		out = append(out, strings.Join(tc.sort, " ")+" -> "+strconv.Quote(string(v.raw))+"; "+tc.block[0]+" "+
			strconv.Quote(string(b.raw))+"; d "+strconv.Quote(string(l.raw))+"; moved "+strconv.Quote(string(m.raw)))
		c1.close()
		c2.close()
		ctl.close()
	}
	return out
}

var sortBlockedRE = regexp.MustCompile(`(?m)^blocked_clients:(\d+)\r$`)

// sortWaitBlocked waits until INFO says n clients are blocked.
func sortWaitBlocked(t *testing.T, ctl *rconn, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		v, err := ctl.do("INFO", "clients")
		require.NoError(t, err)
		m := sortBlockedRE.FindStringSubmatch(v.str)
		require.NotNil(t, m, "no blocked_clients in %q", v.str)
		if m[1] == strconv.Itoa(n) {
			return
		}
		require.False(t, time.Now().After(deadline), "blocked_clients is %s, want %d", m[1], n)
		time.Sleep(2 * time.Millisecond)
	}
}

// TestSortStoreWakesBlockedPop: a list SORT stores wakes the clients
// blocked on it, which pop at once, as in Redis.
func TestSortStoreWakesBlockedPop(t *testing.T) {
	red := testserver.StartRedis(t)
	sd := testserver.Start(t)
	want := sortBlockRun(t, red.Addr)
	require.Contains(t, want[0], `BLPOP "*2\r\n$1\r\nd\r\n$1\r\n1\r\n"`)
	require.Contains(t, want[6], `BLPOP "*-1\r\n"`)
	require.Equal(t, strings.Join(want, "\n"), strings.Join(sortBlockRun(t, sd.Addr), "\n"))
}

// sortACLRun runs commands as users with various key permissions.
func sortACLRun(t *testing.T, addr string) []string {
	ctl := dialRaw(t, addr)
	for _, args := range [][]string{
		{"FLUSHALL"}, {"ACL", "DELUSER", "limited", "readall", "writeall", "allkeys", "nosort", "roonly"},
		{"RPUSH", "src", "2", "1"}, {"RPUSH", "other", "5"}, {"MSET", "w_1", "2", "w_2", "1"},
		{"ACL", "SETUSER", "limited", "on", "nopass", "~src*", "~dst*", "+@all"},
		{"ACL", "SETUSER", "readall", "on", "nopass", "%R~*", "~dst*", "+@all"},
		{"ACL", "SETUSER", "writeall", "on", "nopass", "%W~*", "%R~src*", "+@all"},
		{"ACL", "SETUSER", "allkeys", "on", "nopass", "allkeys", "+@all"},
		{"ACL", "SETUSER", "nosort", "on", "nopass", "allkeys", "+@all", "-sort"},
		{"ACL", "SETUSER", "roonly", "on", "nopass", "%R~*", "+@all"},
	} {
		_, err := ctl.do(args...)
		require.NoError(t, err, "%q", args)
	}
	cmds := [][]string{
		{"SORT", "src"}, {"SORT", "src", "BY", "w_*"}, {"SORT", "src", "BY", "nosort"}, {"SORT", "src", "GET", "#"},
		{"SORT", "src", "BY", "w_*", "GET", "#"}, {"SORT", "src", "LIMIT", "x", "y", "BY", "w_*"},
		{"SORT", "src", "BY", "w_*", "LIMIT", "x", "y"}, {"SORT", "src", "GET", "#", "BOGUS"},
		{"SORT", "src", "STORE", "dst"}, {"SORT", "src", "STORE", "other"}, {"SORT", "other"},
		{"SORT_RO", "src", "GET", "w_*"}, {"SORT_RO", "src", "BY", "nosort"}, {"SORT_RO", "other"},
		{"SORT", "src", "BY", "w_*", "STORE", "dst"}, {"LRANGE", "dst", "0", "-1"},
		{"EVAL", "return redis.pcall('sort', 'src', 'by', 'w_*')", "0"},
		{"EVAL", "return redis.pcall('sort', 'src', 'store', 'other')", "0"},
		{"EVAL", "return redis.pcall('sort', 'src')", "0"},
		{"MULTI"}, {"SORT", "src", "GET", "w_*"}, {"SORT", "src"}, {"EXEC"},
		{"MULTI"}, {"SORT", "src", "STORE", "other"}, {"EXEC"},
	}
	var out []string
	for _, user := range []string{"limited", "readall", "writeall", "allkeys", "nosort", "roonly"} {
		c := dialRaw(t, addr)
		v, err := c.do("AUTH", user, "x")
		require.NoError(t, err)
		require.Equal(t, okR, string(v.raw))
		for _, args := range cmds {
			v, err := c.do(args...)
			require.NoError(t, err)
			out = append(out, user+": "+op{args: args}.String()+" -> "+strconv.Quote(string(v.raw)))
		}
		for _, args := range [][]string{{"SORT", "src", "STORE", "other"}, {"SORT", "src", "BY", "w_*"}, {"SORT_RO", "other", "STORE", "x"}} {
			v, err := ctl.do(append([]string{"ACL", "DRYRUN", user}, args...)...)
			require.NoError(t, err)
			out = append(out, user+": ACL DRYRUN "+op{args: args}.String()+" -> "+strconv.Quote(string(v.raw)))
		}
		c.close()
	}
	return out
}

// TestSortACLMatchesRedis: BY patterns and GET need a user who may read
// every key; STORE's destination is checked for writing.
func TestSortACLMatchesRedis(t *testing.T) {
	red := testserver.StartRedis(t)
	sd := testserver.Start(t)
	want := sortACLRun(t, red.Addr)
	require.Contains(t, want, `limited: SORT src BY w_* -> "-ERR BY option of SORT denied due to insufficient ACL permissions.\r\n"`)
	require.Contains(t, want, `limited: SORT src GET # -> "-ERR GET option of SORT denied due to insufficient ACL permissions.\r\n"`)
	require.Contains(t, want, `readall: SORT src BY w_* -> "*2\r\n$1\r\n2\r\n$1\r\n1\r\n"`)
	require.Contains(t, want, `limited: SORT src STORE other -> "-NOPERM this user has no permissions to access one of the keys used as arguments\r\n"`)
	require.Contains(t, want, `writeall: SORT src BY w_* -> "-ERR BY option of SORT denied due to insufficient ACL permissions.\r\n"`)
	require.Contains(t, want, `writeall: SORT src STORE other -> ":2\r\n"`)
	require.Equal(t, strings.Join(want, "\n"), strings.Join(sortACLRun(t, sd.Addr), "\n"))
}

var sortStatsRE = regexp.MustCompile(`(?m)^keyspace_(hits|misses):(\d+)\r$`)

// sortStatsRun runs SORTs and reports the keyspace hits and misses each
// adds: the sorted key and every pattern lookup count, as reads.
func sortStatsRun(t *testing.T, addr string) []string {
	c := dialRaw(t, addr)
	for _, args := range [][]string{{"FLUSHALL"}, {"RPUSH", "l", "1", "2", "3"}, {"SET", "w_1", "1"}, {"HSET", "h_2", "f", "1"}, {"SET", "s", "x"}} {
		_, err := c.do(args...)
		require.NoError(t, err)
	}
	var out []string
	for _, cmd := range []string{"SORT l", "SORT nokey", "SORT s", "SORT l BY w_*", "SORT l BY h_*->f", "SORT l BY nosort GET w_* GET #",
		"SORT l BY w_* GET h_*->f STORE d", "SORT l GET nostar", "SORT l LIMIT 0 1 GET w_*", "SORT l BY w_* BOGUS", "SORT l BY s"} {
		_, err := c.do("CONFIG", "RESETSTAT")
		require.NoError(t, err)
		v, err := c.do(strings.Fields(cmd)...)
		require.NoError(t, err)
		info, err := c.do("INFO", "stats")
		require.NoError(t, err)
		stats := sortStatsRE.FindAllString(info.str, -1)
		out = append(out, cmd+" -> "+strconv.Quote(string(v.raw))+" "+strings.Join(stats, " "))
	}
	return out
}

// TestSortKeyspaceStatsMatchRedis compares keyspace_hits and
// keyspace_misses after each SORT.
func TestSortKeyspaceStatsMatchRedis(t *testing.T) {
	red := testserver.StartRedis(t)
	sd := testserver.Start(t)
	want := sortStatsRun(t, red.Addr)
	require.Equal(t, strings.Join(want, "\n"), strings.Join(sortStatsRun(t, sd.Addr), "\n"))
}

// sortRefs are weights around which a random weight is sorted: its place
// among them shows the value strtod read.
var sortRefs = []string{"-1e308", "-1", "-1e-300", "0", "1e-300", "0.5", "1", "2", "1e308"}

// TestSortScoresMatchRedis sorts random number-like strings (strtod's
// forms: hexadecimal, exponents, inf and nan, signs, blanks, junk, NULs)
// among fixed ones, as elements and as BY weights, on both servers.
func TestSortScoresMatchRedis(t *testing.T) {
	red := testserver.StartRedis(t)
	srv := testserver.Start(t)
	seed := diffSeedValue()
	t.Logf("seed=%d (replay with DIFF_SEED=%d)", seed, seed)
	r := rand.New(rand.NewPCG(uint64(seed), 11))
	sc, rc := dialRaw(t, srv.Addr), dialRaw(t, red.Addr)
	n := 1500
	if os.Getenv("DIFF_LONG") != "" {
		n = 20000
	}
	both := func(args ...string) {
		a, err := sc.do(args...)
		require.NoError(t, err)
		b, err := rc.do(args...)
		require.NoError(t, err)
		require.Equal(t, string(b.raw), string(a.raw), "seed=%d: %s", seed, op{args: args})
	}
	for range n {
		x := randomNumber(r)
		switch r.IntN(10) {
		case 0:
			x = []string{" ", "\t", "\n", "\v", "\f", "\r", "  "}[r.IntN(7)] + x
		case 1:
			x += "\x00" + randomNumber(r)
		case 2:
			x += []string{" ", "x", "\x00", "e5", "."}[r.IntN(5)]
		}
		both("DEL", "l", "w_x")
		both(append([]string{"RPUSH", "l", x}, sortRefs...)...)
		both("SORT", "l")
		both("SORT", "l", "DESC")
		both("SET", "w_x", x)
		both("SORT", "x", "BY", "w_*")
		both("DEL", "x")
		both("RPUSH", "x", "x", "y")
		both("SORT", "x", "BY", "w_*")
		both("INCRBYFLOAT", "errno:reset", "0") // see errnoReset
	}
}

// TestSortByIsAtomic checks that BY and GET lookups see one moment: a
// writer flips every weight at once (MSET) between two orders while SORT
// reads them; each SORT must find one order or the other, never a mix.
func TestSortByIsAtomic(t *testing.T) {
	srv := testserver.Start(t)
	const n = 200
	c := dialRaw(t, srv.Addr)
	push := []string{"RPUSH", "l"}
	asc, desc := []string{"MSET"}, []string{"MSET"}
	for i := range n {
		e := strconv.Itoa(i)
		push = append(push, e)
		asc = append(asc, "w_"+e, strconv.Itoa(i), "v_"+e, "a")
		desc = append(desc, "w_"+e, strconv.Itoa(n-i), "v_"+e, "d")
	}
	for _, args := range [][]string{push, asc} {
		_, err := c.do(args...)
		require.NoError(t, err)
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		w := dialRaw(t, srv.Addr)
		for i := 0; !stop.Load(); i++ {
			args := asc
			if i%2 == 1 {
				args = desc
			}
			if _, err := w.do(args...); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	seen := map[string]bool{}
	deadline := time.Now().Add(2 * time.Second)
	for i := 0; i < 300 && time.Now().Before(deadline); i++ {
		store := i%3 == 2
		args := []string{"SORT", "l", "BY", "w_*", "GET", "v_*"}
		if store {
			args = append(args, "STORE", "d")
		}
		v, err := c.do(args...)
		require.NoError(t, err)
		if store {
			require.Equal(t, ":"+strconv.Itoa(n)+"\r\n", string(v.raw))
			v, err = c.do("LRANGE", "d", "0", "-1")
			require.NoError(t, err)
		}
		require.Len(t, v.elems, n)
		first := v.elems[0].str
		for _, e := range v.elems {
			require.Equal(t, first, e.str, "GET v_* mixed two moments")
		}
		l, err := c.do("SORT", "l", "BY", "w_*")
		require.NoError(t, err)
		got := strsOf(l.elems)
		up := slices.IsSortedFunc(got, func(a, b string) int { x, _ := strconv.Atoi(a); y, _ := strconv.Atoi(b); return x - y })
		down := slices.IsSortedFunc(got, func(a, b string) int { x, _ := strconv.Atoi(a); y, _ := strconv.Atoi(b); return y - x })
		require.True(t, up || down, "BY w_* mixed two moments: %v", got)
		seen[first] = true
	}
	stop.Store(true)
	wg.Wait()
	t.Logf("orders seen: %v", seen)
}

// ---------------------------------------------------------------------------
// TestDiffSort: random sequences of SORT and the writes that feed it, on
// the differential harness (diff_test.go), compared with Redis reply by
// reply and in the final state (the STORE destinations included).
//
// The keys: lists sl1, sl2 (any element) and sn (numbers), sets ss1 (no
// NUL bytes) and sns (numbers), sorted sets sz1, sz2; STORE writes only
// sd1, sd2 and sstr, so the source keys keep their types and elements.
// Weights are w_<element> strings and h_<element> hash fields, often tied,
// sometimes not numbers, of another type or missing; u_<element> and
// uh_<element> (set once per sequence) are distinct for every element.
//
// Where Redis's order is its hash table's or its unstable partial sort's,
// the generator avoids asking for it: ALPHA with a BY pattern and LIMIT,
// or on a set or sorted set, weighs by the distinct u_ weights (Redis's
// pqsort and hash order then never meet a tie); a set's BY nosort order
// outside STORE and scripts is compared as a multiset of GET groups, with
// no LIMIT. No weight overflows or underflows: Redis then keeps a stale
// ERANGE (see errnoReset), which TestSortRepliesRedis covers.
//
//	go test ./resp -run TestDiffSort -count=1      # DIFF_SEED, DIFF_LONG, DIFF_SEQS, DIFF_CMDS apply

// kSortGroups: SORT of a set BY nosort, outside STORE and scripts: the
// set's order, which is its hash table's in Redis, so the reply is
// compared as a multiset of its GET groups.
const kSortGroups cmpKind = 300

var (
	sNumElems  = []string{"1", "2", "3", "10", "-1", "0", "1.5", "-2.5", "1e2", "0x10", " 7", "inf", "-inf", "01", "1.0", "+1", "", "-0", "100", "0.001"}
	sStrElems  = []string{"a", "b", "c", "B", "abc", "ab", "\xc3\xa9", "\xff", "a b", "zz", "m1", "A"}
	sListElems = []string{"\x00", "a\x00b", "a\x00c", "3\x00z", "nan", "7 ", "x\x00"}
	sWeights   = []string{"1", "2", "3", "-1", "0", "10", "1.5", "5", "5", "5", "", "abc", "B", "a", "2\x00x", "0x1p3", " 4", "inf", "-inf", "007", "1e3"}
	sAllElems  = slices.Concat(sNumElems, sStrElems, sListElems)
	sByPats    = []string{"w_*", "w_*", "h_*->f", "h_*->g", "*", "w_*->f", "h_*->", "x_*"}
	sUniqPats  = []string{"u_*", "uh_*->f"}
	sNoSort    = []string{"nosort", "NOSORT", "w_", "none"}
	sGetPats   = []string{"#", "#", "w_*", "h_*->f", "o_*", "nostar", "h_*->g", "u_*", "*"}
)

// sortSetup gives every element a distinct u_ weight and uh_ field,
// numbers whose digits also sort them as strings.
func sortSetup() [][]string {
	mset, out := []string{"MSET"}, [][]string(nil)
	for i, e := range sAllElems {
		w := fmt.Sprintf("%04d", (i*37+11)%997)
		mset = append(mset, "u_"+e, w)
		out = append(out, []string{"HSET", "uh_" + e, "f", w})
	}
	return append(out, mset)
}

func (g *gen) selem() string  { return g.pick(sAllElems) }
func (g *gen) snelem() string { return g.pick(sNumElems) }

// sselem is a set or sorted-set member: no NUL, so that ALPHA finds no
// two equal.
func (g *gen) sselem() string {
	if g.chance(0.5) {
		return g.pick(sNumElems)
	}
	return g.pick(sStrElems)
}

func (g *gen) selems(f func() string, lo, hi int) []string {
	out := make([]string, lo+g.n(hi-lo+1))
	for i := range out {
		out[i] = f()
	}
	return out
}

// genSort returns a SORT or SORT_RO, in a script sometimes.
func (g *gen) genSort(inMulti bool) op {
	ro := g.chance(0.2)
	script := g.chance(0.12)
	var key string
	class := byte('x') // l list, s set, z sorted set, x anything else
	switch x := g.n(100); {
	case x < 35:
		key, class = g.pick([]string{"sl1", "sl2", "sn", "sn"}), 'l'
	case x < 60:
		key, class = g.pick([]string{"ss1", "sns"}), 's'
	case x < 85:
		key, class = g.pick([]string{"sz1", "sz2"}), 'z'
	default:
		key = g.pick([]string{"sd1", "sd2", "sstr", "shash", "snone"})
	}
	alpha := g.chance(0.45)
	byMode := g.n(10) // 0-3 none, 4-5 nosort, 6-9 a pattern
	limit := g.chance(0.35)
	var gets []string
	if g.chance(0.35) {
		for range 1 + g.n(3) {
			gets = append(gets, g.pick(sGetPats))
		}
	}
	store := !ro && g.chance(0.25)
	pattern := byMode >= 6
	nosort := byMode == 4 || byMode == 5
	if alpha && pattern && limit && class == 'x' {
		limit = false // a destination's elements have no u_ weights
	}
	by := g.pick(sByPats)
	if alpha && pattern && (limit || class == 's' || class == 'z') {
		by = g.pick(sUniqPats)
	}
	kind := kExact
	if class == 's' && nosort && !store && !script {
		if inMulti {
			nosort = false
		} else {
			kind, limit = kSortGroups, false
		}
	}
	var opts [][]string
	if alpha {
		opts = append(opts, []string{g.cs("alpha")})
	}
	switch {
	case pattern:
		opts = append(opts, []string{g.cs("by"), by})
	case nosort:
		opts = append(opts, []string{g.cs("by"), g.pick(sNoSort)})
	}
	if limit {
		off, cnt := g.pick([]string{"0", "0", "1", "2", "-1", "5", "100"}), g.pick([]string{"0", "1", "2", "3", "-1", "10", "100"})
		if g.chance(0.05) {
			off, cnt = g.pick([]string{"9223372036854775807", "-9223372036854775808", "x", ""}), g.pick([]string{"9223372036854775807", "-9223372036854775808", "1.5"})
		}
		opts = append(opts, []string{g.cs("limit"), off, cnt})
	}
	switch x := g.n(10); {
	case x < 4:
		opts = append(opts, []string{g.cs("desc")})
	case x < 5:
		opts = append(opts, []string{g.cs("asc")})
	case x < 6:
		opts = append(opts, []string{g.cs("desc")}, []string{g.cs("asc")})
	}
	for _, p := range gets {
		opts = append(opts, []string{g.cs("get"), p})
	}
	if store {
		opts = append(opts, []string{g.cs("store"), g.pick([]string{"sd1", "sd2", "sd1", "sstr"})})
	}
	g.r.Shuffle(len(opts), func(i, j int) { opts[i], opts[j] = opts[j], opts[i] })
	if g.chance(0.02) { // last, where an option word lacks its argument
		stray := g.pick([]string{"bogus", "store", "by", "get", "limit"})
		if stray == "by" && class == 's' {
			stray = "bogus" // the harness may append an argument: BY extra would not sort the set
		}
		opts = append(opts, []string{stray})
	}
	name := "sort"
	if ro {
		name = "sort_ro"
	}
	args := []string{g.cs(name), key}
	for _, o := range opts {
		args = append(args, o...)
	}
	if script {
		eval := "eval"
		if ro {
			eval = "eval_ro"
		}
		return op{args: argv(g.cs(eval), "return redis.pcall(unpack(ARGV))", "0", args)}
	}
	return op{args: args, kind: kind}
}

// sortGroupSize is the number of GET patterns of a SORT's arguments (1
// without any): the size of each element's group in the reply.
func sortGroupSize(args []string) int {
	n := 0
	for i := 2; i < len(args); i++ {
		switch strings.ToLower(args[i]) {
		case "limit":
			i += 2
		case "by", "store":
			i++
		case "get":
			n++
			i++
		}
	}
	return max(n, 1)
}

// checkSortGroups compares replies as multisets of their groups.
func (d *diffRun) checkSortGroups(o op, a, b rv) {
	if a.typ != b.typ || len(a.elems) != len(b.elems) {
		d.mismatch(o, a, b, "SORT groups: type and length")
	}
	size := sortGroupSize(o.args)
	groups := func(v rv) []string {
		var out []string
		for i := 0; i+size <= len(v.elems); i += size {
			var g []string
			for _, e := range v.elems[i : i+size] {
				g = append(g, string(e.raw))
			}
			out = append(out, strings.Join(g, ""))
		}
		slices.Sort(out)
		return out
	}
	if !slices.Equal(groups(a), groups(b)) {
		d.mismatch(o, a, b, "SORT of a set BY nosort, as a multiset of GET groups")
	}
}

// sortGenerators are TestDiffSort's.
func sortGenerators() []cmdGen {
	return []cmdGen{
		{40, (*gen).genSort},
		{8, simpleGen(kExact, func(g *gen) []string {
			if g.chance(0.4) {
				return argv(g.cs(g.pick([]string{"rpush", "lpush"})), "sn", g.selems(g.snelem, 1, 4))
			}
			return argv(g.cs(g.pick([]string{"rpush", "lpush"})), g.pick([]string{"sl1", "sl2"}), g.selems(g.selem, 1, 4))
		})},
		{2, simpleGen(kExact, func(g *gen) []string {
			return argv(g.cs("ltrim"), g.pick([]string{"sl1", "sl2", "sn"}), "0", strconv.Itoa(5+g.n(25)))
		})},
		{1, simpleGen(kExact, func(g *gen) []string { return argv(g.cs("lpop"), g.pick([]string{"sl1", "sl2", "sn"})) })},
		{6, simpleGen(kExact, func(g *gen) []string {
			if g.chance(0.4) {
				return argv(g.cs("sadd"), "sns", g.selems(g.snelem, 1, 4))
			}
			return argv(g.cs("sadd"), "ss1", g.selems(g.sselem, 1, 4))
		})},
		{1, simpleGen(kExact, func(g *gen) []string { return argv(g.cs("srem"), g.pick([]string{"ss1", "sns"}), g.sselem()) })},
		{6, simpleGen(kExact, func(g *gen) []string {
			args := argv(g.cs("zadd"), g.pick([]string{"sz1", "sz2"}))
			for range 1 + g.n(3) {
				args = append(args, g.pick([]string{"0", "1", "1", "2", "-1", "1.5", "10", "-inf", "inf"}), g.sselem())
			}
			return args
		})},
		{1, simpleGen(kExact, func(g *gen) []string { return argv(g.cs("zrem"), g.pick([]string{"sz1", "sz2"}), g.sselem()) })},
		{8, simpleGen(kExact, func(g *gen) []string { return argv(g.cs("set"), "w_"+g.selem(), g.pick(sWeights)) })},
		{4, simpleGen(kExact, func(g *gen) []string {
			args := argv(g.cs("hset"), "h_"+g.selem(), g.pick([]string{"f", "g"}), g.pick(sWeights))
			if g.chance(0.3) {
				args = append(args, g.pick([]string{"f", "g"}), g.pick(sWeights))
			}
			return args
		})},
		{2, simpleGen(kExact, func(g *gen) []string { return argv(g.cs("set"), "o_"+g.selem(), g.pick(sWeights)) })},
		{2, simpleGen(kExact, func(g *gen) []string {
			return argv(g.cs("del"), g.pick([]string{"w_", "h_", "o_"})+g.selem(), g.pick([]string{"sd1", "sd2", "w_1"}))
		})},
		{1, simpleGen(kExact, func(g *gen) []string {
			return argv(g.cs("rpush"), g.pick([]string{"w_", "h_"})+g.selem(), "x") // another type
		})},
		{1, simpleGen(kExact, func(g *gen) []string {
			return argv(g.cs("set"), g.pick([]string{"sd1", "sd2", "sstr"}), "v", "EX", "1000")
		})},
		{1, simpleGen(kExact, func(g *gen) []string { return argv(g.cs("hset"), "shash", "f", "v") })},
		{2, simpleGen(kExact, func(g *gen) []string { return argv(g.cs("lrange"), g.pick([]string{"sd1", "sd2", "sstr"}), "0", "-1") })},
		{1, simpleGen(kTTL, func(g *gen) []string { return argv(g.cs("ttl"), g.pick([]string{"sd1", "sd2", "sstr"})) })},
		{1, simpleGen(kExact, func(g *gen) []string {
			return argv(g.cs("object"), g.cs("encoding"), g.pick([]string{"sz1", "sz2", "sd1"}))
		})},
		{3, simpleGen(kExact, func(g *gen) []string { return argv(g.cs("multi")) })},
		{2, simpleGen(kExact, func(g *gen) []string {
			return argv(g.cs("watch"), g.pick([]string{"sd1", "sd2", "sl1", "sstr"}))
		})},
	}
}

// TestDiffSort runs random SORT sequences against sessiond and Redis.
func TestDiffSort(t *testing.T) {
	red := testserver.StartRedis(t)
	srv := testserver.Start(t)
	seed := diffSeedValue()
	t.Logf("seed=%d (replay with DIFF_SEED=%d)", seed, seed)

	seqs, cmds := 12, 300
	if os.Getenv("DIFF_LONG") != "" {
		seqs, cmds = 200, 600
	}
	seqs, cmds = envInt("DIFF_SEQS", seqs), envInt("DIFF_CMDS", cmds)

	gens, setup := sortGenerators(), sortSetup()
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
					inspS: inspS, inspR: inspR, failures: &failures, cmdsSent: &sent, gens: gens, setup: setup}
				passN := uint64(4)
				if pass == "resp3" {
					passN = 5
				}
				r := rand.New(rand.NewPCG(uint64(seed), passN<<32|uint64(seq)))
				d.sequence(r, cmds)
			}
		})
	}
	t.Logf("%d sequences x %d commands x 2 protocols: %d commands sent to each server in %v",
		seqs, cmds, sent, time.Since(start).Round(time.Millisecond))
}
