package resp

import (
	"bytes"
	"math"
	"strconv"
	"strings"

	"sessiond/keyspace"
)

func zsetCommands() []*command {
	const g = "sorted-set"
	rw := func(name string, arity int, flags cmdFlags, since, summary string, run func(*call)) *command {
		return &command{name: name, arity: arity, flags: flags, firstKey: 1, lastKey: 1, step: 1, group: g, since: since, summary: summary, run: run}
	}
	movable := func(name string, arity int, flags cmdFlags, first int, since, summary string, run func(*call)) *command {
		return &command{name: name, arity: arity, flags: flags | flagMovableKeys, firstKey: first, lastKey: first, step: min(first, 1), group: g, since: since, summary: summary, run: run}
	}
	return []*command{
		rw("zadd", -4, flagWrite|flagDenyOOM|flagFast, "1.2.0", "Add one or more members to a sorted set, or update its score if it already exists", cmdZadd),
		rw("zincrby", 4, flagWrite|flagDenyOOM|flagFast, "1.2.0", "Increment the score of a member in a sorted set", cmdZincrby),
		rw("zrem", -3, flagWrite|flagFast, "1.2.0", "Remove one or more members from a sorted set", cmdZrem),
		rw("zcard", 2, flagReadonly|flagFast, "1.2.0", "Get the number of members in a sorted set", cmdZcard),
		rw("zscore", 3, flagReadonly|flagFast, "1.2.0", "Get the score associated with the given member in a sorted set", cmdZscore),
		rw("zmscore", -3, flagReadonly|flagFast, "6.2.0", "Get the score associated with the given members in a sorted set", cmdZscore),
		rw("zcount", 4, flagReadonly|flagFast, "2.0.0", "Count the members in a sorted set with scores within the given values", cmdZcount),
		rw("zlexcount", 4, flagReadonly|flagFast, "2.8.9", "Count the number of members in a sorted set between a given lexicographical range", cmdZcount),
		rw("zrank", -3, flagReadonly|flagFast, "2.0.0", "Returns the index of a member in a sorted set ordered by ascending scores.", cmdZrank),
		rw("zrevrank", -3, flagReadonly|flagFast, "2.0.0", "Returns the index of a member in a sorted set ordered by descending scores.", cmdZrank),
		rw("zrange", -4, flagReadonly, "1.2.0", "Return a range of members in a sorted set", cmdZrange),
		{name: "zrangestore", arity: -5, flags: flagWrite | flagDenyOOM, firstKey: 1, lastKey: 2, step: 1, group: g, since: "6.2.0", summary: "Store a range of members from sorted set into another key", run: cmdZrange},
		rw("zrevrange", -4, flagReadonly, "1.2.0", "Return a range of members in a sorted set, by index, with scores ordered from high to low", cmdZrange),
		rw("zrangebyscore", -4, flagReadonly, "1.0.5", "Return a range of members in a sorted set, by score", cmdZrange),
		rw("zrevrangebyscore", -4, flagReadonly, "2.2.0", "Return a range of members in a sorted set, by score, with scores ordered from high to low", cmdZrange),
		rw("zrangebylex", -4, flagReadonly, "2.8.9", "Return a range of members in a sorted set, by lexicographical range", cmdZrange),
		rw("zrevrangebylex", -4, flagReadonly, "2.8.9", "Return a range of members in a sorted set, by lexicographical range, ordered from higher to lower strings.", cmdZrange),
		rw("zremrangebyrank", 4, flagWrite, "2.0.0", "Remove all members in a sorted set within the given indexes", cmdZremrange),
		rw("zremrangebyscore", 4, flagWrite, "1.2.0", "Remove all members in a sorted set within the given scores", cmdZremrange),
		rw("zremrangebylex", 4, flagWrite, "2.8.9", "Remove all members in a sorted set between the given lexicographical range", cmdZremrange),
		rw("zpopmin", -2, flagWrite|flagFast, "5.0.0", "Remove and return members with the lowest scores in a sorted set", cmdZpop),
		rw("zpopmax", -2, flagWrite|flagFast, "5.0.0", "Remove and return members with the highest scores in a sorted set", cmdZpop),
		rw("zrandmember", -2, flagReadonly, "6.2.0", "Get one or multiple random elements from a sorted set", cmdZrandmember),
		rw("zscan", -3, flagReadonly, "2.8.0", "Incrementally iterate sorted sets elements and associated scores", cmdZscan),
		movable("zunion", -3, flagReadonly, 0, "6.2.0", "Add multiple sorted sets", cmdZcombine),
		movable("zinter", -3, flagReadonly, 0, "6.2.0", "Intersect multiple sorted sets", cmdZcombine),
		movable("zdiff", -3, flagReadonly, 0, "6.2.0", "Subtract multiple sorted sets", cmdZcombine),
		movable("zunionstore", -4, flagWrite|flagDenyOOM, 1, "2.0.0", "Add multiple sorted sets and store the resulting sorted set in a new key", cmdZcombine),
		movable("zinterstore", -4, flagWrite|flagDenyOOM, 1, "2.0.0", "Intersect multiple sorted sets and store the resulting sorted set in a new key", cmdZcombine),
		movable("zdiffstore", -4, flagWrite|flagDenyOOM, 1, "6.2.0", "Subtract multiple sorted sets and store the resulting sorted set in a new key", cmdZcombine),
		movable("zintercard", -3, flagReadonly, 0, "7.0.0", "Intersect multiple sorted sets and return the cardinality of the result", cmdZcombine),
		movable("zmpop", -4, flagWrite, 0, "7.0.0", "Remove and return members with scores in a sorted set", cmdZmpop),
	}
}

