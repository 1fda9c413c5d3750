package keyspace

import (
	"bytes"
	"encoding/binary"
	"slices"
	"unsafe"
)

// listChunkBytes is the most bytes a list chunk holds, unless one element
// alone is bigger: Redis's list-max-listpack-size -2 (8 KiB per quicklist
// node).
const listChunkBytes = 8192

// list is a Redis list: its elements in order, packed into chunks of at
// most listChunkBytes. An element is its length as a uvarint, its bytes,
// and the same varint's bytes reversed, so a chunk is walked from either
// end (Redis's listpack keeps a back-length for the same reason: RPOP
// must not scan the chunk).
//
// Chunks instead of a node per element: a chunk is one pointer for the
// collector, and an element costs its bytes plus two to six, about what a
// listpack entry costs in Redis.
//
// Bytes, once in a chunk, are never written again: a change in the middle
// of a chunk (LSET, LINSERT, LREM) repacks it into a new array; a push
// writes into room before or after the elements that has never held any
// (an LPUSH into room left in front, as an RPUSH appends), or moves the
// chunk to a bigger array; a pop only moves the chunk's bounds, and the
// room it leaves is never reused. So a slice into a chunk (an element
// returned by LRANGE or a pop, a chunk taken by a snapshot) stays valid,
// unchanged, after the stripe lock is released.
//
// Invariants: chunks are non-empty; chunks[i].n counts the elements of
// chunks[i].data(), n the elements of the list; cbytes is the sum of the
// chunks' alloc().
type list struct {
	chunks []lchunk
	// spare is the free slots before chunks[0] in its array: chunks are
	// added and dropped at the front as cheaply as at the back (a deque),
	// not by moving all the others (replaceChunks).
	spare  int
	n      int
	cbytes int64
}

// lchunk is a run of n packed elements, arr[off:end]. frontFree says that
// arr[:off] has never held elements (so a push to the front may write
// there), backFree the same of arr[end:].
type lchunk struct {
	arr                 []byte
	off, end, n         int
	frontFree, backFree bool
}

// data is the chunk's elements, packed.
func (c *lchunk) data() []byte { return c.arr[c.off:c.end:c.end] }

func (c *lchunk) size() int { return c.end - c.off }

// alloc is the size of the chunk's array (allocated at a size class).
func (c *lchunk) alloc() int64 { return int64(len(c.arr)) }

// listStructBytes is a list's header: the struct (a slice and three
// words, size class 48).
const listStructBytes = 48

// lchunkBytes is one lchunk in the chunks array.
const lchunkBytes = int(unsafe.Sizeof(lchunk{}))

// elemLen is the bytes v takes in a chunk.
func elemLen(v []byte) int {
	return 2*uvarintLen(uint64(len(v))) + len(v)
}

func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

// appendPacked appends v's packed form to b.
func appendPacked(b, v []byte) []byte {
	var pre [binary.MaxVarintLen64]byte
	k := binary.PutUvarint(pre[:], uint64(len(v)))
	b = append(b, pre[:k]...)
	b = append(b, v...)
	for i := k - 1; i >= 0; i-- {
		b = append(b, pre[i])
	}
	return b
}

// nextElem decodes the element at b[off:]: its bytes and the offset after it.
func nextElem(b []byte, off int) ([]byte, int) {
	l, k := binary.Uvarint(b[off:])
	start := off + k
	end := start + int(l)
	return b[start:end:end], end + k
}

// prevElem decodes the element that ends at b[:end]: its bytes and its offset.
func prevElem(b []byte, end int) ([]byte, int) {
	var l uint64
	k := 0
	for shift := 0; ; shift += 7 {
		c := b[end-1-k]
		l |= uint64(c&0x7f) << shift
		k++
		if c < 0x80 {
			break
		}
	}
	stop := end - k
	start := stop - int(l)
	return b[start:stop:stop], start - k
}

