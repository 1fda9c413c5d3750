package keyspace

import (
	"cmp"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
)

// ErrZSetNaN is returned when a sorted-set increment would make a score NaN
// (+inf plus -inf).
var ErrZSetNaN = errors.New("keyspace: resulting score is not a number (NaN)")

// Scored is a member of a sorted set and its score. Member is shared with
// the keyspace (stored strings are immutable) and must not be modified.
type Scored struct {
	Member []byte
	Score  float64
}

// updateZSet runs fn on key's live sorted set (nil if absent) under the
// write lock, as updateObject describes (events of class z).
func (ks *Keyspace) updateZSet(dbi int, key []byte, event string, fn func(z *zset) (*zset, bool, error)) error {
	return updateObject(ks, dbi, key, KindZSet, EventZSet, event, entry.zsetPtr,
		func(z *zset) entry { return zsetEntry(z, 0) }, fn)
}

// viewZSet runs fn on key's live sorted set (nil if absent) under the read
// lock.
func (ks *Keyspace) viewZSet(dbi int, key []byte, fn func(z *zset)) error {
	return viewObject(ks, dbi, key, KindZSet, entry.zsetPtr, fn)
}

// ZAddFlags are ZADD's options.
type ZAddFlags uint8

// ZADD's options. The caller rejects the combinations Redis rejects (NX
// with XX, GT or LT; GT with LT; INCR with more than one pair).
const (
	ZAddNX   ZAddFlags = 1 << iota // only add new members
	ZAddXX                         // only update existing members
	ZAddGT                         // only update to a greater score
	ZAddLT                         // only update to a lower score
	ZAddCH                         // count updated members as well as added ones
	ZAddIncr                       // add the score to the member's (one pair)
)

// ZAddResult is what ZADD and ZINCRBY reply with.
type ZAddResult struct {
	Count int // added, or added and updated with ZAddCH
	// With ZAddIncr: the member's new score, if Done (an increment that
	// NX, XX, GT or LT refused is not done, and replies nil).
	Score float64
	Done  bool
}

// ZAdd sets the scores of members (scores[i] for members[i], none NaN) in
// key's sorted set as Redis's ZADD does with flags, and reports "zadd" (or
// "zincr" with ZAddIncr) if it added or changed any.
func (ks *Keyspace) ZAdd(dbi int, key []byte, flags ZAddFlags, members [][]byte, scores []float64) (ZAddResult, error) {
	var res ZAddResult
	event := "zadd"
	if flags&ZAddIncr != 0 {
		event = "zincr"
	}
	err := ks.updateZSet(dbi, key, event, func(z *zset) (*zset, bool, error) {
		if z == nil {
			if flags&ZAddXX != 0 {
				return nil, false, nil
			}
			z = &zset{}
		}
		added, updated := 0, 0
		for i, m := range members {
			score := scores[i]
			cur, exists := z.score(m)
			if !exists {
				if flags&ZAddXX != 0 {
					continue
				}
				z.insert(zentry{member: string(m), score: score})
				added++
				res.Score, res.Done = score, true
				continue
			}
			if flags&ZAddNX != 0 {
				continue
			}
			if flags&ZAddIncr != 0 {
				score += cur
				if math.IsNaN(score) {
					return z, added+updated > 0, ErrZSetNaN
				}
			}
			if (flags&ZAddLT != 0 && score >= cur) || (flags&ZAddGT != 0 && score <= cur) {
				continue
			}
			res.Score, res.Done = score, true
			if score != cur {
				z.rescore(m, cur, score)
				updated++
			}
		}
		res.Count = added
		if flags&ZAddCH != 0 {
			res.Count += updated
		}
		return z, added+updated > 0, nil
	})
	return res, err
}