const (
	msgZMinMax   = "ERR min or max is not a float"
	msgZLexRange = "ERR min or max not valid string range item"
	msgZNaN      = "ERR resulting score is not a number (NaN)"
)

// isCSpace is C's isspace, which strtod skips before a number.
func isCSpace(c byte) bool { return c == ' ' || (c >= '\t' && c <= '\r') }

// strtod parses b as C's strtod does when it must consume all of b, with
// Go's parser: decimal or hexadecimal (0x10 needs no binary exponent in
// C), inf and infinity in any case. It reports whether the whole of b
// was a number, and whether the number overflowed or underflowed (the
// value is then ±Inf or 0, as strtod's).
func strtod(b []byte) (f float64, ok, erange bool) {
	s := string(b)
	if strings.ContainsRune(s, '_') { // Go's digit separators; C has none
		return 0, false, false
	}
	t := strings.TrimLeft(s, "+-")
	if len(t) > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X') && !strings.ContainsAny(t, "pP") {
		s += "p0"
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		if ne, isNum := err.(*strconv.NumError); isNum && ne.Err == strconv.ErrRange {
			return f, true, true
		}
		return 0, false, false
	}
	if f == 0 && strings.ContainsAny(mantissa(t), "123456789abcdefABCDEF") {
		return 0, true, true // underflow: Go says nothing, strtod sets ERANGE
	}
	return f, !math.IsNaN(f), false
}

// mantissa is a number's text before its exponent.
func mantissa(t string) string {
	hex := len(t) > 1 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X')
	if hex {
		t = t[2:]
		if i := strings.IndexAny(t, "pP"); i >= 0 {
			return t[:i]
		}
		return t
	}
	if i := strings.IndexAny(t, "eEiInN"); i >= 0 {
		return t[:i]
	}
	return t
}

// parseScore parses a score or weight as Redis's getDoubleFromObject: the
// whole argument, no leading space, no NaN, no overflow or underflow.
func parseScore(b []byte) (float64, bool) {
	if len(b) == 0 || isCSpace(b[0]) {
		return 0, false
	}
	f, ok, erange := strtod(b)
	return f, ok && !erange
}

// parseScoreBound parses one end of a score range as Redis's
// zslParseRange: "(" makes it exclusive; the number goes through strtod
// up to a NUL, so the empty string (no number: 0), leading spaces before
// a number and overflow (±inf) pass, but spaces alone do not.
func parseScoreBound(b []byte) (keyspace.ZBound, bool) {
	var r keyspace.ZBound
	if len(b) > 0 && b[0] == '(' {
		r.Ex, b = true, b[1:]
	}
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	if len(b) == 0 {
		return r, true
	}
	b = bytes.TrimLeftFunc(b, func(c rune) bool { return c < 128 && isCSpace(byte(c)) })
	f, ok, _ := strtod(b)
	r.Score = f
	return r, ok && len(b) > 0
}

