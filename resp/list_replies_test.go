package resp_test

// List commands: exact raw replies, pinned in RESP2 and RESP3, and compared
// byte for byte with a real redis-server 7.0 (TestListRepliesRedis proves
// every pin against Redis first, then compares sessiond's reply, pinned or
// not, with Redis's). Error texts and the order of the checks (arguments,
// then the key, then its type: each command has its own order), the null
// reply of each command (a null bulk string or a null array, both "_" in
// RESP3), indexes out of range and extreme, LPOS's options, the blocking
// commands where they must not block (a list to pop from, MULTI, scripts)
// and their timeouts, elements that a listpack stores as integers, long
// elements and lists over many quicklist nodes, OBJECT ENCODING, the
// keyspace events of class l, and which commands abort a WATCH.

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"sessiond/internal/testserver"
)

const (
	lRangeR     = "-ERR index out of range\r\n"
	lNoKeyR     = "-ERR no such key\r\n"
	lPositiveR  = "-ERR value is out of range, must be positive\r\n"
	lRankZeroR  = "-ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list\r\n"
	lCountNegR  = "-ERR COUNT can't be negative\r\n"
	lMaxlenNegR = "-ERR MAXLEN can't be negative\r\n"
	lNumkeysR   = "-ERR numkeys should be greater than 0\r\n"
	lCountR     = "-ERR count should be greater than 0\r\n"
	lTimeoutR   = "-ERR timeout is not a float or out of range\r\n"
	lTimeoutNeg = "-ERR timeout is negative\r\n"
	lNullArrR   = "*-1\r\n"
	lNull3R     = "_\r\n"
	lQueuedR    = "+QUEUED\r\n"
)

// lnil is a step whose reply is a null bulk string (RESP3 null).
func lnil(line string) hstep { return hs3(line, nilR, lNull3R) }

// lnilArr is a step whose reply is a null array (RESP3 null).
func lnilArr(line string) hstep { return hs3(line, lNullArrR, lNull3R) }

// lb is a step whose reply is one bulk string.
func lb(line, v string) hstep { return hs(line, rbulk(v)) }

// lr is a step whose reply is an array of bulk strings.
func lr(line string, vs ...string) hstep { return hs(line, zbulks(vs...)) }

// lint is a step whose reply is an integer.
func lint(line string, n int) hstep { return hs(line, fmt.Sprintf(":%d\r\n", n)) }

// lints is an array of integers.
func lints(ns ...int) string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = fmt.Sprintf(":%d\r\n", n)
	}
	return zarr(out...)
}

// lkv is the reply of BLPOP and BRPOP: the key and the element.
func lkv(key, v string) string { return zbulks(key, v) }

// lmpopR is the reply of LMPOP and BLMPOP: the key and its elements.
func lmpopR(key string, vs ...string) string { return zarr(rbulk(key), zbulks(vs...)) }

var (
	lLong65 = strings.Repeat("L", 65)                 // longer than 64 bytes
	lHuge   = strings.Repeat("0123456789abcdef", 520) // over 8 KB: a quicklist node of its own
	lHuge2  = strings.Repeat("fedcba9876543210", 520) // another
)

// lbulk returns RPUSH key with n elements e0000..., and its reply.
func lbulk(key string, n int) hstep {
	args := []string{"RPUSH", key}
	for i := range n {
		args = append(args, fmt.Sprintf("e%04d", i))
	}
	return hsArgs(fmt.Sprintf(":%d\r\n", n), args...)
}