// ZRem removes members from key's sorted set and returns how many were
// there.
func (ks *Keyspace) ZRem(dbi int, key []byte, members [][]byte) (int, error) {
	n := 0
	err := ks.updateZSet(dbi, key, "zrem", func(z *zset) (*zset, bool, error) {
		for _, m := range members {
			if z != nil && z.delete(m) {
				n++
			}
		}
		return z, n > 0, nil
	})
	return n, err
}

// ZCard returns the size of key's sorted set.
func (ks *Keyspace) ZCard(dbi int, key []byte) (int, error) {
	n := 0
	err := ks.viewZSet(dbi, key, func(z *zset) { n = z.len() })
	return n, err
}

// ZScores returns the scores of members in key's sorted set; ok[i] is
// false for a member that is not there.
func (ks *Keyspace) ZScores(dbi int, key []byte, members [][]byte) (scores []float64, ok []bool, err error) {
	scores, ok = make([]float64, len(members)), make([]bool, len(members))
	err = ks.viewZSet(dbi, key, func(z *zset) {
		for i, m := range members {
			scores[i], ok[i] = z.score(m)
		}
	})
	return scores, ok, err
}

// ZRank returns member's rank in key's sorted set, counted from the lowest
// score, or from the highest if rev, and its score.
func (ks *Keyspace) ZRank(dbi int, key, member []byte, rev bool) (rank int, score float64, ok bool, err error) {
	err = ks.viewZSet(dbi, key, func(z *zset) {
		if rank, score, ok = z.rank(member); ok {
			if rev {
				rank = z.len() - 1 - rank
			}
		}
	})
	return rank, score, ok, err
}

// ZBy is how a ZRange selects elements.
type ZBy uint8

// The ways to select a range.
const (
	ZByRank ZBy = iota
	ZByScore
	ZByLex
)

// ZBound is one end of a score or lex range.
type ZBound struct {
	Score  float64 // ZByScore (may be infinite)
	Member []byte  // ZByLex, unless Inf
	// Inf is, for ZByLex, -1 for "-" (below every member), +1 for "+"
	// (above every member), 0 for Member.
	Inf int8
	Ex  bool // exclusive
}

// ZRange selects elements of a sorted set, as ZRANGE's arguments do.
type ZRange struct {
	By          ZBy
	Start, Stop int64  // ZByRank: ranks as given (negative counts from the end), in Rev's order
	Min, Max    ZBound // ZByScore, ZByLex: always the low and the high end
	Rev         bool   // descending
	Offset      int64  // LIMIT: elements to skip (negative: none selected)
	Count       int64  // LIMIT: at most this many; negative: all
}

// below is true for the elements under b (as a low end: not in the range).
func (b ZBound) below(by ZBy) func(zentry) bool {
	if by == ZByScore {
		if b.Ex {
			return func(e zentry) bool { return e.score <= b.Score }
		}
		return func(e zentry) bool { return e.score < b.Score }
	}
	switch {
	case b.Inf < 0:
		return func(zentry) bool { return false }
	case b.Inf > 0:
		return func(zentry) bool { return true }
	case b.Ex:
		return func(e zentry) bool { return e.member <= string(b.Member) }
	}
	return func(e zentry) bool { return e.member < string(b.Member) }
}

// upTo is true for the elements up to b (as a high end: not above it):
// those below the same bound with its exclusivity flipped.
func (b ZBound) upTo(by ZBy) func(zentry) bool {
	b.Ex = !b.Ex
	return b.below(by)
}

// span returns the ranks [from, to), ascending, that r selects in z before
// its LIMIT. Lex ranges assume equal scores, as in Redis.
func (r *ZRange) span(z *zset) (from, to int) {
	n := z.len()
	if r.By == ZByRank {
		start, stop := r.Start, r.Stop
		if start < 0 {
			start += int64(n)
		}
		if stop < 0 {
			stop += int64(n)
		}
		start = max(start, 0)
		if start > stop || start >= int64(n) {
			return 0, 0
		}
		stop = min(stop, int64(n)-1)
		if r.Rev {
			return n - 1 - int(stop), n - int(start)
		}
		return int(start), int(stop) + 1
	}
	from = z.count(r.Min.below(r.By))
	to = z.count(r.Max.upTo(r.By))
	if from >= to {
		return 0, 0
	}
	return from, to
}