// parseLexBound parses one end of a lex range: "-", "+", or "[" / "("
// followed by the member. Redis reads "-" and "+" as C strings: a NUL
// ends them.
func parseLexBound(b []byte) (keyspace.ZBound, bool) {
	var r keyspace.ZBound
	single := len(b) == 1 || len(b) > 1 && b[1] == 0
	switch {
	case single && b[0] == '-':
		r.Inf = -1
	case single && b[0] == '+':
		r.Inf = 1
	case len(b) > 0 && (b[0] == '[' || b[0] == '('):
		r.Member, r.Ex = b[1:], b[0] == '('
	default:
		return r, false
	}
	return r, true
}

// scoredReply writes elements: members only, or members and scores, flat
// in RESP2 and as [member, score] pairs in RESP3 (or always, if nested).
func (x *call) scoredReply(es []keyspace.Scored, withScores, nested bool) {
	if !withScores {
		x.r.array(len(es))
		for _, e := range es {
			x.r.bulk(e.Member)
		}
		return
	}
	if nested || x.r.resp3 {
		x.r.array(len(es))
		for _, e := range es {
			x.r.array(2)
			x.r.bulk(e.Member)
			x.r.double(e.Score)
		}
		return
	}
	x.r.array(2 * len(es))
	for _, e := range es {
		x.r.bulk(e.Member)
		x.r.double(e.Score)
	}
}

func cmdZadd(x *call) {
	var f keyspace.ZAddFlags
	i := 2
options:
	for ; i < len(x.args); i++ {
		switch strings.ToLower(string(x.args[i])) {
		case "nx":
			f |= keyspace.ZAddNX
		case "xx":
			f |= keyspace.ZAddXX
		case "gt":
			f |= keyspace.ZAddGT
		case "lt":
			f |= keyspace.ZAddLT
		case "ch":
			f |= keyspace.ZAddCH
		case "incr":
			f |= keyspace.ZAddIncr
		default:
			break options
		}
	}
	rest := x.args[i:]
	has := func(o keyspace.ZAddFlags) bool { return f&o != 0 }
	switch {
	case len(rest) == 0 || len(rest)%2 != 0:
		x.r.error(msgSyntax)
		return
	case has(keyspace.ZAddNX) && has(keyspace.ZAddXX):
		x.r.error("ERR XX and NX options at the same time are not compatible")
		return
	case has(keyspace.ZAddGT) && has(keyspace.ZAddLT), has(keyspace.ZAddNX) && (has(keyspace.ZAddGT) || has(keyspace.ZAddLT)):
		x.r.error("ERR GT, LT, and/or NX options at the same time are not compatible")
		return
	case has(keyspace.ZAddIncr) && len(rest) > 2:
		x.r.error("ERR INCR option supports a single increment-element pair")
		return
	}
	scores := make([]float64, len(rest)/2)
	members := make([][]byte, len(rest)/2)
	for j := range scores {
		s, ok := parseScore(rest[2*j])
		if !ok {
			x.r.error(msgNotFloat)
			return
		}
		scores[j], members[j] = s, rest[2*j+1]
	}
	x.zadd(f, members, scores)
}

func cmdZincrby(x *call) {
	s, ok := parseScore(x.args[2])
	if !ok {
		x.r.error(msgNotFloat)
		return
	}
	x.zadd(keyspace.ZAddIncr, [][]byte{x.args[3]}, []float64{s})
}

func (x *call) zadd(f keyspace.ZAddFlags, members [][]byte, scores []float64) {
	res, err := x.s.ks.ZAdd(x.c.db, x.args[1], f, members, scores)
	switch {
	case err == keyspace.ErrZSetNaN:
		x.r.error(msgZNaN)
	case err != nil:
		x.ksError(err)
	case f&keyspace.ZAddIncr == 0:
		x.r.int(int64(res.Count))
	case res.Done:
		x.r.double(res.Score)
	default:
		x.r.null()
	}
}

func cmdZrem(x *call) {
	n, err := x.s.ks.ZRem(x.c.db, x.args[1], x.args[2:])
	if err != nil {
		x.ksError(err)
		return
	}
	x.r.int(int64(n))
}

func cmdZcard(x *call) {
	n, err := x.s.ks.ZCard(x.c.db, x.args[1])
	if err != nil {
		x.ksError(err)
		return
	}
	x.r.int(int64(n))
}

// cmdZscore answers ZSCORE and ZMSCORE.
func cmdZscore(x *call) {
	scores, ok, err := x.s.ks.ZScores(x.c.db, x.args[1], x.args[2:])
	if err != nil {
		x.ksError(err)
		return
	}
	if x.cmd.name == "zmscore" {
		x.r.array(len(scores))
	}
	for i, s := range scores {
		if ok[i] {
			x.r.double(s)
		} else {
			x.r.null()
		}
	}
}