var listCases = []struct {
	name  string
	steps []hstep
}{
	{"push and llen", []hstep{
		lint("RPUSH l a b c", 3), lint("LPUSH l x y", 5), lr("LRANGE l 0 -1", "y", "x", "a", "b", "c"), lint("LLEN l", 5),
		lint("LLEN nokey", 0), lint("LPUSHX nokey a", 0), lint("RPUSHX nokey a b", 0), lint("EXISTS nokey", 0),
		lint("RPUSHX l z", 6), lint("LPUSHX l 1 2", 8), lr("LRANGE l 0 -1", "2", "1", "y", "x", "a", "b", "c", "z"),
		lint("LPUSH l a a", 10), lr("LRANGE l 0 2", "a", "a", "2"),
		hs("LPUSH l", zarity("lpush")), hs("RPUSH l", zarity("rpush")), hs("LPUSHX l", zarity("lpushx")),
		hs("RPUSHX l", zarity("rpushx")), hs("LLEN", zarity("llen")), hs("LLEN l x", zarity("llen")),
		hs("TYPE l", "+list\r\n"), lb("OBJECT ENCODING l", "quicklist"),
		hsArgs(":3\r\n", "RPUSH", "e", "", "\x00", "a\r\nb"), hsArgs(zbulks("", "\x00", "a\r\nb"), "LRANGE", "e", "0", "-1"),
		hsArgs(":1\r\n", "RPUSH", "", "k"), hsArgs(zbulks("k"), "LRANGE", "", "0", "-1"),
	}},
	{"lpop rpop", []hstep{
		lint("RPUSH l a b c d e", 5), lb("LPOP l", "a"), lb("RPOP l", "e"), lr("LPOP l 2", "b", "c"), hs("RPOP l 0", zemptyR),
		hs("LPOP l 0", zemptyR), lr("RPOP l 5", "d"), lint("EXISTS l", 0), lnil("LPOP l"), lnil("RPOP l"),
		// With a count, a missing key is a null array, even for count 0.
		lnilArr("LPOP l 1"), lnilArr("LPOP l 0"), lnilArr("RPOP nokey 0"), lnilArr("RPOP nokey 9223372036854775807"),
		lint("RPUSH l a b c", 3), lr("RPOP l 2", "c", "b"), lr("LPOP l 9223372036854775807", "a"),
		hs("LPOP l -1", lPositiveR), hs("LPOP l abc", lPositiveR), hs("LPOP l 1.5", lPositiveR), hs("RPOP l -0", lPositiveR),
		hs("LPOP l 9223372036854775808", lPositiveR), hs("LPOP nokey -1", lPositiveR), hsArgs(lPositiveR, "LPOP", "l", ""),
		// The count is parsed first, then the key and its type.
		hs("SET s x", okR), hs("LPOP s", wrongR), hs("LPOP s 0", wrongR), hs("RPOP s 3", wrongR), hs("LPOP s -1", lPositiveR),
		hs("RPOP s abc", lPositiveR), hs("LPOP l 1 2", zarity("lpop")), hs("RPOP l 1 2 3", zarity("rpop")), hs("LPOP", zarity("lpop")),
	}},
	{"lindex", []hstep{
		lint("RPUSH l a b c", 3), lb("LINDEX l 0", "a"), lb("LINDEX l -1", "c"), lb("LINDEX l -3", "a"), lb("LINDEX l 2", "c"),
		lnil("LINDEX l 3"), lnil("LINDEX l -4"), lnil("LINDEX l 9223372036854775807"), lnil("LINDEX l -9223372036854775808"),
		hs("LINDEX l abc", notIntR), hs("LINDEX l -0", notIntR), hs("LINDEX l 00", notIntR), hs("LINDEX l +1", notIntR),
		hs("LINDEX l 1.0", notIntR), hs("LINDEX l 9223372036854775808", notIntR), hsArgs(notIntR, "LINDEX", "l", " 1"),
		hsArgs(notIntR, "LINDEX", "l", "1 "), hsArgs(notIntR, "LINDEX", "l", ""),
		// LINDEX looks the key up first: a missing key is nil and a wrong
		// type is WRONGTYPE whatever the index.
		lnil("LINDEX nokey abc"), hs("SET s x", okR), hs("LINDEX s abc", wrongR), hs("LINDEX s 0", wrongR),
		hs("LINDEX l", zarity("lindex")), hs("LINDEX l 0 1", zarity("lindex")),
	}},
	{"lset", []hstep{
		// LSET looks the key up first too: "no such key" whatever the index.
		hs("LSET nokey 0 x", lNoKeyR), hs("LSET nokey abc x", lNoKeyR), lint("RPUSH l a b c", 3), hs("LSET l 1 B", okR),
		hs("LSET l -1 C", okR), lr("LRANGE l 0 -1", "a", "B", "C"), hs("LSET l 3 x", lRangeR), hs("LSET l -4 x", lRangeR),
		hs("LSET l 9223372036854775807 x", lRangeR), hs("LSET l -9223372036854775808 x", lRangeR), hs("LSET l abc x", notIntR),
		hs("LSET l -0 x", notIntR), hs("SET s x", okR), hs("LSET s 0 x", wrongR), hs("LSET s abc x", wrongR),
		hsArgs(okR, "LSET", "l", "0", lLong65), hsArgs(rbulk(lLong65), "LINDEX", "l", "0"), hsArgs(okR, "LSET", "l", "0", ""),
		hs("LINDEX l 0", "$0\r\n\r\n"), hsArgs(okR, "LSET", "l", "2", lHuge), hsArgs(rbulk(lHuge), "LINDEX", "l", "-1"),
		hs("LSET l 0 7", okR), lb("LINDEX l 0", "7"), lb("OBJECT ENCODING l", "quicklist"),
		hs("LSET l 0", zarity("lset")), hs("LSET l 0 x y", zarity("lset")),
	}},
	{"lrange", []hstep{
		lint("RPUSH l a b c d e", 5), lr("LRANGE l 0 -1", "a", "b", "c", "d", "e"), lr("LRANGE l 1 3", "b", "c", "d"),
		lr("LRANGE l -2 -1", "d", "e"), lr("LRANGE l -100 100", "a", "b", "c", "d", "e"), hs("LRANGE l 3 1", zemptyR),
		hs("LRANGE l 5 10", zemptyR), hs("LRANGE l -1 -2", zemptyR), lr("LRANGE l -6 0", "a"), lr("LRANGE l 0 0", "a"),
		lr("LRANGE l 2 -3", "c"), hs("LRANGE l 2 -4", zemptyR), lr("LRANGE l 4 100", "e"), hs("LRANGE l -100 -6", zemptyR),
		lr("LRANGE l 0 9223372036854775807", "a", "b", "c", "d", "e"), lr("LRANGE l -9223372036854775808 -1", "a", "b", "c", "d", "e"),
		hs("LRANGE l 9223372036854775807 -9223372036854775808", zemptyR), hs("LRANGE l abc 1", notIntR), hs("LRANGE l 0 abc", notIntR),
		hs("LRANGE l 0 1.5", notIntR), hs("LRANGE nokey 0 -1", zemptyR),
		// LRANGE parses the indexes before it looks the key up.
		hs("LRANGE nokey abc 1", notIntR), hs("SET s x", okR), hs("LRANGE s abc 1", notIntR), hs("LRANGE s 0 1", wrongR),
		hs("LRANGE l 0", zarity("lrange")), hs("LRANGE l 0 1 2", zarity("lrange")),
	}},
	{"ltrim", []hstep{
		lint("RPUSH l a b c d e", 5), hs("LTRIM l 1 -2", okR), lr("LRANGE l 0 -1", "b", "c", "d"), hs("LTRIM l 0 100", okR),
		lr("LRANGE l 0 -1", "b", "c", "d"), hs("LTRIM l -2 -1", okR), lr("LRANGE l 0 -1", "c", "d"), hs("LTRIM l 5 10", okR),
		lint("EXISTS l", 0), hs("LTRIM nokey 0 1", okR), lint("EXISTS nokey", 0), hs("LTRIM nokey abc 1", notIntR),
		hs("SET s x", okR), hs("LTRIM s 0 1", wrongR), hs("LTRIM s abc 1", notIntR), lint("RPUSH l a b", 2), hs("LTRIM l 1 0", okR),
		lint("EXISTS l", 0), lint("RPUSH l a b c", 3), hs("LTRIM l -100 0", okR), lr("LRANGE l 0 -1", "a"),
		lint("RPUSH l b c", 3), hs("LTRIM l -9223372036854775808 9223372036854775807", okR), lint("LLEN l", 3),
		hs("LTRIM l 0 -4", okR), lint("EXISTS l", 0), hs("LTRIM l 0", zarity("ltrim")),
	}},
	{"lrem", []hstep{
		lint("RPUSH l a b a c a", 5), lint("LREM l 2 a", 2), lr("LRANGE l 0 -1", "b", "c", "a"), lint("RPUSH l a b", 5),
		lint("LREM l -1 b", 1), lr("LRANGE l 0 -1", "b", "c", "a", "a"), lint("LREM l -1 a", 1), lr("LRANGE l 0 -1", "b", "c", "a"),
		lint("LREM l 0 a", 1), lint("LREM l 0 zz", 0), lint("LREM l 100 c", 1), lr("LRANGE l 0 -1", "b"),
		hs("LREM l abc a", notIntR), hs("LREM l -0 a", notIntR), lint("LREM nokey 1 a", 0),
		// The count is parsed before the key is looked up.
		hs("LREM nokey abc a", notIntR), hs("SET s x", okR), hs("LREM s 1 a", wrongR), hs("LREM s abc a", notIntR),
		lint("LREM l 0 b", 1), lint("EXISTS l", 0),
		// Redis 7.0 takes LONG_MIN: its negation overflows to itself, so
		// the removal runs from the tail and never reaches the count.
		lint("RPUSH r a x a a", 4), lint("LREM r -9223372036854775808 a", 3), lr("LRANGE r 0 -1", "x"),
		lint("RPUSH r a x a", 4), lint("LREM r 9223372036854775807 a", 2), lr("LRANGE r 0 -1", "x", "x"),
		hs("LREM r 1", zarity("lrem")), hs("LREM r 1 a b", zarity("lrem")),
	}},
	{"linsert", []hstep{
		lint("RPUSH l a b c", 3), lint("LINSERT l BEFORE b x", 4), lint("LINSERT l after c y", 5), lint("LINSERT l AFTER zz q", -1),
		hsArgs(":6\r\n", "LINSERT", "l", "BEFORE", "a", ""), hsArgs(zbulks("", "a", "x", "b", "c", "y"), "LRANGE", "l", "0", "-1"),
		hsArgs(":7\r\n", "LINSERT", "l", "After", "", "e"), lr("LRANGE l 0 1", "", "e"),
		lint("LINSERT nokey BEFORE a x", 0), lint("EXISTS nokey", 0),
		// The keyword is checked before the key: a syntax error even for a
		// missing key or one of another type.
		hs("LINSERT nokey bogus a x", syntaxR), hs("LINSERT l bogus a x", syntaxR), hs("LINSERT l LEFT a x", syntaxR),
		hs("SET s x", okR), hs("LINSERT s BEFORE a x", wrongR), hs("LINSERT s bogus a x", syntaxR),
		lint("RPUSH d a a", 2), lint("LINSERT d AFTER a m", 3), lr("LRANGE d 0 -1", "a", "m", "a"),
		lint("LINSERT d BEFORE a n", 4), lr("LRANGE d 0 -1", "n", "a", "m", "a"),
		hs("LINSERT l BEFORE a", zarity("linsert")), hs("LINSERT l BEFORE a x y", zarity("linsert")),
	}},
	{"lpos", []hstep{
		lint("RPUSH l a b c a b c a", 7), lint("LPOS l a", 0), lint("LPOS l c", 2), lint("LPOS l a RANK 2", 3),
		lint("LPOS l a RANK -1", 6), lint("LPOS l a RANK -2", 3), lnil("LPOS l a RANK 4"), lnil("LPOS l a RANK -4"),
		hs("LPOS l a COUNT 0", lints(0, 3, 6)), hs("LPOS l a COUNT 2", lints(0, 3)), hs("LPOS l a RANK -1 COUNT 2", lints(6, 3)),
		hs("LPOS l a RANK 2 COUNT 0", lints(3, 6)), hs("LPOS l a COUNT 1 RANK 3", lints(6)), hs("LPOS l a RANK 4 COUNT 0", zemptyR),
		lint("LPOS l a MAXLEN 1", 0), lnil("LPOS l c MAXLEN 2"), hs("LPOS l c MAXLEN 2 COUNT 0", zemptyR),
		lint("LPOS l a RANK -1 MAXLEN 1", 6), lnil("LPOS l b RANK -1 MAXLEN 1"), hs("LPOS l a COUNT 0 MAXLEN 4", lints(0, 3)),
		hs("LPOS l c RANK -1 COUNT 0 MAXLEN 5", lints(5, 2)), lint("LPOS l a MAXLEN 0", 0),
		lnil("LPOS l zz"), hs("LPOS l zz COUNT 1", zemptyR), lnil("LPOS nokey a"), hs("LPOS nokey a COUNT 0", zemptyR),
		lint("LPOS l a RANK 1 RANK -1", 6), hs("LPOS l a COUNT 1 COUNT 0", lints(0, 3, 6)),
		hs("LPOS l a count 0 rank 2 maxlen 7", lints(3, 6)),
		hs("LPOS l a RANK 0", lRankZeroR), hs("LPOS l a RANK abc", notIntR), hs("LPOS l a RANK -9223372036854775809", notIntR),
		// COUNT and MAXLEN say "can't be negative" for anything that is
		// not a non-negative integer.
		hs("LPOS l a COUNT -1", lCountNegR), hs("LPOS l a COUNT abc", lCountNegR), hs("LPOS l a MAXLEN -1", lMaxlenNegR),
		hs("LPOS l a MAXLEN 1.5", lMaxlenNegR), hs("LPOS l a RANK", syntaxR), hs("LPOS l a COUNT", syntaxR),
		hs("LPOS l a bogus", syntaxR), hs("LPOS l a RANK 1 bogus 1", syntaxR),
		// Options are parsed before the key is looked up.
		hs("SET s x", okR), hs("LPOS s a", wrongR), hs("LPOS s a COUNT 0", wrongR), hs("LPOS s a RANK 0", lRankZeroR),
		hs("LPOS nokey a RANK 0", lRankZeroR), hs("LPOS nokey a COUNT -1", lCountNegR), hs("LPOS l", zarity("lpos")),
		// Redis 7.0 takes RANK LONG_MIN (later versions refuse it): its
		// negation overflows to itself, so every match from the tail
		// counts and COUNT never stops the search; MAXLEN still does.
		lint("LPOS l a RANK -9223372036854775808", 6), hs("LPOS l a RANK -9223372036854775808 COUNT 1", lints(6, 3, 0)),
		lint("LPOS l a RANK -9223372036854775808 MAXLEN 2", 6), hs("LPOS l a RANK -9223372036854775808 MAXLEN 4 COUNT 1", lints(6, 3)),
		lnil("LPOS l a RANK 9223372036854775807"), hs("LPOS l a COUNT 9223372036854775807", lints(0, 3, 6)),
	}},
	{"lmove and rpoplpush", []hstep{
		lint("RPUSH src a b c", 3), lb("LMOVE src dst LEFT RIGHT", "a"), lb("LMOVE src dst right left", "c"),
		lr("LRANGE dst 0 -1", "c", "a"), lr("LRANGE src 0 -1", "b"), lb("LMOVE src dst Left Left", "b"), lint("EXISTS src", 0),
		lnil("LMOVE src dst LEFT LEFT"), lnil("RPOPLPUSH src dst"), lr("LRANGE dst 0 -1", "b", "c", "a"),
		// The same key: a rotation, or nothing at all.
		lb("RPOPLPUSH dst dst", "a"), lr("LRANGE dst 0 -1", "a", "b", "c"), lb("LMOVE dst dst LEFT RIGHT", "a"),
		lr("LRANGE dst 0 -1", "b", "c", "a"), lb("LMOVE dst dst RIGHT RIGHT", "a"), lb("LMOVE dst dst LEFT LEFT", "b"),
		lr("LRANGE dst 0 -1", "b", "c", "a"), lint("RPUSH one x", 1), lb("LMOVE one one LEFT RIGHT", "x"), lr("LRANGE one 0 -1", "x"),
		lb("RPOPLPUSH one one", "x"), lint("LLEN one", 1),
		// Directions first; then the source; the destination's type only
		// when there is something to move.
		hs("LMOVE src dst UP LEFT", syntaxR), hs("LMOVE src dst LEFT bogus", syntaxR), hsArgs(syntaxR, "LMOVE", "src", "dst", "", "LEFT"),
		hs("SET s x", okR), hs("LMOVE s dst bogus LEFT", syntaxR), lnil("LMOVE nokey s LEFT LEFT"), lnil("RPOPLPUSH nokey s"),
		hs("LMOVE dst s LEFT LEFT", wrongR), hs("RPOPLPUSH dst s", wrongR), lr("LRANGE dst 0 -1", "b", "c", "a"),
		hs("LMOVE s dst LEFT LEFT", wrongR), hs("RPOPLPUSH s dst", wrongR), hs("LMOVE s s LEFT LEFT", wrongR),
		hs("RPOPLPUSH src", zarity("rpoplpush")), hs("LMOVE a b LEFT", zarity("lmove")), hs("LMOVE a b LEFT LEFT x", zarity("lmove")),
	}},
	{"lmpop", []hstep{
		lint("RPUSH l1 a b c", 3), lint("RPUSH l2 x", 1),
		hs("LMPOP 2 nokey l1 LEFT", lmpopR("l1", "a")), hs("LMPOP 2 l2 l1 RIGHT COUNT 5", lmpopR("l2", "x")), lint("EXISTS l2", 0),
		hs("LMPOP 1 l1 right count 5", lmpopR("l1", "c", "b")), lnilArr("LMPOP 1 l1 LEFT"), lnilArr("LMPOP 3 a b c RIGHT COUNT 2"),
		hs("LMPOP 0 l1 LEFT", lNumkeysR), hs("LMPOP -1 l1 LEFT", lNumkeysR), hs("LMPOP abc l1 LEFT", lNumkeysR),
		hs("LMPOP 1.0 l1 LEFT", lNumkeysR), hs("LMPOP 2 l1 LEFT", syntaxR), hs("LMPOP 9223372036854775807 l1 LEFT", syntaxR),
		hs("LMPOP 1 l1 bogus", syntaxR), hs("LMPOP 1 l1 LEFT COUNT 0", lCountR), hs("LMPOP 1 l1 LEFT COUNT -1", lCountR),
		hs("LMPOP 1 l1 LEFT COUNT abc", lCountR), hs("LMPOP 1 l1 LEFT COUNT", syntaxR), hs("LMPOP 1 l1 LEFT COUNT 1 COUNT 1", syntaxR),
		hs("LMPOP 1 l1 LEFT bogus", syntaxR), hs("LMPOP 1 nokey LEFT COUNT abc", lCountR), hs("LMPOP 1 l1", zarity("lmpop")),
		hs("SET s x", okR), lint("RPUSH l3 q r", 2), hs("LMPOP 2 s l3 LEFT", wrongR), hs("LMPOP 2 l3 s LEFT", lmpopR("l3", "q")),
		hs("LMPOP 1 s LEFT COUNT 0", lCountR), hs("LMPOP 1 l3 LEFT COUNT 9223372036854775807", lmpopR("l3", "r")), lint("EXISTS l3", 0),
	}},
	{"blocking commands with something to pop", []hstep{
		// With a list to pop from, the blocking commands do not block.
		lint("RPUSH l a b c", 3), hs("BLPOP nokey l 0", lkv("l", "a")), hs("BRPOP l nokey 0", lkv("l", "c")),
		lb("BLMOVE l d LEFT RIGHT 0", "b"), lint("EXISTS l", 0), lint("RPUSH l x y z", 3),
		hs("BLMPOP 0 2 nokey l RIGHT COUNT 2", lmpopR("l", "z", "y")), lb("BRPOPLPUSH l d 1", "x"), lr("LRANGE d 0 -1", "x", "b"),
		// Timeouts are long doubles, multiplied by 1000 and rounded up
		// before the sign check: "-0.001" is valid (0.001 as a long double
		// is a little under it), hexadecimal too.
		lint("RPUSH l 1 2 3 4 5 6", 6), hs("BLPOP l -0.001", lkv("l", "1")), hs("BLPOP l -0", lkv("l", "2")),
		hs("BLPOP l 0x10", lkv("l", "3")), hs("BLPOP l 1e15", lkv("l", "4")), hs("BLPOP l .5", lkv("l", "5")),
		hs("BLPOP l -0.5", lTimeoutNeg), hs("BLPOP l -1", lTimeoutNeg), hs("BLPOP l abc", lTimeoutR), hs("BLPOP l nan", lTimeoutR),
		hsArgs(lTimeoutR, "BLPOP", "l", " 1"), hsArgs(lTimeoutR, "BLPOP", "l", ""), hs("BLPOP l -inf", lTimeoutNeg),
		hs("BLPOP l -1e20", lTimeoutNeg), lint("LLEN l", 1),
		// The timeout is checked before any key, so these return at once.
		hs("BLPOP nokey abc", lTimeoutR), hs("BRPOP nokey -1", lTimeoutNeg), hs("BRPOPLPUSH nokey d -1", lTimeoutNeg),
		hs("BLMOVE nokey d LEFT LEFT abc", lTimeoutR), hs("BLMOVE nokey d bogus LEFT abc", syntaxR),
		// BLMPOP checks its other arguments first.
		hs("BLMPOP abc 1 nokey LEFT", lTimeoutR), hs("BLMPOP abc 0 nokey LEFT", lNumkeysR), hs("BLMPOP abc 1 nokey bogus", syntaxR),
		hs("BLMPOP -1 1 nokey LEFT COUNT 0", lCountR), hs("BLMPOP -1 2 nokey LEFT", syntaxR), hs("BLMPOP -1 1 nokey LEFT", lTimeoutNeg),
		hs("SET s x", okR), hs("BLPOP s 0", wrongR), hs("BLPOP nokey s 0", wrongR), hs("BLPOP l s 0", lkv("l", "6")),
		hs("BLMOVE s d LEFT LEFT 0", wrongR), hs("BRPOPLPUSH d s 0", wrongR), hs("BLMPOP 0 1 s LEFT", wrongR),
		hs("BLPOP s abc", lTimeoutR), hs("BLPOP l", zarity("blpop")), hs("BRPOPLPUSH l d", zarity("brpoplpush")),
		hs("BLMOVE l d LEFT LEFT", zarity("blmove")), hs("BLMPOP 0 1 l", zarity("blmpop")),
	}},
	{"blocking timeouts that overflow", []hstep{
		// The milliseconds overflow long long: on x86-64 the conversion
		// gives LLONG_MIN, so Redis answers "timeout is negative" (and pops
		// nothing, though there is something to pop).
		lint("RPUSH l a", 1), hs("BLPOP l inf", lTimeoutNeg), hs("BLPOP l 1e20", lTimeoutNeg), hs("BLPOP l 1e400", lTimeoutNeg),
		hs("BLPOP l 9223372036854775807", lTimeoutNeg), hs("BLPOP l 1e16", lTimeoutNeg), lint("LLEN l", 1),
	}},
	{"blocking commands inside MULTI", []hstep{
		// Inside MULTI they cannot block: an empty source is as if the
		// timeout had expired at once, whatever the timeout.
		lint("RPUSH l a", 1), hs("SET s x", okR), hs("MULTI", okR), hs("BLPOP nokey 0", lQueuedR), hs("BRPOP nokey 1", lQueuedR),
		hs("BLMOVE nokey d LEFT LEFT 0", lQueuedR), hs("BRPOPLPUSH nokey d 0", lQueuedR), hs("BLMPOP 0 1 nokey LEFT", lQueuedR),
		hs("BLPOP nokey abc", lQueuedR), hs("BLMPOP 0 0 nokey LEFT", lQueuedR), hs("BLPOP l -0.0001", lQueuedR),
		hs("BLPOP l 0", lQueuedR), hs("BLMOVE nokey s LEFT LEFT 0", lQueuedR), hs("BLMPOP -0 1 l RIGHT COUNT 3", lQueuedR),
		hs("BLPOP s 0", lQueuedR), hs("BLPOP nokey inf", lQueuedR),
		hs3("EXEC", zarr(lNullArrR, lNullArrR, nilR, nilR, lNullArrR, lTimeoutR, lNumkeysR, lkv("l", "a"), lNullArrR, nilR,
			lNullArrR, wrongR, lTimeoutNeg),
			zarr(lNull3R, lNull3R, lNull3R, lNull3R, lNull3R, lTimeoutR, lNumkeysR, lkv("l", "a"), lNull3R, lNull3R,
				lNull3R, wrongR, lTimeoutNeg)),
		hs("MULTI", okR), hs("RPUSH q 1 2", lQueuedR), hs("BRPOPLPUSH q q 0", lQueuedR), hs("BLMOVE q r RIGHT LEFT 0", lQueuedR),
		hs("BLMPOP 0 1 q LEFT COUNT 5", lQueuedR), hs("BLPOP q 0", lQueuedR),
		hs3("EXEC", zarr(":2\r\n", rbulk("2"), rbulk("1"), lmpopR("q", "2"), lNullArrR),
			zarr(":2\r\n", rbulk("2"), rbulk("1"), lmpopR("q", "2"), lNull3R)),
		lr("LRANGE r 0 -1", "1"), lint("EXISTS q", 0),
		// Queued with the wrong number of arguments: EXECABORT.
		hs("MULTI", okR), hs("BLPOP nokey", zarity("blpop")), hs("EXEC", "-EXECABORT Transaction discarded because of previous errors.\r\n"),
	}},
	{"blocking commands in scripts", []hstep{
		// BLPOP, BRPOP, BLMOVE and BRPOPLPUSH are noscript in Redis 7.0;
		// BLMPOP is not, and runs as if its timeout had expired.
		hsArgs("-ERR This Redis command is not allowed from script script: 09f017854e6a19992d9775bee62f27fa183c0f5b, on @user_script:1.\r\n",
			"EVAL", "return redis.call('BLPOP', KEYS[1], 0)", "1", "nokey"),
		hsArgs("-ERR This Redis command is not allowed from script\r\n", "EVAL", "return redis.pcall('BRPOP', KEYS[1], 0)", "1", "nokey"),
		hsArgs("-ERR This Redis command is not allowed from script\r\n", "EVAL", "return redis.pcall('BLMOVE', KEYS[1], KEYS[2], 'LEFT', 'LEFT', 0)", "2", "nokey", "d"),
		hsArgs("-ERR This Redis command is not allowed from script\r\n", "EVAL", "return redis.pcall('BRPOPLPUSH', KEYS[1], KEYS[2], 0)", "2", "nokey", "d"),
		hsArgs(":1\r\n", "RPUSH", "l", "a"),
		hsArgs("-ERR This Redis command is not allowed from script\r\n", "EVAL", "return redis.pcall('BLPOP', KEYS[1], 0)", "1", "l"),
		{args: []string{"EVAL", "return redis.call('BLMPOP', 0, 1, KEYS[1], 'LEFT')", "1", "nokey"}, r2: nilR, r3: lNull3R},
		hsArgs(lmpopR("l", "a"), "EVAL", "return redis.call('BLMPOP', 0, 1, KEYS[1], 'LEFT')", "1", "l"),
		hsArgs(lmpopR("l2", "x"), "EVAL", "redis.call('RPUSH', KEYS[1], 'x'); return redis.call('LMPOP', 1, KEYS[1], 'LEFT')", "1", "l2"),
		hsArgs(lTimeoutR, "EVAL", "return redis.pcall('BLMPOP', 'abc', 1, KEYS[1], 'LEFT')", "1", "nokey"),
	}},
	{"elements that look like integers", []hstep{
		// A listpack stores some elements as integers; LRANGE gives them
		// back byte for byte, and LPOS, LREM and LINSERT compare bytes.
		hsArgs(":10\r\n", "RPUSH", "i", "007", "-0", "9223372036854775807", "-9223372036854775808", "9223372036854775808", "7", "1.5", " 1", "0", "+1"),
		hsArgs(zbulks("007", "-0", "9223372036854775807", "-9223372036854775808", "9223372036854775808", "7", "1.5", " 1", "0", "+1"), "LRANGE", "i", "0", "-1"),
		hs("LPOS i 7 COUNT 0", lints(5)), lint("LPOS i -0", 1), hs("LPOS i 0 COUNT 0", lints(8)), lnil("LPOS i 1"),
	}},
	{"long elements and many nodes", []hstep{
		hsArgs(":3\r\n", "RPUSH", "h", lHuge, "a", lHuge2), lb("OBJECT ENCODING h", "quicklist"),
		hsArgs(rbulk(lHuge2), "LINDEX", "h", "2"), hsArgs(zbulks("a", lHuge2), "LRANGE", "h", "1", "-1"),
		hsArgs(":1\r\n", "LPOS", "h", "a"), hsArgs(":2\r\n", "LPOS", "h", lHuge2), hsArgs(":4\r\n", "LINSERT", "h", "BEFORE", lHuge2, lLong65),
		hsArgs(zbulks("a", lLong65), "LRANGE", "h", "1", "2"), hsArgs(":1\r\n", "LREM", "h", "0", lHuge), hsArgs(rbulk("a"), "LPOP", "h"),
		hsArgs(okR, "LSET", "h", "0", "b"), hsArgs(zbulks("b", lHuge2), "LRANGE", "h", "0", "-1"), lint("LLEN h", 2),
		lbulk("b", 2000), lint("LLEN b", 2000), lb("OBJECT ENCODING b", "quicklist"), lb("LINDEX b 1500", "e1500"),
		lb("LINDEX b -2000", "e0000"), lnil("LINDEX b 2000"), lr("LRANGE b 998 1001", "e0998", "e0999", "e1000", "e1001"),
		lint("LPOS b e1999", 1999), lnil("LPOS b e1999 MAXLEN 1999"), lint("LPOS b e0000 RANK -1", 0),
		hs("LSET b 1234 X", okR), lint("LINSERT b AFTER X Y", 2001), lr("LRANGE b 1233 1236", "e1233", "X", "Y", "e1235"),
		lint("LREM b -1 e0001", 1), hs("LTRIM b 500 -500", okR), lint("LLEN b", 1001), lb("LINDEX b 0", "e0501"),
		lr("LPOP b 3", "e0501", "e0502", "e0503"), lr("RPOP b 2", "e1500", "e1499"), lint("LPOS b X", 730),
		hs("LTRIM b 1 0", okR), lint("EXISTS b", 0),
	}},
	{"type scan and generic commands", []hstep{
		lint("RPUSH l a", 1), hs("SET s x", okR), lint("SADD t m", 1), hs("TYPE l", "+list\r\n"),
		hs("SCAN 0 TYPE list", "*2\r\n$1\r\n0\r\n"+zbulks("l")), hs("SCAN 0 TYPE LIST", "*2\r\n$1\r\n0\r\n"+zbulks("l")),
		hs("SCAN 0 TYPE lists", emptyScR), lnil("OBJECT ENCODING nokey"),
		// An absolute deadline (EXPIRETIME): pops and pushes keep it.
		lint("EXPIREAT l 4102444800", 1), lint("RPUSH l b", 2), lb("LPOP l", "a"), lint("EXPIRETIME l", 4102444800),
		lint("COPY l l2", 1), lr("LRANGE l2 0 -1", "b"), lint("EXPIRETIME l2", 4102444800), lint("COPY l l2", 0),
		lint("COPY s l2 REPLACE", 1), hs("TYPE l2", "+string\r\n"), hs("RENAME l l3", okR), lint("MOVE l3 1", 1),
		hs("SELECT 1", okR), lr("LRANGE l3 0 -1", "b"), lint("EXPIRETIME l3", 4102444800), lb("OBJECT ENCODING l3", "quicklist"),
		lint("COPY l3 l3c DB 0", 1), hs("SELECT 0", okR), lr("LRANGE l3c 0 -1", "b"), lb("RPOP l3c", "b"), lint("EXISTS l3c", 0),
		lint("RPUSH l4 a", 1), lint("PERSIST l4", 0), lint("EXPIRE l4 -1", 1), lint("EXISTS l4", 0),
	}},
	{"wrong type both ways", []hstep{
		hs("SET s x", okR), hs("LPUSH s a", wrongR), hs("RPUSH s a", wrongR), hs("LPUSHX s a", wrongR), hs("RPUSHX s a", wrongR),
		hs("LLEN s", wrongR), hs("LRANGE s 0 1", wrongR), hs("LTRIM s 0 1", wrongR), hs("LREM s 0 a", wrongR),
		hs("LINSERT s BEFORE a b", wrongR), hs("LPOS s a", wrongR), hs("LMOVE s d LEFT LEFT", wrongR), hs("RPOPLPUSH s d", wrongR),
		hs("LMPOP 1 s LEFT", wrongR), hs("LPOP s", wrongR), hs("RPOP s 1", wrongR), hs("LINDEX s 0", wrongR), hs("LSET s 0 a", wrongR),
		lint("SADD st a", 1), hs("LPUSH st a", wrongR), lint("HSET h f v", 1), hs("LRANGE h 0 -1", wrongR), lint("ZADD z 1 a", 1),
		hs("LLEN z", wrongR),
		lint("RPUSH l a", 1), hs("GET l", wrongR), hs("APPEND l x", wrongR), hs("INCR l", wrongR), hs("STRLEN l", wrongR),
		hs("SADD l m", wrongR), hs("SMEMBERS l", wrongR), hs("SCARD l", wrongR), hs("SUNIONSTORE d l", wrongR),
		hs("SINTERCARD 1 l", wrongR), hs("HSET l f v", wrongR), hs("HGETALL l", wrongR), hs("ZADD l 1 a", wrongR),
		hs("ZRANGE l 0 -1", wrongR), hs("ZUNIONSTORE d 1 l", wrongR), hs("GETDEL l", wrongR), hs("SET l x GET", wrongR),
		hs("GETEX l", wrongR), hs("LCS l s", "-ERR The specified keys must contain string values\r\n"), hs("SET l x", okR),
		hs("TYPE l", "+string\r\n"),
	}},
}

