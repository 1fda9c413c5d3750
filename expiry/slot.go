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
// All slices are append-only; a slot is emptied only as a whole (when its
// tick fires or it is cascaded to a lower level).
type slot struct {
	keys    []string // keys of all runs, run after run
	runs    []run
	singles []entry
}

// add appends key with meta m to s.
func (s *slot) add(key string, m uint64) {
	if n := len(s.runs); n > 0 && s.runs[n-1].meta == m {
		s.keys = append(s.keys, key)
		s.runs[n-1].n++
		return
	}
	if n := len(s.singles); n > 0 && s.singles[n-1].meta == m {
		prev := s.singles[n-1].key
		s.singles[n-1] = entry{}
		s.singles = s.singles[:n-1]
		s.keys = append(s.keys, prev, key)
		s.runs = append(s.runs, run{meta: m, n: 2})
		return
	}
	s.singles = append(s.singles, entry{key: key, meta: m})
}

// len returns the number of entries in s.
func (s *slot) len() int { return len(s.keys) + len(s.singles) }

// empty reports whether s holds no entries.
func (s *slot) empty() bool { return len(s.keys) == 0 && len(s.singles) == 0 }

// cap returns the capacity of s in entries, the measure used to decide
// whether its buffers are worth keeping.
func (s *slot) capacity() int { return cap(s.keys) + cap(s.singles) }

// clear drops the contents of s but keeps its buffers. The backing arrays are
// zeroed so that they no longer keep deleted keys' bytes alive.
func (s *slot) clear() {
	clear(s.keys)
	clear(s.singles)
	s.keys = s.keys[:0]
	s.runs = s.runs[:0]
	s.singles = s.singles[:0]
}

// cursor walks the entries of a slot in storage order: runs first, then
// singles.
type cursor struct {
	run  int // index into runs
	left int // keys left in runs[run]
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
		key, m = s.keys[c.key], s.runs[c.run-1].meta
		c.key++
		c.left--
		return key, m, true
	}
	if c.one < len(s.singles) {
		e := s.singles[c.one]
		c.one++
		return e.key, e.meta, true
	}
	return "", 0, false
}