// rangeArgs parses lo and hi, the ends of r's range (ranks, scores or lex
// items by r.By), into r, replying with Redis's error if they are not.
func (x *call) rangeArgs(r *keyspace.ZRange, lo, hi []byte) bool {
	var ok1, ok2 bool
	switch r.By {
	case keyspace.ZByRank:
		r.Start, ok1 = keyspace.ParseInt(lo)
		r.Stop, ok2 = keyspace.ParseInt(hi)
		if !ok1 || !ok2 {
			x.r.error(msgNotInteger)
			return false
		}
	case keyspace.ZByScore:
		r.Min, ok1 = parseScoreBound(lo)
		r.Max, ok2 = parseScoreBound(hi)
		if !ok1 || !ok2 {
			x.r.error(msgZMinMax)
			return false
		}
	case keyspace.ZByLex:
		r.Min, ok1 = parseLexBound(lo)
		r.Max, ok2 = parseLexBound(hi)
		if !ok1 || !ok2 {
			x.r.error(msgZLexRange)
			return false
		}
	}
	return true
}

// cmdZcount answers ZCOUNT and ZLEXCOUNT.
func cmdZcount(x *call) {
	r := keyspace.ZRange{By: keyspace.ZByScore}
	if x.cmd.name == "zlexcount" {
		r.By = keyspace.ZByLex
	}
	if !x.rangeArgs(&r, x.args[2], x.args[3]) {
		return
	}
	n, err := x.s.ks.ZCount(x.c.db, x.args[1], r)
	if err != nil {
		x.ksError(err)
		return
	}
	x.r.int(int64(n))
}

// cmdZrank answers ZRANK and ZREVRANK, with Redis 7.2's WITHSCORE (the
// rank and the score, or a null array).
func cmdZrank(x *call) {
	withScore := false
	switch {
	case len(x.args) > 4:
		x.r.error(msgArity(x.cmd.name))
		return
	case len(x.args) == 4:
		if !strings.EqualFold(string(x.args[3]), "withscore") {
			x.r.error(msgSyntax)
			return
		}
		withScore = true
	}
	rank, score, ok, err := x.s.ks.ZRank(x.c.db, x.args[1], x.args[2], x.cmd.name == "zrevrank")
	switch {
	case err != nil:
		x.ksError(err)
	case !ok && withScore:
		x.r.nullArray()
	case !ok:
		x.r.null()
	case withScore:
		x.r.array(2)
		x.r.int(int64(rank))
		x.r.double(score)
	default:
		x.r.int(int64(rank))
	}
}

// zrangeForms are the fixed parts of the ZRANGE family: the selection and
// direction a command implies (ZRANGE and ZRANGESTORE take them as
// options), and where its source key is.
var zrangeForms = map[string]struct {
	by    keyspace.ZBy
	rev   bool
	fixed bool // by and rev are the command's, not options
}{
	"zrange":           {},
	"zrangestore":      {},
	"zrevrange":        {keyspace.ZByRank, true, true},
	"zrangebyscore":    {keyspace.ZByScore, false, true},
	"zrevrangebyscore": {keyspace.ZByScore, true, true},
	"zrangebylex":      {keyspace.ZByLex, false, true},
	"zrevrangebylex":   {keyspace.ZByLex, true, true},
}

