package keyspace

// Item is one key as a snapshot sees it. Str is shared with the keyspace
// (strings are immutable once stored) and must not be modified; Members is
// a copy made under the stripe lock, because sets change in place.
type Item struct {
	Key      string
	Kind     Kind
	Str      []byte
	Members  []string
	Deadline int64 // absolute Unix ms; 0 means none
	// A KindHash value: a packed hash shared with the keyspace (immutable),
	// or a map hash's pairs (field, value, ...) copied under the stripe
	// lock (only string headers: the strings are immutable).
	packed    []byte
	hashPairs []string
	// A KindZSet value's elements in order, copied under the stripe lock
	// (only string headers and scores: the strings are immutable).
	scored []zentry
	// A KindList value's chunks (list.go), shared with the keyspace: the
	// bytes of a chunk are never written again once stored.
	chunks [][]byte
	elems  int
	// A KindStream value (streamdata.go).
	stream *streamSnap
}

// EachElem calls fn with every element of a KindList item, in order. The
// slice is shared and must not be modified or kept after the call.
func (it *Item) EachElem(fn func(v []byte)) {
	for _, b := range it.chunks {
		for off := 0; off < len(b); {
			var v []byte
			v, off = nextElem(b, off)
			fn(v)
		}
	}
}

// ListLen is the number of elements of a KindList item.
func (it *Item) ListLen() int { return it.elems }

// EachScored calls fn with every member and score of a KindZSet item, in
// ascending (score, member) order. The slice is shared and must not be
// modified or kept after the call.
func (it *Item) EachScored(fn func(member []byte, score float64)) {
	for _, e := range it.scored {
		fn(view(e.member), e.score)
	}
}

// ZSetLen is the number of elements of a KindZSet item.
func (it *Item) ZSetLen() int { return len(it.scored) }

// EachField calls fn with every field and value of a KindHash item. The
// slices are shared and must not be modified or kept after the call.
func (it *Item) EachField(fn func(field, value []byte)) {
	if it.hashPairs == nil {
		hashRef{p: it.packed}.each(func(f, v []byte) bool { fn(f, v); return true })
		return
	}
	for i := 0; i+1 < len(it.hashPairs); i += 2 {
		fn([]byte(it.hashPairs[i]), []byte(it.hashPairs[i+1]))
	}
}

// HashLen is the number of fields of a KindHash item.
func (it *Item) HashLen() int {
	if it.hashPairs == nil {
		return hashRef{p: it.packed}.len()
	}
	return len(it.hashPairs) / 2
}

// Walk calls fn with the live keys of db, one stripe at a time. Under each
// stripe's read lock it only takes references (and copies set member
// names), so no writer waits longer than that; fn runs with no lock held.
// The result is consistent per key, not across keys: a write that lands
// after its stripe was visited is not seen. items is reused between calls.
func (ks *Keyspace) Walk(dbi int, fn func(items []Item) error) error {
	return ks.walk(dbi, false, fn)
}

// WalkAll is Walk over every key of db, those past their deadline that
// are not reclaimed yet included, as Redis's DEBUG DIGEST iterates its
// dictionary.
func (ks *Keyspace) WalkAll(dbi int, fn func(items []Item) error) error {
	return ks.walk(dbi, true, fn)
}

func (ks *Keyspace) walk(dbi int, expired bool, fn func(items []Item) error) error {
	db := ks.db(dbi)
	now := ks.NowMs()
	var items []Item
	for i := range db.stripes {
		s := &db.stripes[i]
		items = items[:0]
		s.mu.RLock()
		for k, e := range s.m {
			if !expired && e.expiredAt(now) {
				continue
			}
			it := itemOf(k, e)
			items = append(items, it)
		}
		s.mu.RUnlock()
		if len(items) == 0 {
			continue
		}
		if err := fn(items); err != nil {
			return err
		}
	}
	return nil
}