// newChunk makes a chunk of the n packed elements p, in an array of its
// own with room for front more bytes before them and back after (what the
// size class adds goes to the front if front is asked for, else to the
// back).
func newChunk(p []byte, n, front, back int) lchunk {
	size := int(allocSize(front + len(p) + back))
	c := lchunk{arr: make([]byte, size), n: n, frontFree: true, backFree: true}
	c.off = front
	if front > 0 {
		c.off = size - back - len(p)
	}
	c.end = c.off + copy(c.arr[c.off:], p)
	return c
}

// newEndChunk is newChunk with room for room more bytes at one end.
func newEndChunk(p []byte, n, room int, front bool) lchunk {
	if front {
		return newChunk(p, n, room, 0)
	}
	return newChunk(p, n, 0, room)
}

// free reports whether the room at one end has never held elements.
func (c *lchunk) free(front bool) bool {
	if front {
		return c.frontFree
	}
	return c.backFree
}

// used marks the room at one end as having held elements (popped or
// trimmed off): slices handed out may cover it.
func (c *lchunk) used(front bool) {
	if front {
		c.frontFree = false
	} else {
		c.backFree = false
	}
}

// room is the bytes a push may write before (front) or after the chunk's
// elements.
func (c *lchunk) room(front bool) int {
	switch {
	case !c.free(front):
		return 0
	case front:
		return c.off
	}
	return len(c.arr) - c.end
}

// put writes v's packed form into the chunk's room at one end; the room
// must be there.
func (c *lchunk) put(v []byte, front bool) {
	if front {
		c.off -= elemLen(v)
		appendPacked(c.arr[c.off:c.off], v)
	} else {
		c.end += len(appendPacked(c.arr[c.end:c.end], v))
	}
	c.n++
}

func (l *list) len() int {
	if l == nil {
		return 0
	}
	return l.n
}

// encoding is OBJECT ENCODING's name, Redis 7.0's for every list.
func (l *list) encoding() string { return "quicklist" }

// bytes is the list's heap footprint for the accounting.
func (l *list) bytes() int64 {
	return listStructBytes + allocSize((l.spare+cap(l.chunks))*lchunkBytes) + l.cbytes
}

func (l *list) replaceChunks(i, j int, with ...lchunk) {
	for _, c := range l.chunks[i:j] {
		l.cbytes -= c.alloc()
		l.n -= c.n
	}
	for _, c := range with {
		l.cbytes += c.alloc()
		l.n += c.n
	}
	switch {
	case i == 0 && len(with) <= j: // fewer at the front: move the start
		d := j - len(with)
		clear(l.chunks[:d]) // the arrays they point to must not stay reachable
		if d == len(l.chunks) {
			// Empty: s[len:] of a full slice points at the array's start,
			// not past its end, so the spare slots would be miscounted.
			l.chunks, l.spare = nil, 0
			break
		}
		l.chunks = l.chunks[d:]
		l.spare += d
		copy(l.chunks, with)
	case i == 0: // more at the front: into the spare slots
		l.prepend(len(with) - j)
		copy(l.chunks, with)
	default:
		base := unsafe.SliceData(l.chunks)
		l.chunks = slices.Replace(l.chunks, i, j, with...)
		if unsafe.SliceData(l.chunks) != base {
			l.spare = 0 // a new array, holding only the chunks
		}
	}
	if total := l.spare + cap(l.chunks); total > 64 && len(l.chunks) < total/4 {
		l.chunks = slices.Clip(slices.Clone(l.chunks))
		l.spare = 0
	}
}

// prepend adds k zero chunks in front, using the spare slots before the
// first chunk, or a new array with spare room of half the chunks.
func (l *list) prepend(k int) {
	if len(l.chunks) == 0 && l.spare < k { // a new list: no room it may never use
		l.chunks, l.spare = make([]lchunk, k), 0
		return
	}
	if l.spare < k {
		spare := max(k, len(l.chunks)/2, 4)
		// One slot more than needed at the back: a[spare:] with no
		// capacity left would point at a's start, not at slot spare.
		a := make([]lchunk, spare+len(l.chunks), spare+cap(l.chunks)+1)
		copy(a[spare:], l.chunks)
		l.chunks, l.spare = a[spare:], spare
	}
	first := unsafe.Add(unsafe.Pointer(unsafe.SliceData(l.chunks)), -k*lchunkBytes)
	l.chunks = unsafe.Slice((*lchunk)(first), cap(l.chunks)+k)[:len(l.chunks)+k]
	l.spare -= k
}