// runListCases runs the cases on addr, checking every pinned reply. If
// other is set, it runs them there too and requires other's replies,
// pinned or not, to be byte for byte addr's.
func runListCases(t *testing.T, addr, other, otherName string, resp3 bool) {
	runStepCases(t, listCases, hstep.argv, addr, other, otherName, resp3)
}

// stepCase is a named sequence of commands with pinned replies.
type stepCase = struct {
	name  string
	steps []hstep
}

// runStepCases runs cases on addr, each from a FLUSHALL, checking every
// pinned reply (argv splits a step's line); with other set it runs them
// there too and requires the same bytes.
func runStepCases(t *testing.T, cases []stepCase, argv func(hstep) []string, addr, other, otherName string, resp3 bool) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			conns := []*rconn{dialRaw(t, addr)}
			if other != "" {
				conns = append(conns, dialRaw(t, other))
			}
			for _, c := range conns {
				v, err := c.do("FLUSHALL")
				require.NoError(t, err)
				require.Equal(t, okR, string(v.raw))
				if resp3 {
					v, err := c.do("HELLO", "3")
					require.NoError(t, err)
					require.Equal(t, byte('%'), v.typ)
				}
			}
			for i, st := range tc.steps {
				v, err := conns[0].do(argv(st)...)
				require.NoError(t, err, "step %d %q", i, argv(st))
				want := st.r2
				if resp3 && st.r3 != "" {
					want = st.r3
				}
				if want != "" {
					require.Equal(t, want, string(v.raw), "step %d %s", i, op{args: argv(st)})
				}
				if other != "" {
					o, err := conns[1].do(argv(st)...)
					require.NoError(t, err, "%s step %d %q", otherName, i, argv(st))
					require.Equal(t, string(v.raw), string(o.raw), "step %d %s: %s differs", i, op{args: argv(st)}, otherName)
				}
			}
		})
	}
}