// limited applies r's LIMIT to [from, to), in r's direction.
func (r *ZRange) limited(from, to int) (int, int) {
	if r.By == ZByRank || (r.Offset == 0 && r.Count < 0) {
		return from, to
	}
	if r.Offset < 0 || r.Offset >= int64(to-from) {
		return 0, 0
	}
	n := int64(to-from) - r.Offset
	if r.Count >= 0 {
		n = min(n, r.Count)
	}
	if r.Rev {
		return to - int(r.Offset) - int(n), to - int(r.Offset)
	}
	return from + int(r.Offset), from + int(r.Offset) + int(n)
}

// scored is e for a caller: the member's bytes are the stored string's,
// which is never modified, so they stay valid after the lock is released,
// but they must not be modified.
func scored(e zentry) Scored { return Scored{Member: view(e.member), Score: e.score} }

// collect returns the elements of ranks [from, to) of z, in rev's order.
func collect(z *zset, from, to int, rev bool) []Scored {
	if from >= to {
		return nil
	}
	out := make([]Scored, 0, to-from)
	z.each(from, to, rev, func(e zentry) bool {
		out = append(out, scored(e))
		return true
	})
	return out
}

// ZRangeGet returns the elements of key's sorted set that r selects, in
// r's order.
func (ks *Keyspace) ZRangeGet(dbi int, key []byte, r ZRange) ([]Scored, error) {
	var out []Scored
	err := ks.viewZSet(dbi, key, func(z *zset) {
		if z == nil {
			return
		}
		from, to := r.limited(r.span(z))
		out = collect(z, from, to, r.Rev)
	})
	return out, err
}

// ZCount returns how many elements of key's sorted set r selects (no
// LIMIT).
func (ks *Keyspace) ZCount(dbi int, key []byte, r ZRange) (int, error) {
	n := 0
	err := ks.viewZSet(dbi, key, func(z *zset) {
		if z != nil {
			from, to := r.span(z)
			n = to - from
		}
	})
	return n, err
}

var zremEvents = [...]string{ZByRank: "zremrangebyrank", ZByScore: "zremrangebyscore", ZByLex: "zremrangebylex"}

// ZRemRange removes the elements of key's sorted set that r selects (no
// LIMIT) and returns how many it removed.
func (ks *Keyspace) ZRemRange(dbi int, key []byte, r ZRange) (int, error) {
	n := 0
	err := ks.updateZSet(dbi, key, zremEvents[r.By], func(z *zset) (*zset, bool, error) {
		if z == nil {
			return nil, false, nil
		}
		n = z.removeRange(r.span(z))
		return z, n > 0, nil
	})
	return n, err
}

// ZPop removes and returns up to count elements of key's sorted set with
// the lowest scores, or the highest if max, in that order.
func (ks *Keyspace) ZPop(dbi int, key []byte, max bool, count int) ([]Scored, error) {
	var out []Scored
	err := ks.updateZSet(dbi, key, popEvent(max), func(z *zset) (*zset, bool, error) {
		if z == nil || count <= 0 {
			return z, false, nil
		}
		out = z.pop(max, count)
		return z, true, nil
	})
	return out, err
}

// ZMPop pops from the first of keys that exists, as ZMPOP does (ErrWrongType
// if that is not a sorted set), and returns that key and what it popped;
// no key if none exists.
func (ks *Keyspace) ZMPop(dbi int, keys [][]byte, max bool, count int) ([]byte, []Scored, error) {
	return mpop(ks, dbi, keys, KindZSet, EventZSet, popEvent(max), count, entry.zsetPtr,
		func(z *zset) []Scored { return z.pop(max, count) })
}