// end is the index of the chunk at one end; -1 if there is none.
func (l *list) end(front bool) int {
	if front && len(l.chunks) > 0 {
		return 0
	}
	return len(l.chunks) - 1
}

// addChunk adds c at one end.
func (l *list) addChunk(c lchunk, front bool) {
	if front {
		l.replaceChunks(0, 0, c)
	} else {
		l.replaceChunks(len(l.chunks), len(l.chunks), c)
	}
}

// push adds vs one after the other at the front (so the last ends up
// first) or the back: into the end
// chunk's room, or into a bigger array for it, or into new chunks once it
// is full. A list's first array is sized for the values of the same
// command that go into it, and grows by a quarter while it is small (as
// much again beyond listGrowDouble): many small lists must not carry much
// room. A chunk added beside a full one is given the whole chunk size at
// once: it is a long list, and growing into it by steps (copying and
// leaving garbage each time) made LPUSH of 256-byte jobs at pipeline 16
// run at 0.45x Redis.
func (l *list) push(vs [][]byte, front bool) {
	for len(vs) > 0 {
		k := l.end(front)
		var c *lchunk
		if k >= 0 {
			c = &l.chunks[k]
		}
		size := 0
		if c != nil {
			size = c.size()
		}
		// The values that fit in this chunk (at least one in a new one).
		take, need := 0, 0
		for take < len(vs) && size+need+elemLen(vs[take]) <= listChunkBytes {
			need += elemLen(vs[take])
			take++
		}
		if take == 0 {
			if c == nil || c.n > 0 {
				nc := lchunk{frontFree: true, backFree: true}
				if c != nil && c.free(front) {
					// A full chunk never popped from at this end: a long
					// list growing here, and the new one will fill up too.
					l.seal(k)
					nc = newEndChunk(nil, 0, listChunkBytes, front)
				}
				l.addChunk(nc, front)
				continue
			}
			take, need = 1, elemLen(vs[0]) // bigger than a chunk: one of its own
		}
		if c == nil {
			l.replaceChunks(0, 0, lchunk{frontFree: true, backFree: true})
			k, c = 0, &l.chunks[0]
		}
		if c.room(front) < need && c.n > 0 && size > listChunkBytes/4 && !c.free(front) {
			// Popped from at this end (a stack): growing would copy the
			// whole chunk for every push. Start a chunk beside it.
			l.addChunk(lchunk{frontFree: true, backFree: true}, front)
			continue
		}
		if c.room(front) < need {
			more := need + size/4
			if size >= listGrowDouble {
				more = need + size
			}
			more = max(need, min(more, listChunkBytes-size))
			grown := newEndChunk(c.data(), c.n, more, front)
			l.cbytes += grown.alloc() - c.alloc()
			*c = grown
		}
		for _, v := range vs[:take] {
			c.put(v, front)
		}
		l.n += take
		vs = vs[take:]
	}
}

// listGrowDouble is the chunk size from which a chunk that must grow
// doubles instead of growing by a quarter.
const listGrowDouble = 1024

// seal gives chunk k's array back its room once no more pushes go to it,
// when the room is more than an eighth of it.
func (l *list) seal(k int) {
	c := &l.chunks[k]
	if int64(c.size()) < c.alloc()-c.alloc()/8 {
		sealed := newChunk(c.data(), c.n, 0, 0)
		l.cbytes += sealed.alloc() - c.alloc()
		*c = sealed
	}
}