// cmdZrange answers the ZRANGE family, with Redis's zrangeGenericCommand's
// order of checks: options, their conflicts, the range, then the key.
func cmdZrange(x *call) {
	form := zrangeForms[x.cmd.name]
	store := x.cmd.name == "zrangestore"
	src := 1
	if store {
		src = 2
	}
	r := keyspace.ZRange{By: form.by, Rev: form.rev, Count: -1}
	withScores, limited, bySet := false, false, false
	for j := src + 3; j < len(x.args); j++ {
		opt := strings.ToLower(string(x.args[j]))
		switch {
		case !store && opt == "withscores":
			withScores = true
		case opt == "limit" && len(x.args)-j-1 >= 2:
			off, ok1 := keyspace.ParseInt(x.args[j+1])
			cnt, ok2 := keyspace.ParseInt(x.args[j+2])
			if !ok1 || !ok2 {
				x.r.error(msgNotInteger)
				return
			}
			r.Offset, r.Count, limited = off, cnt, cnt != -1
			j += 2
		case !form.fixed && !r.Rev && opt == "rev":
			r.Rev = true
		case !form.fixed && !bySet && opt == "bylex":
			r.By, bySet = keyspace.ZByLex, true
		case !form.fixed && !bySet && opt == "byscore":
			r.By, bySet = keyspace.ZByScore, true
		default:
			x.r.error(msgSyntax)
			return
		}
	}
	if limited && r.By == keyspace.ZByRank {
		x.r.error("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")
		return
	}
	if withScores && r.By == keyspace.ZByLex {
		x.r.error("ERR syntax error, WITHSCORES not supported in combination with BYLEX")
		return
	}
	lo, hi := x.args[src+1], x.args[src+2]
	if r.Rev && r.By != keyspace.ZByRank {
		lo, hi = hi, lo // given as max, min
	}
	if !x.rangeArgs(&r, lo, hi) {
		return
	}
	if store {
		n, err := x.s.ks.ZRangeStore(x.c.db, x.args[1], x.args[2], r)
		if err != nil {
			x.ksError(err)
			return
		}
		x.r.int(int64(n))
		return
	}
	es, err := x.s.ks.ZRangeGet(x.c.db, x.args[1], r)
	if err != nil {
		x.ksError(err)
		return
	}
	x.scoredReply(es, withScores, false)
}

// cmdZremrange answers ZREMRANGEBYRANK, ZREMRANGEBYSCORE and ZREMRANGEBYLEX.
func cmdZremrange(x *call) {
	var r keyspace.ZRange
	switch x.cmd.name {
	case "zremrangebyscore":
		r.By = keyspace.ZByScore
	case "zremrangebylex":
		r.By = keyspace.ZByLex
	}
	if !x.rangeArgs(&r, x.args[2], x.args[3]) {
		return
	}
	n, err := x.s.ks.ZRemRange(x.c.db, x.args[1], r)
	if err != nil {
		x.ksError(err)
		return
	}
	x.r.int(int64(n))
}

// cmdZpop answers ZPOPMIN and ZPOPMAX. With a count the reply is a list
// of pairs in RESP3; without one, one flat pair (or an empty array).
func cmdZpop(x *call) {
	if len(x.args) > 3 {
		x.r.error(msgSyntax)
		return
	}
	count, ok := x.popCount()
	if !ok {
		return
	}
	es, err := x.s.ks.ZPop(x.c.db, x.args[1], x.cmd.name == "zpopmax", count)
	if err != nil {
		x.ksError(err)
		return
	}
	if len(x.args) == 3 {
		x.scoredReply(es, true, false)
		return
	}
	x.r.array(2 * len(es))
	for _, e := range es {
		x.r.bulk(e.Member)
		x.r.double(e.Score)
	}
}

func cmdZmpop(x *call) {
	keys, popMin, count, ok := x.mpopArgs(1, "min", "max")
	if !ok {
		return
	}
	key, err := x.zmpop(keys, !popMin, count)
	switch {
	case err != nil:
		x.ksError(err)
	case key == nil:
		x.r.nullArray()
	}
}

// zmpop pops as ZMPOP and BZMPOP do and, if it popped, replies with the
// key and the members and scores; it returns the key (nil if none had
// any).
func (x *call) zmpop(keys [][]byte, popMax bool, count int) ([]byte, error) {
	key, es, err := x.s.ks.ZMPop(x.c.db, keys, popMax, count)
	if key != nil {
		x.r.array(2)
		x.r.bulk(key)
		x.scoredReply(es, true, true)
	}
	return key, err
}

