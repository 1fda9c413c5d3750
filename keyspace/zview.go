package keyspace

// ZView reads one sorted set for a command that needs several lookups to
// see the same state (GEOSEARCH scans up to nine score ranges and may look
// a member up first): see ZRead and ZReadStore. It is valid only inside
// their callback.
type ZView struct{ z *zset }

// Exists reports whether the key held a sorted set.
func (v ZView) Exists() bool { return v.z != nil }

// Score is member's score, if it is there.
func (v ZView) Score(member []byte) (float64, bool) { return v.z.score(member) }

// ScoreRange calls fn with the members scored lo <= score < hi, in
// ascending order (score, then member), until fn returns false. Members
// stay valid after the view, and must not be modified.
func (v ZView) ScoreRange(lo, hi float64, fn func(member []byte, score float64) bool) {
	if v.z == nil {
		return
	}
	from := v.z.count(func(e zentry) bool { return e.score < lo })
	v.z.each(from, v.z.len(), false, func(e zentry) bool {
		return e.score < hi && fn(view(e.member), e.score)
	})
}

// ZRead runs fn on key's sorted set (a view that does not Exist if there
// is no key) under one read lock; ErrWrongType if key holds another type.
func (ks *Keyspace) ZRead(dbi int, key []byte, fn func(v ZView)) error {
	return ks.viewZSet(dbi, key, func(z *zset) { fn(ZView{z}) })
}

// ZReadStore is ZRead on src whose result is stored in dst atomically:
// the members compute returns are stored as a sorted set (dst deleted if
// there are none), reported as event on dst, or "del" if that deleted it.
// If compute returns an error, nothing is stored and ZReadStore returns
// it. It returns the number of members stored.
func (ks *Keyspace) ZReadStore(dbi int, dst, src []byte, event string, compute func(v ZView) ([]Scored, error)) (int, error) {
	n := 0
	err := ks.zstoreErr(dbi, dst, [][]byte{src}, event, false, func(zs []*zset) ([]zentry, error) {
		res, err := compute(ZView{zs[0]})
		if err != nil {
			return nil, err
		}
		out := make([]zentry, len(res))
		for i, s := range res {
			out[i] = zentry{member: string(s.Member), score: s.Score}
		}
		n = len(out)
		return out, nil
	})
	return n, err
}