// pop removes and returns up to count elements from the front (or the
// back), in the order they come off. They share the chunks' bytes, which
// are never written again.
func (l *list) pop(front bool, count int) [][]byte {
	out := make([][]byte, 0, min(count, l.n))
	for len(out) < count && l.n > 0 {
		k := l.end(front)
		c := &l.chunks[k]
		for len(out) < count && c.n > 0 {
			d := c.data()
			var v []byte
			var at int
			if front {
				v, at = nextElem(d, 0)
				c.off += at
			} else {
				v, at = prevElem(d, len(d))
				c.end = c.off + at
			}
			c.used(front)
			c.n--
			l.n--
			out = append(out, v)
		}
		if c.n == 0 {
			l.replaceChunks(k, k+1)
			// The next chunk is now the end popped from: a push there
			// takes a small chunk of its own, not a whole one that the
			// next pop empties again (a stack).
			if k := l.end(front); k >= 0 {
				l.chunks[k].used(front)
			}
		}
	}
	return out
}

// locate finds element i (0 <= i < n): its chunk and its index there.
func (l *list) locate(i int) (k, j int) {
	if i < l.n/2 {
		for k = 0; i >= l.chunks[k].n; k++ {
			i -= l.chunks[k].n
		}
		return k, i
	}
	r := l.n - 1 - i // from the back
	for k = len(l.chunks) - 1; r >= l.chunks[k].n; k-- {
		r -= l.chunks[k].n
	}
	return k, l.chunks[k].n - 1 - r
}

// offsetOf is the byte offset of element j of c.
func (c *lchunk) offsetOf(j int) int {
	d := c.data()
	if j <= c.n/2 {
		off := 0
		for ; j > 0; j-- {
			_, off = nextElem(d, off)
		}
		return off
	}
	end := len(d)
	for r := c.n - j; r > 0; r-- {
		_, end = prevElem(d, end)
	}
	return end
}

// index is element i (0 <= i < n).
func (l *list) index(i int) []byte {
	k, j := l.locate(i)
	v, _ := nextElem(l.chunks[k].data(), l.chunks[k].offsetOf(j))
	return v
}

// each calls fn with elements from..to-1 (0 <= from <= to <= n) in order,
// or backwards from to-1 down to from when rev, until fn returns false.
func (l *list) each(from, to int, rev bool, fn func(v []byte) bool) {
	left := to - from
	if left <= 0 {
		return
	}
	var v []byte
	if !rev {
		k, j := l.locate(from)
		for off := l.chunks[k].offsetOf(j); ; k, off = k+1, 0 {
			for b := l.chunks[k].data(); off < len(b); {
				v, off = nextElem(b, off)
				if !fn(v) {
					return
				}
				if left--; left == 0 {
					return
				}
			}
		}
	}
	k, j := l.locate(to - 1)
	for end := l.chunks[k].offsetOf(j + 1); ; {
		for b := l.chunks[k].data(); end > 0; {
			v, end = prevElem(b, end)
			if !fn(v) {
				return
			}
			if left--; left == 0 {
				return
			}
		}
		k--
		end = l.chunks[k].size()
	}
}

// elements is elements from..to-1, sharing the chunks' bytes.
func (l *list) elements(from, to int) [][]byte {
	out := make([][]byte, 0, max(to-from, 0))
	l.each(from, to, false, func(v []byte) bool { out = append(out, v); return true })
	return out
}

// unpack is chunk k's elements, sharing its bytes.
func (l *list) unpack(k int) [][]byte {
	d := l.chunks[k].data()
	out := make([][]byte, 0, l.chunks[k].n)
	for off := 0; off < len(d); {
		var v []byte
		v, off = nextElem(d, off)
		out = append(out, v)
	}
	return out
}

// repack replaces chunk k by chunks holding vs (copied).
func (l *list) repack(k int, vs [][]byte) {
	l.replaceChunks(k, k+1, packChunks(vs)...)
}

