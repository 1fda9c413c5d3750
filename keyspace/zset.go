package keyspace

import (
	"slices"
	"strings"
)

// Limits of the packed form, as Redis's zset-max-listpack-entries and
// zset-max-listpack-value: a sorted set within both is what Redis keeps as
// a listpack, and OBJECT ENCODING says so.
const (
	maxPackedZMembers = 128
	maxPackedZMember  = 64
	// zchunkMax is the most elements a chunk holds before it splits in
	// two. Equal to maxPackedZMembers, so a packed set is one chunk.
	zchunkMax = maxPackedZMembers
)

// zentry is one element of a sorted set.
type zentry struct {
	member string
	score  float64
}

// zcompare orders elements as Redis does: by score, then by member
// bytes. Scores are never NaN.
func zcompare(a, b zentry) int {
	if a.score != b.score {
		if a.score < b.score {
			return -1
		}
		return 1
	}
	return strings.Compare(a.member, b.member)
}

// zset is a sorted set: its elements in (score, member) order, in chunks
// of at most zchunkMax, plus, once it outgrows the packed limits, a map
// from member to score.
//
// Chunks instead of Redis's skiplist: an element costs its 24 bytes in a
// chunk and its string (plus a map slot when big) instead of a node with
// pointers per level, so the collector has almost nothing to trace; an
// insert binary-searches the chunks by their last element and moves at
// most zchunkMax elements. A rank costs a pass over the chunk lengths,
// one per 32-128 elements (a chunk under a quarter full merges with a
// neighbour), which is cheap next to a request.
//
// A small set (at most maxPackedZMembers elements, no member over
// maxPackedZMember bytes) is one chunk and no map: a lookup by member
// scans it, as Redis scans a listpack. Once it grows past either limit it
// gets the map and keeps it (OBJECT ENCODING "skiplist"), as a Redis
// sorted set, once converted, stays a skiplist.
//
// Invariants: chunks are non-empty and sorted, each chunk's last element
// is below the next chunk's first; n is the element count; members are
// distinct; index, when not nil, holds exactly the elements' scores;
// mbytes is the sum of allocSize of the member strings; cbytes the sum of
// allocSize of the chunks' backing arrays.
type zset struct {
	chunks [][]zentry
	index  map[string]float64
	n      int
	mbytes int64
	cbytes int64
}

const zentryBytes = 24

func (z *zset) len() int {
	if z == nil {
		return 0
	}
	return z.n
}

// big reports whether z has outgrown the packed form (and has the map).
func (z *zset) big() bool { return z.index != nil }

// score returns member's score.
func (z *zset) score(member []byte) (float64, bool) {
	if z == nil {
		return 0, false
	}
	if z.index != nil {
		s, ok := z.index[string(member)]
		return s, ok
	}
	for _, c := range z.chunks {
		for _, e := range c {
			if e.member == string(member) {
				return e.score, true
			}
		}
	}
	return 0, false
}

// zbefore reports whether e sorts before (score, member); member is
// compared without a copy.
func zbefore(e zentry, score float64, member []byte) bool {
	if e.score != score {
		return e.score < score
	}
	return e.member < string(member)
}

// locate returns the chunk and offset where (score, member) is, or would
// be inserted. ci == len(z.chunks) only when z is empty.
func (z *zset) locate(score float64, member []byte) (ci, off int) {
	ci, _ = slices.BinarySearchFunc(z.chunks, 0, func(c []zentry, _ int) int {
		if zbefore(c[len(c)-1], score, member) {
			return -1
		}
		return 1
	})
	if ci == len(z.chunks) {
		if ci == 0 {
			return 0, 0
		}
		ci--
		return ci, len(z.chunks[ci])
	}
	off, _ = slices.BinarySearchFunc(z.chunks[ci], 0, func(e zentry, _ int) int {
		if zbefore(e, score, member) {
			return -1
		}
		return 1
	})
	return ci, off
}