func popEvent(max bool) string {
	if max {
		return "zpopmax"
	}
	return "zpopmin"
}

// pop removes and returns up to count elements from the bottom, or the
// top if max, in that order.
func (z *zset) pop(max bool, count int) []Scored {
	k := min(count, z.len())
	from, to := 0, k
	if max {
		from, to = z.len()-k, z.len()
	}
	out := collect(z, from, to, max)
	z.removeRange(from, to)
	return out
}

// ZRandMember returns random elements of key's sorted set: up to count
// distinct ones if count >= 0, else exactly -count, possibly repeated.
func (ks *Keyspace) ZRandMember(dbi int, key []byte, count int64) ([]Scored, error) {
	var out []Scored
	err := ks.viewZSet(dbi, key, func(z *zset) {
		if z.len() == 0 {
			return
		}
		if count >= int64(z.len()) { // all of it, from the top, as Redis's iterator runs
			out = collect(z, 0, z.len(), true)
			return
		}
		at := z.ranker()
		if count < 0 {
			out = make([]Scored, 0, max(count, -1<<20)*-1)
			for ; count < 0; count++ {
				out = append(out, scored(at(rand.IntN(z.len()))))
			}
			return
		}
		// Distinct random ranks; count < len, so this ends, quickly
		// when count is small next to len.
		seen := make(map[int]bool, count)
		for int64(len(out)) < count {
			r := rand.IntN(z.len())
			if !seen[r] {
				seen[r] = true
				out = append(out, scored(at(r)))
			}
		}
	})
	return out, err
}

// ZScan returns the elements of key's sorted set whose members match
// pattern, in one step (cursor 0), as Redis does for a small sorted set,
// and whether the set is packed (Redis prints a packed set's whole
// scores as integers).
func (ks *Keyspace) ZScan(dbi int, key []byte, pattern []byte) (out []Scored, packed bool, err error) {
	all := isMatchAll(pattern)
	err = ks.viewZSet(dbi, key, func(z *zset) {
		packed = z != nil && !z.big()
		z.each(0, z.len(), false, func(e zentry) bool {
			if all || Match(pattern, view(e.member)) {
				out = append(out, scored(e))
			}
			return true
		})
	})
	return out, packed, err
}

// ZRangeStore stores in dst the elements of src's sorted set that r
// selects (deleting dst if there are none) and returns how many.
func (ks *Keyspace) ZRangeStore(dbi int, dst, src []byte, r ZRange) (int, error) {
	var res []zentry
	err := ks.zstore(dbi, dst, [][]byte{src}, "zrangestore", false, func(zs []*zset) []zentry {
		if zs[0] == nil {
			return nil
		}
		from, to := r.limited(r.span(zs[0]))
		// Redis adds the elements in reply order to a listpack while they
		// fit one, which turns -0 into 0, and to a skiplist after that,
		// which keeps it. It starts with a skiplist only for a rank range
		// of more than 128 (the one result size it knows beforehand).
		packed := r.By != ZByRank || to-from <= maxPackedZMembers
		zs[0].each(from, to, r.Rev, func(e zentry) bool {
			packed = packed && len(res) < maxPackedZMembers && len(e.member) <= maxPackedZMember
			if packed && e.score == 0 {
				e.score = 0
			}
			res = append(res, e)
			return true
		})
		return res
	})
	return len(res), err
}

// zsources reads the sources of a sorted-set operation: sorted sets, or
// sets, whose members score 1 (nil for absent keys). Stripes must be locked.
func (ks *Keyspace) zsources(db *DB, keys [][]byte, now int64, sets bool) ([]*zset, []bool, error) {
	zs := make([]*zset, len(keys))
	found := make([]bool, len(keys))
	for i, k := range keys {
		e, ok := ks.getLocked(db.stripeFor(k), k, now, true)
		found[i] = ok
		switch {
		case !ok:
		case e.kind() == KindZSet:
			zs[i] = e.zsetPtr()
		case e.kind() == KindSet && sets:
			es := make([]zentry, 0, e.setPtr().len())
			e.setPtr().each(func(m []byte) bool {
				es = append(es, zentry{member: string(m), score: 1})
				return true
			})
			zs[i] = zsetFromEntries(es)
		default:
			return nil, nil, ErrWrongType
		}
	}
	return zs, found, nil
}