func TestListRepliesSessiond(t *testing.T) {
	srv := testserver.Start(t)
	t.Run("resp2", func(t *testing.T) { runListCases(t, srv.Addr, "", "", false) })
	t.Run("resp3", func(t *testing.T) { runListCases(t, srv.Addr, "", "", true) })
}

// TestListRepliesRedis proves the pins against real Redis, and compares
// sessiond's every reply, pinned or not, with Redis's.
func TestListRepliesRedis(t *testing.T) {
	red := testserver.StartRedis(t)
	srv := testserver.Start(t)
	t.Run("resp2", func(t *testing.T) { runListCases(t, red.Addr, srv.Addr, "sessiond", false) })
	t.Run("resp3", func(t *testing.T) { runListCases(t, red.Addr, srv.Addr, "sessiond", true) })
}

// listNotifyCommands cause the keyspace events of class l (and the generic
// del, expire, rename... on lists); every command that changes nothing
// must cause none. Only reads of a missing key (LRANGE, LLEN, LINDEX,
// LPOS) cause keymiss (class m): Redis's write lookups do not, so LPOP,
// LSET, LTRIM, LMOVE... of a missing key cause nothing.
var listNotifyCommands = [][]string{
	{"RPUSH", "l", "a", "b"}, {"LPUSH", "l", "c"}, {"LPUSHX", "nokey", "a"}, {"RPUSHX", "l", "d"}, {"LPUSHX", "l", "e"},
	{"LINSERT", "l", "BEFORE", "a", "x"}, {"LINSERT", "l", "AFTER", "zz", "y"}, {"LINSERT", "nokey", "BEFORE", "a", "x"},
	{"LSET", "l", "0", "E"}, {"LSET", "l", "100", "E"}, {"LSET", "nokey", "0", "E"}, {"LREM", "l", "0", "zz"}, {"LREM", "l", "1", "x"},
	{"LREM", "nokey", "1", "x"}, {"LTRIM", "l", "0", "-1"}, {"LTRIM", "l", "1", "-1"}, {"LTRIM", "nokey", "0", "1"},
	{"LPOP", "l"}, {"RPOP", "l", "2"}, {"LPOP", "l", "0"}, {"LPOP", "nokey"}, {"RPOP", "nokey", "1"},
	{"RPUSH", "m", "a", "b", "c"}, {"LMOVE", "m", "n", "LEFT", "RIGHT"}, {"LMOVE", "m", "m", "RIGHT", "LEFT"},
	{"RPOPLPUSH", "m", "n"}, {"LMOVE", "m", "n", "LEFT", "LEFT"}, {"LMOVE", "nokey", "n", "LEFT", "LEFT"},
	{"LMPOP", "2", "nokey", "n", "RIGHT", "COUNT", "10"}, {"LMPOP", "1", "nokey", "LEFT"},
	{"RPUSH", "o", "a"}, {"LREM", "o", "0", "a"}, {"RPUSH", "o", "a", "b"}, {"LTRIM", "o", "5", "6"},
	{"RPUSH", "p", "a"}, {"BLPOP", "p", "0"}, {"RPUSH", "p", "a", "b"}, {"BRPOP", "p", "0"}, {"BLMOVE", "p", "q", "LEFT", "RIGHT", "0"},
	{"RPUSH", "q", "b"}, {"BLMPOP", "0", "1", "q", "LEFT", "COUNT", "5"}, {"RPUSH", "q", "a"}, {"BRPOPLPUSH", "q", "q", "0"},
	{"MULTI"}, {"BLPOP", "nokey", "0"}, {"BLMOVE", "nokey", "d", "LEFT", "LEFT", "0"}, {"BLMPOP", "0", "1", "q", "RIGHT"}, {"EXEC"},
	{"LRANGE", "nokey", "0", "-1"}, {"LLEN", "nokey"}, {"LINDEX", "nokey", "0"}, {"LPOS", "nokey", "a"},
	{"LRANGE", "l", "0", "-1"}, {"LLEN", "l"}, {"LINDEX", "l", "0"}, {"LPOS", "l", "a"},
	{"RPUSH", "r", "a"}, {"EXPIRE", "r", "100"}, {"RENAME", "r", "r2"}, {"COPY", "r2", "r3"}, {"DEL", "r2"},
	{"RPUSH", "e", "a"}, {"PEXPIRE", "e", "20"}, {"EXPIRED", "e"}, {"EXISTS", "e"}, {"RPUSH", "last", "x"},
}