// RestoreString stores a string loaded from a snapshot, replacing any
// existing key. val is copied.
func (ks *Keyspace) RestoreString(dbi int, key, val []byte, deadline int64) {
	ks.restoreValue(dbi, key, Value{Kind: KindString, Str: val}, deadline)
}

// RestoreSet stores a set loaded from a snapshot, replacing any existing
// key. An empty set stores nothing.
func (ks *Keyspace) RestoreSet(dbi int, key []byte, members [][]byte, deadline int64) {
	ks.restoreValue(dbi, key, Value{Kind: KindSet, Elems: members}, deadline)
}

// RestoreList stores a list loaded from a snapshot, replacing any
// existing key. An empty list stores nothing.
func (ks *Keyspace) RestoreList(dbi int, key []byte, elems [][]byte, deadline int64) {
	ks.restoreValue(dbi, key, Value{Kind: KindList, Elems: elems}, deadline)
}

// restoreValue stores v (Value.entry: copied; nothing if empty).
func (ks *Keyspace) restoreValue(dbi int, key []byte, v Value, deadline int64) {
	if e, ok := v.entry(deadline); ok {
		ks.restore(dbi, key, e)
	}
}

func (ks *Keyspace) restore(dbi int, key []byte, e entry) {
	db := ks.db(dbi)
	s := db.stripeFor(key)
	k := string(key)
	s.mu.Lock()
	old, ok := s.m[k]
	s.putLocked(k, old, ok, e)
	s.mu.Unlock()
	ks.schedule(dbi, k, e.deadline) // a restored key is not a change since the last save

}

// Reserve sizes db's empty stripes for about keys keys in all, so that
// loading a snapshot does not grow every stripe's map (rehashing all its
// keys, and leaving the old table as garbage) several times over: with
// keys arriving in an order unrelated to the stripes, as in a dump.rdb
// Redis wrote, that rehashing missed the cache on every key and was a
// sixth of the load's CPU time. A stripe that already holds keys is left
// alone. keys usually comes from a file: the caller bounds it.
func (ks *Keyspace) Reserve(dbi int, keys int) {
	db := ks.db(dbi)
	per := keys / len(db.stripes)
	if per < 8 {
		return // small maps grow cheaply
	}
	// Hashing spreads keys binomially over the stripes (a standard
	// deviation of sqrt(per)): leave room for the fuller ones.
	per += per/16 + 8
	for i := range db.stripes {
		s := &db.stripes[i]
		s.mu.Lock()
		if len(s.m) == 0 {
			s.m = make(map[string]entry, per)
			if len(s.meta) == 0 {
				s.meta = make([]uint64, 0, per+1)
			}
		}
		s.mu.Unlock()
	}
}

// walkHash takes what Walk needs of a hash under the stripe lock: the
// packed form itself, or a copy of the map (its strings are immutable, so
// only the headers are copied).
func walkHash(e entry) (packed []byte, pairs []string) {
	h := hashOf(e)
	if h.m == nil {
		return h.p, nil
	}
	pairs = make([]string, 0, 2*len(h.m))
	for f, v := range h.m {
		pairs = append(pairs, f, v)
	}
	return nil, pairs
}

// RestoreHash stores a hash loaded from a snapshot (pairs is flat: field,
// value, ...), replacing any existing key. An empty hash stores nothing.
func (ks *Keyspace) RestoreHash(dbi int, key []byte, pairs [][]byte, deadline int64) {
	ks.restoreValue(dbi, key, Value{Kind: KindHash, Elems: pairs}, deadline)
}

// RestoreZSet stores a sorted set loaded from a snapshot, replacing any
// existing key. members are distinct and copied; no score is NaN. An
// empty sorted set stores nothing.
func (ks *Keyspace) RestoreZSet(dbi int, key []byte, members [][]byte, scores []float64, deadline int64) {
	ks.restoreValue(dbi, key, Value{Kind: KindZSet, Elems: members, Scores: scores}, deadline)
}