// zstore locks dst and keys, reads the sources, and stores what compute
// makes of them in dst (in any order; deleting dst if there is nothing),
// reporting event on dst, or "del" if that deleted it. The algebra
// (combine) takes sets as sources too, and reports no "keymiss": its
// caller looked the sources up first (their types decide between
// WRONGTYPE and a syntax error), which reported them. ZRANGESTORE takes
// only a sorted set, and reports a missing source.
func (ks *Keyspace) zstore(dbi int, dst []byte, keys [][]byte, event string, combine bool, compute func([]*zset) []zentry) error {
	return ks.zstoreErr(dbi, dst, keys, event, combine, func(zs []*zset) ([]zentry, error) { return compute(zs), nil })
}

// zstoreErr is zstore whose compute may fail (GEOSEARCHSTORE's FROMMEMBER
// of a missing member): then nothing is stored, and the error returned.
func (ks *Keyspace) zstoreErr(dbi int, dst []byte, keys [][]byte, event string, combine bool, compute func([]*zset) ([]zentry, error)) error {
	db := ks.db(dbi)
	now := ks.NowMs()
	l := lockKeys(db, append([][]byte{dst}, keys...))
	zs, found, err := ks.zsources(db, keys, now, combine)
	if err != nil {
		l.unlock()
		return err
	}
	res, err := compute(zs)
	if err != nil {
		l.unlock()
		if !combine {
			ks.notifyMisses(dbi, keys, found)
		}
		return err
	}
	ds := db.stripeFor(dst)
	de, dok := ks.getLocked(ds, dst, now, true)
	dk := string(dst)
	if len(res) == 0 {
		if dok {
			ds.deleteLocked(dk, de)
		}
	} else {
		ds.putLocked(dk, de, dok, zsetEntry(zsetFromEntries(res), 0))
	}
	l.unlock()
	if !combine {
		ks.notifyMisses(dbi, keys, found)
	}
	switch {
	case len(res) > 0:
		ks.modified(dbi, dk)
		if !dok {
			ks.notifyNew(dbi, dst)
		}
		ks.notify(dbi, EventZSet, event, dst)
	case dok:
		ks.modified(dbi, dk)
		ks.notify(dbi, EventGeneric, evDel, dst)
	}
	return nil
}

// ZOp is an operation over several sorted sets (or sets).
type ZOp uint8

// The sorted-set algebra operations.
const (
	ZUnion ZOp = iota
	ZInter
	ZDiff
)

// ZAggregate is how ZUNION and ZINTER combine a member's scores.
type ZAggregate uint8

// The aggregates.
const (
	ZSum ZAggregate = iota
	ZMin
	ZMax
)

// ZCombineArgs are the arguments of ZUNION, ZINTER and ZDIFF.
type ZCombineArgs struct {
	Op        ZOp
	Keys      [][]byte
	Weights   []float64 // one per key, or nil for all 1
	Aggregate ZAggregate
	Limit     int // ZInter only: stop after this many members (ZINTERCARD); 0: all
}

// aggregate combines a member's score so far with the next one, as
// Redis's zunionInterAggregate: MIN and MAX keep acc when v is NaN (C's
// comparisons, not Go's min and max, which return NaN).
func aggregate(agg ZAggregate, acc, v float64) float64 {
	switch agg {
	case ZMin:
		if v < acc {
			return v
		}
		return acc
	case ZMax:
		if v > acc {
			return v
		}
		return acc
	}
	if acc += v; math.IsNaN(acc) { // inf + -inf
		return 0
	}
	return acc
}