func listNotifyStream(t *testing.T, addr, events string, cmds [][]string) []string {
	c := dialRaw(t, addr)
	sub := dialRaw(t, addr)
	v, err := c.do("CONFIG", "SET", "notify-keyspace-events", events)
	require.NoError(t, err)
	require.Equal(t, okR, string(v.raw))
	_, err = sub.do("PSUBSCRIBE", "__key*__:*")
	require.NoError(t, err)
	var early []string
	for _, args := range cmds {
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

// TestListNotificationsMatchRedis subscribes to every keyspace channel on
// both servers, runs the same list commands, and compares the message
// streams.
func TestListNotificationsMatchRedis(t *testing.T) {
	red := testserver.StartRedis(t)
	sd := testserver.Start(t)
	for _, events := range []string{"KEA", "Kl", "El", "Eg", "KEAm", "Em"} {
		t.Run(events, func(t *testing.T) {
			for _, addr := range []string{red.Addr, sd.Addr} {
				c := dialRaw(t, addr)
				_, err := c.do("FLUSHALL")
				require.NoError(t, err)
			}
			want := listNotifyStream(t, red.Addr, events, listNotifyCommands)
			got := listNotifyStream(t, sd.Addr, events, listNotifyCommands)
			require.Equal(t, strings.Join(want, "\n"), strings.Join(got, "\n"))
			if events == "KEA" {
				require.Greater(t, len(want), 60, "the command list should produce many events")
			}
		})
	}
}

// listEventPins are list commands and the events (class l and g, keyevent
// channels) each causes, in order. LMOVE and its kin announce the push on
// the destination before the pop from the source; a list emptied is
// deleted with a del event after the command's own; LTRIM announces ltrim
// even when it trims nothing; commands that change nothing announce
// nothing.
var listEventPins = []struct {
	cmd    []string
	events []string // "event key"
}{
	{[]string{"RPUSH", "m", "a", "b", "c"}, []string{"rpush m"}},
	{[]string{"LMOVE", "m", "n", "LEFT", "RIGHT"}, []string{"rpush n", "lpop m"}},
	{[]string{"LMOVE", "m", "m", "RIGHT", "LEFT"}, []string{"lpush m", "rpop m"}},
	{[]string{"RPOPLPUSH", "m", "n"}, []string{"lpush n", "rpop m"}},
	{[]string{"LMOVE", "m", "n", "LEFT", "LEFT"}, []string{"lpush n", "lpop m", "del m"}},
	{[]string{"LMOVE", "m", "n", "LEFT", "LEFT"}, nil},
	{[]string{"LTRIM", "n", "0", "-1"}, []string{"ltrim n"}},
	{[]string{"LTRIM", "nokey", "0", "1"}, nil},
	{[]string{"LINSERT", "n", "BEFORE", "zz", "x"}, nil},
	{[]string{"LINSERT", "n", "AFTER", "a", "x"}, []string{"linsert n"}},
	{[]string{"LSET", "n", "0", "C"}, []string{"lset n"}},
	{[]string{"LSET", "n", "9", "C"}, nil},
	{[]string{"LREM", "n", "0", "zz"}, nil},
	{[]string{"LREM", "n", "1", "x"}, []string{"lrem n"}},
	{[]string{"LPUSHX", "nokey", "a"}, nil},
	{[]string{"LPUSHX", "n", "a", "b"}, []string{"lpush n"}},
	{[]string{"LPOP", "n", "0"}, nil},
	{[]string{"LPOP", "n", "2"}, []string{"lpop n"}},
	{[]string{"BLMPOP", "0", "1", "n", "RIGHT", "COUNT", "10"}, []string{"rpop n", "del n"}},
	{[]string{"RPUSH", "p", "a"}, []string{"rpush p"}},
	{[]string{"LREM", "p", "0", "a"}, []string{"lrem p", "del p"}},
	{[]string{"RPUSH", "p", "a", "b"}, []string{"rpush p"}},
	{[]string{"LTRIM", "p", "2", "3"}, []string{"ltrim p", "del p"}},
	{[]string{"RPUSH", "q", "a"}, []string{"rpush q"}},
	{[]string{"BLMOVE", "q", "q", "LEFT", "RIGHT", "0"}, []string{"rpush q", "lpop q"}},
	{[]string{"BLPOP", "q", "0"}, []string{"lpop q", "del q"}},
	{[]string{"RPUSH", "q", "a", "b"}, []string{"rpush q"}},
	{[]string{"LMPOP", "1", "q", "LEFT", "COUNT", "5"}, []string{"lpop q", "del q"}},
}

// TestListEventNames pins the events of listEventPins on Redis and on
// sessiond.
func TestListEventNames(t *testing.T) {
	red := testserver.StartRedis(t)
	sd := testserver.Start(t)
	var cmds [][]string
	var want []string
	for _, p := range listEventPins {
		cmds = append(cmds, p.cmd)
		for _, e := range p.events {
			ev, key, _ := strings.Cut(e, " ")
			want = append(want, "pmessage __key*__:* __keyevent@0__:"+ev+" "+key)
		}
	}
	for _, s := range []struct{ name, addr string }{{"redis", red.Addr}, {"sessiond", sd.Addr}} {
		t.Run(s.name, func(t *testing.T) {
			c := dialRaw(t, s.addr)
			_, err := c.do("FLUSHALL")
			require.NoError(t, err)
			got := listNotifyStream(t, s.addr, "Elg", cmds)
			require.Equal(t, strings.Join(want, "\n"), strings.Join(got, "\n"))
		})
	}
}

// listWatchCommands are run by a second client between WATCH l and EXEC;
// a command that changes nothing must not abort the transaction.
var listWatchCommands = []string{
	"RPUSH l x", "LPUSHX l x", "RPUSHX nokey x", "LPOP l", "RPOP l 0", "LPOP l 0", "LPOP nokey", "LSET l 0 a", "LSET l 0 z",
	"LSET l 9 z", "LTRIM l 0 -1", "LTRIM l 0 0", "LTRIM l 5 6", "LREM l 0 zz", "LREM l 1 a", "LINSERT l BEFORE zz x",
	"LINSERT l AFTER a x", "LMOVE l l LEFT RIGHT", "LMOVE l l LEFT LEFT", "LMOVE l other LEFT LEFT", "LMOVE other l LEFT LEFT",
	"LMOVE nokey l LEFT LEFT", "RPOPLPUSH l l", "LMPOP 1 l LEFT", "LMPOP 1 nokey LEFT", "BLPOP l 0", "BLMPOP 0 1 l RIGHT COUNT 9",
	"LRANGE l 0 -1", "LINDEX l 0", "LPOS l a", "LLEN l", "DEL l", "EXPIRE l 100", "RENAME l l2",
}

func listWatchRun(t *testing.T, addr string) []string {
	var out []string
	for _, cmd := range listWatchCommands {
		c1, c2 := dialRaw(t, addr), dialRaw(t, addr)
		for _, args := range [][]string{{"FLUSHALL"}, {"RPUSH", "l", "a", "b", "c"}, {"RPUSH", "other", "o"}, {"WATCH", "l"}} {
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

// TestListWatchMatchesRedis: which list commands abort a WATCHing
// transaction, compared with Redis.
func TestListWatchMatchesRedis(t *testing.T) {
	red := testserver.StartRedis(t)
	sd := testserver.Start(t)
	want := listWatchRun(t, red.Addr)
	// LTRIM aborts it even when it trims nothing; LSET even to the same
	// value; a rotation of the same key even when nothing moved.
	require.Contains(t, want, `LTRIM l 0 -1 -> "+OK\r\n"; EXEC "*-1\r\n"`)
	require.Contains(t, want, `LSET l 0 a -> "+OK\r\n"; EXEC "*-1\r\n"`)
	require.Contains(t, want, `LMOVE l l LEFT LEFT -> "$1\r\na\r\n"; EXEC "*-1\r\n"`)
	require.Contains(t, want, `LPOP l 0 -> "*0\r\n"; EXEC "*1\r\n+PONG\r\n"`)
	require.Equal(t, strings.Join(want, "\n"), strings.Join(listWatchRun(t, sd.Addr), "\n"))
}