// replaceChunk stores c as chunk ci, keeping cbytes.
func (z *zset) replaceChunk(ci int, c []zentry) {
	z.cbytes += allocSize(cap(c)*zentryBytes) - allocSize(cap(z.chunks[ci])*zentryBytes)
	z.chunks[ci] = c
}

// set gives member the score, adding it if absent, and reports whether it
// was added. member is copied.
func (z *zset) set(member []byte, score float64) bool {
	if old, ok := z.score(member); ok {
		z.rescore(member, old, score)
		return false
	}
	z.insert(zentry{member: string(member), score: score})
	return true
}

// insert adds e, whose member is not in z.
func (z *zset) insert(e zentry) {
	if z.index == nil && (z.n+1 > maxPackedZMembers || len(e.member) > maxPackedZMember) {
		z.indexAll()
	}
	if z.index == nil && e.score == 0 {
		e.score = 0 // -0: Redis packs a whole score as an integer
	}
	ci, off := z.locate(e.score, view(e.member))
	if ci == len(z.chunks) {
		z.chunks = append(z.chunks, nil)
	}
	if len(z.chunks[ci]) == zchunkMax {
		// Split a full chunk in two fresh arrays before inserting, so no
		// chunk's array grows past zchunkMax or keeps the other half's
		// room (append would double a 128-element array to 256).
		c := z.chunks[ci]
		half := len(c) / 2
		left, right := chunkOf(c[:half]), chunkOf(c[half:])
		z.replaceChunk(ci, left)
		z.chunks = slices.Insert(z.chunks, ci+1, right)
		z.cbytes += allocSize(cap(right) * zentryBytes)
		if off > half {
			ci, off = ci+1, off-half
		}
	}
	z.replaceChunk(ci, insertEntry(z.chunks[ci], off, e))
	z.n++
	z.mbytes += allocSize(len(e.member))
	if z.index != nil {
		z.index[e.member] = e.score
	}
}

// indexAll gives z its member index, the form Redis calls a skiplist.
func (z *zset) indexAll() {
	z.index = make(map[string]float64, z.n+1)
	for _, c := range z.chunks {
		for _, x := range c {
			z.index[x.member] = x.score
		}
	}
}

// chunkOf copies es into a new array with a quarter of room to grow.
func chunkOf(es []zentry) []zentry {
	c := make([]zentry, len(es), min(len(es)+len(es)/4+4, zchunkMax))
	copy(c, es)
	return c
}

// insertEntry inserts e at off in c (len(c) < zchunkMax), growing the
// array by a quarter rather than append's doubling: a chunk's array is
// most of an element's cost in a large sorted set.
func insertEntry(c []zentry, off int, e zentry) []zentry {
	if len(c) == cap(c) {
		n := make([]zentry, len(c), min(len(c)+len(c)/4+4, zchunkMax))
		copy(n, c)
		c = n
	}
	return slices.Insert(c, off, e)
}

// rescore moves member from score old to score, keeping its string.
func (z *zset) rescore(member []byte, old, score float64) {
	if old == score {
		return
	}
	ci, off := z.locate(old, member)
	e := z.chunks[ci][off]
	z.removeAt(ci, off, off+1)
	z.compact(ci) // as remove: a set refreshed by moving scores must not fragment
	e.score = score
	z.insert(e)
}

// remove deletes member, whose score is score.
func (z *zset) remove(member []byte, score float64) {
	ci, off := z.locate(score, member)
	z.removeAt(ci, off, off+1)
	z.compact(ci)
}