// packChunks packs vs into as few chunks as the limit allows.
func packChunks(vs [][]byte) []lchunk {
	var out []lchunk
	var p []byte
	n := 0
	for _, v := range vs {
		if n > 0 && len(p)+elemLen(v) > listChunkBytes {
			out = append(out, newChunk(p, n, 0, 0))
			p, n = p[:0], 0
		}
		p = appendPacked(p, v)
		n++
	}
	if n > 0 {
		out = append(out, newChunk(p, n, 0, 0))
	}
	return out
}

// set replaces element i (0 <= i < n) by v.
func (l *list) set(i int, v []byte) {
	k, j := l.locate(i)
	vs := l.unpack(k)
	vs[j] = v
	l.repack(k, vs)
}

// insert puts v before (or after) the first element equal to pivot and
// reports whether there was one.
func (l *list) insert(pivot, v []byte, after bool) bool {
	i, at := 0, -1
	l.each(0, l.n, false, func(e []byte) bool {
		if bytes.Equal(e, pivot) {
			at = i
			return false
		}
		i++
		return true
	})
	if at < 0 {
		return false
	}
	if after {
		at++
	}
	switch at {
	case 0, l.n:
		l.push([][]byte{v}, at == 0)
	default:
		k, j := l.locate(at)
		l.repack(k, slices.Insert(l.unpack(k), j, v))
	}
	return true
}

// remove deletes up to count elements equal to v (all when count is 0),
// from the back when count is negative, and returns how many it deleted.
func (l *list) remove(v []byte, count int64) int {
	limit := count
	if count < 0 {
		limit = max(-count, 0) // -LONG_MIN: no limit, as in Redis
	}
	removed := 0
	for idx := 0; idx < len(l.chunks) && (limit == 0 || int64(removed) < limit); {
		k := idx
		if count < 0 {
			k = len(l.chunks) - 1 - idx
		}
		vs := l.unpack(k)
		kept := make([][]byte, 0, len(vs))
		for i := range vs {
			j := i // walk the chunk in the direction of removal
			if count < 0 {
				j = len(vs) - 1 - i
			}
			if (limit == 0 || int64(removed) < limit) && bytes.Equal(vs[j], v) {
				removed++
				continue
			}
			kept = append(kept, vs[j])
		}
		if len(kept) == len(vs) {
			idx++
			continue
		}
		if count < 0 {
			slices.Reverse(kept)
		}
		l.repack(k, kept) // one chunk or none: kept is part of one
		if len(kept) > 0 {
			idx++
		}
	}
	if removed > 0 {
		l.merge()
	}
	return removed
}

// merge joins neighbouring chunks that together fill at most half a
// chunk, so that removals do not leave a trail of small chunks.
func (l *list) merge() {
	for k := 0; k+1 < len(l.chunks); {
		a, b := l.chunks[k], l.chunks[k+1]
		if a.size()+b.size() > listChunkBytes/2 {
			k++
			continue
		}
		p := slices.Concat(a.data(), b.data())
		l.replaceChunks(k, k+2, newChunk(p, a.n+b.n, 0, 0))
	}
}

// trim keeps elements from..to-1 (0 <= from <= to <= n).
func (l *list) trim(from, to int) {
	if from >= to {
		l.replaceChunks(0, len(l.chunks))
		return
	}
	if to < l.n {
		k, j := l.locate(to)
		c := &l.chunks[k]
		drop := c.n - j
		c.end, c.n = c.off+c.offsetOf(j), j
		c.used(false)
		l.n -= drop
		if c.n == 0 {
			k--
		}
		l.replaceChunks(k+1, len(l.chunks))
	}
	if from > 0 {
		k, j := l.locate(from)
		c := &l.chunks[k]
		c.off += c.offsetOf(j)
		c.used(true)
		c.n -= j
		l.n -= j
		l.replaceChunks(0, k)
	}
}

// clone copies l; the copy shares nothing mutable with it.
func (l *list) clone() *list { return newListOf(l.elements(0, l.n)) }

// newListOf is a list of vs (copied).
func newListOf(vs [][]byte) *list {
	l := &list{}
	l.replaceChunks(0, 0, packChunks(vs)...)
	return l
}