func cmdZrandmember(x *call) {
	if len(x.args) == 2 {
		es, err := x.s.ks.ZRandMember(x.c.db, x.args[1], 1)
		switch {
		case err != nil:
			x.ksError(err)
		case len(es) == 0:
			x.r.null()
		default:
			x.r.bulk(es[0].Member)
		}
		return
	}
	n, ok := x.intArg(2)
	if !ok {
		return
	}
	if n < -(1<<63 - 1) {
		x.r.error("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
		return
	}
	if len(x.args) > 4 || len(x.args) == 4 && !strings.EqualFold(string(x.args[3]), "withscores") {
		x.r.error(msgSyntax)
		return
	}
	withScores := len(x.args) == 4
	if withScores && (n < -(1<<63-1)/2 || n > (1<<63-1)/2) {
		x.r.error("ERR value is out of range")
		return
	}
	es, err := x.s.ks.ZRandMember(x.c.db, x.args[1], n)
	if err != nil {
		x.ksError(err)
		return
	}
	x.scoredReply(es, withScores, false)
}

func cmdZscan(x *call) {
	x.scanWhole(keyspace.KindZSet, func(match []byte) ([][]byte, error) {
		es, packed, err := x.s.ks.ZScan(x.c.db, x.args[1], match)
		out := make([][]byte, 0, 2*len(es))
		for _, e := range es {
			s := formatScore(e.Score)
			if i, ok := wholeScore(e.Score); ok && packed {
				s = strconv.FormatInt(i, 10) // Redis packs it as an integer
			}
			out = append(out, e.Member, []byte(s))
		}
		return out, err
	}, x.ksError)
}

// wholeScore is Redis's double2ll: a score that a listpack holds as an
// integer (whole, and within half of int64's range either way).
func wholeScore(f float64) (int64, bool) {
	const lim = float64(math.MaxInt64 / 2)
	if f < -lim || f > lim || f != math.Trunc(f) {
		return 0, false
	}
	return int64(f), true
}

// cmdZcombine answers ZUNION, ZINTER, ZDIFF, their STORE forms and
// ZINTERCARD, with zunionInterDiffGenericCommand's order of checks: the
// key count, the keys' types, then the options.
func cmdZcombine(x *call) {
	name := x.cmd.name
	store := strings.HasSuffix(name, "store")
	card := name == "zintercard"
	a := keyspace.ZCombineArgs{Op: keyspace.ZUnion}
	switch {
	case strings.HasPrefix(name, "zinter"):
		a.Op = keyspace.ZInter
	case strings.HasPrefix(name, "zdiff"):
		a.Op = keyspace.ZDiff
	}
	nkIdx := 1
	if store {
		nkIdx = 2
	}
	nk, ok := keyspace.ParseInt(x.args[nkIdx])
	switch {
	case !ok:
		x.r.error(msgNotInteger)
		return
	case nk < 1:
		x.r.error("ERR at least 1 input key is needed for '" + name + "' command")
		return
	case nk > int64(len(x.args)-nkIdx-1):
		x.r.error(msgSyntax)
		return
	}
	a.Keys = x.args[nkIdx+1 : nkIdx+1+int(nk)]
	for _, k := range a.Keys {
		if t := x.s.ks.Type(x.c.db, k); t != keyspace.KindNone && t != keyspace.KindZSet && t != keyspace.KindSet {
			x.r.error(msgWrongType)
			return
		}
	}
	withScores := false
	for j := nkIdx + 1 + int(nk); j < len(x.args); {
		left := len(x.args) - j
		switch opt := strings.ToLower(string(x.args[j])); {
		case card && opt == "limit" && left >= 2:
			l, ok := keyspace.ParseInt(x.args[j+1])
			if !ok || l < 0 {
				x.r.error("ERR LIMIT can't be negative")
				return
			}
			a.Limit = int(min(l, 1<<31))
			j += 2
		case !card && a.Op != keyspace.ZDiff && opt == "weights" && left >= int(nk)+1:
			a.Weights = make([]float64, nk)
			for i := range a.Weights {
				w, ok := parseScore(x.args[j+1+i])
				if !ok {
					x.r.error("ERR weight value is not a float")
					return
				}
				a.Weights[i] = w
			}
			j += 1 + int(nk)
		case !card && a.Op != keyspace.ZDiff && opt == "aggregate" && left >= 2:
			switch strings.ToLower(string(x.args[j+1])) {
			case "sum":
				a.Aggregate = keyspace.ZSum
			case "min":
				a.Aggregate = keyspace.ZMin
			case "max":
				a.Aggregate = keyspace.ZMax
			default:
				x.r.error(msgSyntax)
				return
			}
			j += 2
		case !card && !store && opt == "withscores":
			withScores = true
			j++
		default:
			x.r.error(msgSyntax)
			return
		}
	}
	if store {
		n, err := x.s.ks.ZCombineStore(x.c.db, x.args[1], a)
		if err != nil {
			x.ksError(err)
			return
		}
		x.r.int(int64(n))
		return
	}
	es, err := x.s.ks.ZCombine(x.c.db, a)
	switch {
	case err != nil:
		x.ksError(err)
	case card:
		x.r.int(int64(len(es)))
	default:
		x.scoredReply(es, withScores, false)
	}
}