// compact merges the chunk at ci, or the one that took its place, with a
// neighbour once it is under a quarter full, so that a set that shrank
// does not keep a near-empty chunk (and its array) per few elements.
func (z *zset) compact(ci int) {
	if len(z.chunks) < 2 {
		return
	}
	ci = min(ci, len(z.chunks)-1)
	if len(z.chunks[ci]) >= zchunkMax/4 {
		return
	}
	lo := ci - 1 // merge with the shorter neighbour
	if ci == 0 || ci+1 < len(z.chunks) && len(z.chunks[ci+1]) < len(z.chunks[ci-1]) {
		lo = ci
	}
	a, b := z.chunks[lo], z.chunks[lo+1]
	if len(a)+len(b) > zchunkMax {
		return
	}
	merged := make([]zentry, 0, len(a)+len(b))
	merged = append(append(merged, a...), b...)
	z.cbytes += allocSize(cap(merged)*zentryBytes) - allocSize(cap(a)*zentryBytes) - allocSize(cap(b)*zentryBytes)
	z.chunks[lo] = merged
	z.chunks = slices.Delete(z.chunks, lo+1, lo+2)
}

// delete removes member if present and reports whether it was.
func (z *zset) delete(member []byte) bool {
	s, ok := z.score(member)
	if ok {
		z.remove(member, s)
	}
	return ok
}

// removeAt deletes elements [from, to) of chunk ci, dropping the chunk if
// that empties it.
func (z *zset) removeAt(ci, from, to int) {
	c := z.chunks[ci]
	for _, e := range c[from:to] {
		z.mbytes -= allocSize(len(e.member))
		if z.index != nil {
			delete(z.index, e.member)
		}
	}
	z.n -= to - from
	if to-from == len(c) {
		z.cbytes -= allocSize(cap(c) * zentryBytes)
		z.chunks = slices.Delete(z.chunks, ci, ci+1)
		return
	}
	z.chunks[ci] = slices.Delete(c, from, to) // same array: cbytes unchanged
}

// rank returns member's 0-based position in ascending order, and its
// score.
func (z *zset) rank(member []byte) (int, float64, bool) {
	s, ok := z.score(member)
	if !ok {
		return 0, 0, false
	}
	ci, off := z.locate(s, member)
	return z.before(ci) + off, s, true
}

// before is the number of elements in the chunks before ci.
func (z *zset) before(ci int) int {
	n := 0
	for _, c := range z.chunks[:ci] {
		n += len(c)
	}
	return n
}

// count returns how many leading elements satisfy below, which must hold
// for a prefix of the order (and not after it).
func (z *zset) count(below func(zentry) bool) int {
	if z == nil {
		return 0
	}
	ci, _ := slices.BinarySearchFunc(z.chunks, 0, func(c []zentry, _ int) int {
		if below(c[len(c)-1]) {
			return -1
		}
		return 1
	})
	if ci == len(z.chunks) {
		return z.n
	}
	off, _ := slices.BinarySearchFunc(z.chunks[ci], 0, func(e zentry, _ int) int {
		if below(e) {
			return -1
		}
		return 1
	})
	return z.before(ci) + off
}

// ranker returns a function from rank to element that costs a binary
// search, not a pass over the chunks, for callers that look up many ranks
// (ZRANDMEMBER).
func (z *zset) ranker() func(r int) zentry {
	starts := make([]int, len(z.chunks))
	n := 0
	for i, c := range z.chunks {
		starts[i] = n
		n += len(c)
	}
	return func(r int) zentry {
		ci, found := slices.BinarySearch(starts, r)
		if !found {
			ci--
		}
		return z.chunks[ci][r-starts[ci]]
	}
}

// at returns the chunk and offset of the element of rank r (0 <= r < n).
func (z *zset) at(r int) (ci, off int) {
	for ci, c := range z.chunks {
		if r < len(c) {
			return ci, r
		}
		r -= len(c)
	}
	return len(z.chunks), 0
}

// each calls fn with the elements of ranks [from, to), in ascending order,
// or descending (from to-1 down to from) if rev, until fn returns false.
func (z *zset) each(from, to int, rev bool, fn func(e zentry) bool) {
	if z == nil {
		return
	}
	if to = min(to, z.n); from >= to {
		return
	}
	if !rev {
		ci, off := z.at(from)
		for left := to - from; ci < len(z.chunks); ci, off = ci+1, 0 {
			for _, e := range z.chunks[ci][off:] {
				if left == 0 || !fn(e) {
					return
				}
				left--
			}
		}
		return
	}
	ci, off := z.at(to - 1)
	for left := to - from; ci >= 0; ci-- {
		c := z.chunks[ci]
		if off < 0 {
			off = len(c) - 1
		}
		for ; off >= 0; off-- {
			if left == 0 || !fn(c[off]) {
				return
			}
			left--
		}
	}
}