// combineZ computes a ZCombineArgs over zs (nil for absent keys), in no
// particular order.
func combineZ(a *ZCombineArgs, zs []*zset) []zentry {
	type src struct {
		z *zset
		w float64
	}
	srcs := make([]src, len(zs))
	for i, z := range zs {
		srcs[i] = src{z, 1}
		if a.Weights != nil {
			srcs[i].w = a.Weights[i]
		}
	}
	weighted := func(s src, score float64) float64 {
		if v := score * s.w; !math.IsNaN(v) { // inf * 0
			return v
		}
		return 0
	}
	var out []zentry
	switch a.Op {
	case ZDiff:
		if srcs[0].z == nil {
			return nil
		}
		srcs[0].z.each(0, srcs[0].z.len(), false, func(e zentry) bool {
			for _, s := range srcs[1:] {
				if _, ok := s.z.score([]byte(e.member)); ok {
					return true
				}
			}
			out = append(out, e)
			return true
		})
	case ZInter:
		// From the smallest source, as Redis does (the order decides how
		// a sum rounds).
		slices.SortStableFunc(srcs, func(x, y src) int { return cmp.Compare(x.z.len(), y.z.len()) })
		if srcs[0].z.len() == 0 {
			return nil
		}
		srcs[0].z.each(0, srcs[0].z.len(), false, func(e zentry) bool {
			score := weighted(srcs[0], e.score)
			for _, s := range srcs[1:] {
				v, ok := s.z.score([]byte(e.member))
				if !ok {
					return true
				}
				// Unlike the first input's, a NaN product here is left to
				// the aggregate, as in Redis.
				score = aggregate(a.Aggregate, score, v*s.w)
			}
			out = append(out, zentry{member: e.member, score: score})
			return a.Limit <= 0 || len(out) < a.Limit
		})
	case ZUnion:
		slices.SortStableFunc(srcs, func(x, y src) int { return cmp.Compare(x.z.len(), y.z.len()) })
		at := map[string]int{}
		for _, s := range srcs {
			s.z.each(0, s.z.len(), false, func(e zentry) bool {
				v := weighted(s, e.score)
				if i, ok := at[e.member]; ok {
					out[i].score = aggregate(a.Aggregate, out[i].score, v)
				} else {
					at[e.member] = len(out)
					out = append(out, zentry{member: e.member, score: v})
				}
				return true
			})
		}
	}
	return out
}

// ZCombine returns the result of a over the sorted sets (or sets) at
// a.Keys, ordered by score and member. Like ZCombineStore it reports no
// "keymiss" (see zstore).
func (ks *Keyspace) ZCombine(dbi int, a ZCombineArgs) ([]Scored, error) {
	db := ks.db(dbi)
	now := ks.NowMs()
	l := lockKeys(db, a.Keys)
	zs, _, err := ks.zsources(db, a.Keys, now, true)
	if err != nil {
		l.unlock()
		return nil, err
	}
	res := combineZ(&a, zs)
	l.unlock()
	// Sorted, not packed: Redis replies from the skiplist it built, which
	// keeps -0 (a STORE packs a small result, which does not).
	slices.SortFunc(res, zcompare)
	out := make([]Scored, len(res))
	for i, e := range res {
		out[i] = scored(e)
	}
	return out, nil
}

var zstoreEvents = [...]string{ZUnion: "zunionstore", ZInter: "zinterstore", ZDiff: "zdiffstore"}

// ZCombineStore stores the result of a in dst (deleting dst if it is
// empty) and returns its size.
func (ks *Keyspace) ZCombineStore(dbi int, dst []byte, a ZCombineArgs) (int, error) {
	n := 0
	err := ks.zstore(dbi, dst, a.Keys, zstoreEvents[a.Op], true, func(zs []*zset) []zentry {
		res := combineZ(&a, zs)
		n = len(res)
		return res
	})
	return n, err
}
