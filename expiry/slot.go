package expiry

// metaDBBits is the number of low bits of a meta word that hold the database
// number (0..15); the tick lives in the bits above.
const metaDBBits = 4

// maxTick is the largest tick a meta word can hold. Deadlines beyond it are
// clamped (with a 1 ms tick that is about 18 million years from 1970).
const maxTick = 1<<(64-metaDBBits) - 1

// meta packs a tick and a database number into one word.
func meta(tick uint64, db int) uint64 { return tick<<metaDBBits | uint64(db) }

// metaTick returns the tick of a meta word.
func metaTick(m uint64) uint64 { return m >> metaDBBits }

// metaDB returns the database number of a meta word.
func metaDB(m uint64) int { return int(m & (1<<metaDBBits - 1)) }

// entry is one scheduled key with its own meta word: 24 bytes on 64-bit
// platforms. Entries that share their meta word with a neighbour are stored
// run-length encoded instead (see slot), at 16 bytes each.
type entry struct {
	key  string
	meta uint64
}

// run is a header for n consecutive keys of slot.keys that share meta.
type run struct {
	meta uint64
	n    uint32
}

// slot holds the entries of one wheel slot. Schedule calls for one slot
// arrive roughly in deadline order (a session cache sets the same TTL over
// and over), so consecutive entries usually share their (tick, db) meta word.
// Such entries are kept as a bare key in keys plus one run header for the
// whole group: 16 bytes per entry. An entry whose meta differs from its
// predecessor's is kept in singles with its own meta: 24 bytes. When a second
// entry arrives with the same meta as the last single, the single is promoted
// into a new run. The order of entries within a slot carries no meaning.
//
// keys and singles are append-only block lists, so a slot that grows to a
// million entries never copies them and wastes at most one block; a slot is
// emptied only as a whole (when its tick fires or it is cascaded).
type slot struct {
	keys    blocks[string] // keys of all runs, run after run
	runs    []run
	singles blocks[entry]
}

// add appends key with meta m to s.
func (s *slot) add(key string, m uint64) {
	if n := len(s.runs); n > 0 && s.runs[n-1].meta == m {
		s.keys.push(key, keysPerBlock)
		s.runs[n-1].n++
		return
	}
	if last := s.singles.last(); last != nil && last.meta == m {
		prev := s.singles.pop()
		s.keys.push(prev.key, keysPerBlock)
		s.keys.push(key, keysPerBlock)
		s.runs = append(s.runs, run{meta: m, n: 2})
		return
	}
	s.singles.push(entry{key: key, meta: m}, entriesPerBlock)
}

// len returns the number of entries in s.
func (s *slot) len() int { return s.keys.n + s.singles.n }

// empty reports whether s holds no entries.
func (s *slot) empty() bool { return s.keys.n == 0 && s.singles.n == 0 }

// capacity returns the capacity of s in entries, the measure used to decide
// whether its buffers are worth keeping.
func (s *slot) capacity() int { return s.keys.capacity() + s.singles.capacity() }

// reset empties s, keeping only its first blocks (cleared, so that they no
// longer keep deleted keys' bytes alive) for reuse.
func (s *slot) reset() {
	s.keys.reset()
	s.singles.reset()
	s.runs = s.runs[:0]
}

// cursor walks the entries of a slot in storage order: runs first, then
// singles.
type cursor struct {
	run  int // index into runs
	left int // keys left in runs[run-1]
	key  int // index into keys
	one  int // index into singles
}

// next returns the entry under c and moves c past it. ok is false when s is
// exhausted.
func (c *cursor) next(s *slot) (key string, m uint64, ok bool) {
	for c.left == 0 && c.run < len(s.runs) {
		c.left = int(s.runs[c.run].n)
		c.run++
	}
	if c.left > 0 {
		key, m = s.keys.at(c.key, keysPerBlock), s.runs[c.run-1].meta
		c.key++
		c.left--
		return key, m, true
	}
	if c.one < s.singles.n {
		e := s.singles.at(c.one, entriesPerBlock)
		c.one++
		return e.key, e.meta, true
	}
	return "", 0, false
}

// Elements per block of a block list. A block of either kind takes 8184
// bytes plus the 8-byte header Go puts on pointer-carrying objects over 512
// bytes, exactly the 8192-byte size class: no rounding waste.
const (
	keysPerBlock    = 511 // 16-byte string headers
	entriesPerBlock = 341 // 24-byte entries
)

// blocks is an append-only list stored in blocks of per elements (per is
// passed to each method and is the same for the life of the list). Every
// block but the last is full. The first block starts small and doubles, so
// that the many small slots of a quiet wheel stay small; later blocks are
// allocated full size and never copied.
type blocks[T any] struct {
	b [][]T
	n int // elements
}

func (l *blocks[T]) push(v T, per int) {
	k := len(l.b)
	switch {
	case k == 0:
		l.b = append(l.b, make([]T, 0, min(4, per)))
		k++
	case len(l.b[k-1]) == per:
		l.b = append(l.b, make([]T, 0, per))
		k++
	case len(l.b[k-1]) == cap(l.b[k-1]): // the first block, growing
		nb := make([]T, len(l.b[0]), min(2*cap(l.b[0]), per))
		copy(nb, l.b[0])
		l.b[0] = nb
	}
	l.b[k-1] = append(l.b[k-1], v)
	l.n++
}

// at returns element i.
func (l *blocks[T]) at(i, per int) T { return l.b[i/per][i%per] }

// last returns a pointer to the last element, or nil if l is empty.
func (l *blocks[T]) last() *T {
	if l.n == 0 {
		return nil
	}
	b := l.b[len(l.b)-1]
	return &b[len(b)-1]
}

// pop removes and returns the last element. l must not be empty.
func (l *blocks[T]) pop() T {
	k := len(l.b) - 1
	b := l.b[k]
	v := b[len(b)-1]
	var zero T
	b[len(b)-1] = zero
	l.b[k] = b[:len(b)-1]
	if len(l.b[k]) == 0 && k > 0 {
		l.b[k] = nil
		l.b = l.b[:k]
	}
	l.n--
	return v
}

// capacity returns the number of elements l can hold without allocating.
func (l *blocks[T]) capacity() int {
	c := 0
	for _, b := range l.b {
		c += cap(b)
	}
	return c
}

// reset empties l, keeping its first block, cleared.
func (l *blocks[T]) reset() {
	if len(l.b) == 0 {
		return
	}
	clear(l.b[0])
	l.b[0] = l.b[0][:0]
	clear(l.b[1:])
	l.b = l.b[:1]
	l.n = 0
}