// removeRange deletes the elements of ranks [from, to) and returns how
// many it deleted.
func (z *zset) removeRange(from, to int) int {
	if z == nil || from >= to {
		return 0
	}
	n := to - from
	ci, off := z.at(from)
	start, last := ci, ci
	for left := n; left > 0; {
		k := min(left, len(z.chunks[ci])-off)
		dropped := k == len(z.chunks[ci])
		z.removeAt(ci, off, off+k)
		left -= k
		if !dropped {
			last = ci
			ci++
		}
		off = 0
	}
	// The first and last chunks the range cut into may be left short;
	// merging the last one first moves only chunks at or after start.
	if last > start {
		z.compact(last)
	}
	z.compact(start)
	return n
}

// clone returns a deep copy (member strings, immutable, are shared).
func (z *zset) clone() *zset {
	c := &zset{n: z.n, mbytes: z.mbytes, chunks: make([][]zentry, len(z.chunks))}
	for i, ch := range z.chunks {
		c.chunks[i] = slices.Clone(ch)
		c.cbytes += allocSize(cap(c.chunks[i]) * zentryBytes)
	}
	if z.index != nil {
		c.index = make(map[string]float64, len(z.index))
		for m, s := range z.index {
			c.index[m] = s
		}
	}
	return c
}

// zsetStructBytes is the zset struct (three words of chunks, the map
// pointer, n, mbytes, cbytes: 56 bytes, size class 64).
const zsetStructBytes = 64

// zsetMapSlot is one map[string]float64 slot (a string header, a float
// and a control byte) at 7/8 load.
const zsetMapSlot = (24+1)*8/7 + 1

// bytes is z's heap estimate for the memory accounting.
func (z *zset) bytes() int64 {
	n := zsetStructBytes + allocSize(cap(z.chunks)*24) + z.cbytes + z.mbytes
	if z.index != nil {
		n += setMapBase + int64(len(z.index))*zsetMapSlot
	}
	return n
}

// encoding is Redis's name for how it would hold z.
func (z *zset) encoding() string {
	if z.big() {
		return "skiplist"
	}
	return "listpack"
}

// newZSetOf builds a sorted set from distinct members and their scores
// (a snapshot's, or a computed result), sorting once rather than
// inserting one by one.
func newZSetOf(members [][]byte, scores []float64) *zset {
	es := make([]zentry, len(members))
	for i, m := range members {
		es[i] = zentry{member: string(m), score: scores[i]}
	}
	return zsetFromEntries(es)
}

// zsetFromEntries builds a sorted set from distinct elements, taking es.
func zsetFromEntries(es []zentry) *zset {
	slices.SortFunc(es, zcompare)
	z := &zset{}
	big := len(es) > maxPackedZMembers
	for _, e := range es {
		z.mbytes += allocSize(len(e.member))
		big = big || len(e.member) > maxPackedZMember
	}
	z.n = len(es)
	if big {
		z.index = make(map[string]float64, len(es))
		for _, e := range es {
			z.index[e.member] = e.score
		}
	} else {
		for i := range es {
			if es[i].score == 0 {
				es[i].score = 0 // -0, as insert
			}
		}
	}
	// Chunks three-quarters full leave room for inserts before splits.
	per := zchunkMax
	if big {
		per = zchunkMax * 3 / 4
	}
	for i := 0; i < len(es); i += per {
		c := slices.Clone(es[i:min(i+per, len(es))])
		z.chunks = append(z.chunks, c)
		z.cbytes += allocSize(cap(c) * zentryBytes)
	}
	return z
}
