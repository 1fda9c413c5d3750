package keyspace

import (
	"bytes"
	"encoding/binary"
	"slices"
	"strconv"
	"strings"
)

// Streams (t_stream.c). A stream is its entries in chunks, one chunk per
// node of Redis's radix tree, laid out as Redis lays out its nodes: a
// chunk is created when the tail chunk's listpack (as Redis would encode
// it, lpBytes) plus the new entry's field and value bytes reaches
// stream-node-max-bytes (4096), or when it holds stream-node-max-entries
// (100) entries, live or deleted. So XINFO's radix-tree-keys, the whole
// nodes that a "~" trim removes, and the listpacks a snapshot writes are
// Redis's own.
//
// A chunk keeps its master entry's fields (the first entry's, Redis's
// "master entry") and its entries packed in one byte slice: per entry the
// ms and seq differences from the chunk's master ID (uvarint, zigzag),
// then, unless the entry has the master's fields (sflagSame), the number
// of fields, and the fields and values, each a uvarint length and the
// bytes. An entry costs its bytes plus about four; its flags (deleted,
// same fields) are one byte in a separate slice. A chunk is found by
// binary search on master IDs and read from its start: a chunk holds at
// most 100 entries.
//
// Bytes in data and mfields are never written again once stored (an
// append writes past the length any reader saw; a chunk that is sealed is
// copied to an exact size, not shrunk in place), and flags is replaced,
// not modified, when an entry is deleted: a snapshot (itemOf) copies the
// chunk headers under the stripe lock and reads them after it.
//
// Consumer groups are sorted slices (by name, as Redis's rax orders
// them); a group's and a consumer's pending entries are sorted slices of
// *nack shared between the two, as Redis shares its streamNACKs. An
// acknowledgement in the middle of a large PEL moves the slice's tail.

// StreamID is a stream entry ID: milliseconds and a sequence number.
type StreamID struct{ Ms, Seq uint64 }

// MaxStreamID is the largest ID ("+").
var MaxStreamID = StreamID{^uint64(0), ^uint64(0)}

// Cmp compares two IDs.
func (a StreamID) Cmp(b StreamID) int {
	switch {
	case a.Ms < b.Ms:
		return -1
	case a.Ms > b.Ms:
		return 1
	case a.Seq < b.Seq:
		return -1
	case a.Seq > b.Seq:
		return 1
	}
	return 0
}

// IsZero reports whether id is 0-0.
func (a StreamID) IsZero() bool { return a.Ms == 0 && a.Seq == 0 }

// Incr is the next ID; false if a is the largest.
func (a StreamID) Incr() (StreamID, bool) {
	switch {
	case a.Seq != ^uint64(0):
		return StreamID{a.Ms, a.Seq + 1}, true
	case a.Ms != ^uint64(0):
		return StreamID{a.Ms + 1, 0}, true
	}
	return a, false
}

// Decr is the previous ID; false if a is 0-0.
func (a StreamID) Decr() (StreamID, bool) {
	switch {
	case a.Seq != 0:
		return StreamID{a.Ms, a.Seq - 1}, true
	case a.Ms != 0:
		return StreamID{a.Ms - 1, ^uint64(0)}, true
	}
	return a, false
}

// Append appends "ms-seq".
func (a StreamID) Append(b []byte) []byte {
	b = strconv.AppendUint(b, a.Ms, 10)
	b = append(b, '-')
	return strconv.AppendUint(b, a.Seq, 10)
}

func (a StreamID) String() string { return string(a.Append(nil)) }

// ParseStreamID parses an ID as Redis's streamGenericParseIDOrReply does:
// "-" and "+" (unless strict), "ms" (seq missingSeq) or "ms-seq", and with
// seqStar "ms-*" (seqGiven false). ok is false for anything else.
func ParseStreamID(b []byte, missingSeq uint64, strict, seqStar bool) (id StreamID, seqGiven, ok bool) {
	if len(b) > 127 {
		return id, false, false
	}
	if len(b) == 1 && (b[0] == '-' || b[0] == '+') {
		if strict {
			return id, false, false
		}
		if b[0] == '-' {
			return StreamID{}, true, true
		}
		return MaxStreamID, true, true
	}
	seqGiven = true
	msPart, seqPart, dot := bytes.Cut(b, []byte{'-'})
	ms, ok := parseUint64(msPart)
	if !ok {
		return id, false, false
	}
	seq := missingSeq
	if dot {
		if seqStar && len(seqPart) == 1 && seqPart[0] == '*' {
			seq, seqGiven = 0, false
		} else if seq, ok = parseUint64(seqPart); !ok {
			return id, false, false
		}
	}
	return StreamID{ms, seq}, seqGiven, true
}

// parseUint64 is Redis's string2ull: string2ll's plain digits, or else
// strtoull's, which also takes leading C white space, a '+' and leading
// zeros; digits must run to the end, without overflow. (A '-' never gets
// here: an ID is split at its first.)
func parseUint64(b []byte) (uint64, bool) {
	i := 0
	for i < len(b) && strings.IndexByte(" \t\n\v\f\r", b[i]) >= 0 {
		i++
	}
	if i < len(b) && b[i] == '+' {
		i++
	}
	d := b[i:]
	if len(d) == 0 {
		return 0, false
	}
	for _, c := range d {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	u, err := strconv.ParseUint(string(d), 10, 64)
	return u, err == nil
}

// Entry flags (STREAM_ITEM_FLAG_*).
const (
	sflagDeleted = 1
	sflagSame    = 2
)

// streamListpackMax is STREAM_LISTPACK_MAX_SIZE: stream-node-max-bytes
// 0, or above it, means this.
const streamListpackMax = 1 << 30

// SetStreamNodeLimits sets stream-node-max-bytes and
// stream-node-max-entries (0: no limit on entries), for streams' next
// appends.
func (ks *Keyspace) SetStreamNodeLimits(maxBytes, maxEntries int64) {
	ks.streamNodeBytes.Store(maxBytes)
	ks.streamNodeEntries.Store(maxEntries)
}

// StreamNodeLimits returns stream-node-max-bytes and -entries.
func (ks *Keyspace) StreamNodeLimits() (maxBytes, maxEntries int64) {
	return ks.streamNodeBytes.Load(), ks.streamNodeEntries.Load()
}

// nodeLimits are the limits an append is judged by.
type nodeLimits struct{ bytes, entries int64 }

func (ks *Keyspace) nodeLimits() nodeLimits {
	l := nodeLimits{ks.streamNodeBytes.Load(), ks.streamNodeEntries.Load()}
	if l.bytes <= 0 || l.bytes > streamListpackMax {
		l.bytes = streamListpackMax
	}
	return l
}

// schunk is one node. data holds the entries, flags one byte per entry,
// mfields the master fields (each a uvarint length and the bytes).
type schunk struct {
	master  StreamID
	mfields []byte
	nmf     int
	data    []byte
	flags   []byte
	last    StreamID // the last entry's ID, deleted or not
	live    int
	dead    int
	// body is the node's listpack size without its header, end mark and
	// live and deleted counters: lpBytes adds those.
	body int
}

func (c *schunk) lpBytes() int {
	return 7 + lpIntSize(int64(c.live)) + lpIntSize(int64(c.dead)) + c.body
}

func (c *schunk) entries() int { return len(c.flags) }

// mem is the chunk's heap bytes.
func (c *schunk) mem() int64 {
	return schunkBytes + allocSize(cap(c.data)) + allocSize(cap(c.flags)) + allocSize(cap(c.mfields))
}

const schunkBytes = 128 // the struct, size class 128

// lpIntSize is the bytes lpAppendInteger takes for i, back length
// included.
func lpIntSize(i int64) int {
	switch {
	case i >= 0 && i <= 127:
		return 2
	case i >= -4096 && i <= 4095:
		return 3
	case i >= -1<<15 && i < 1<<15:
		return 4
	case i >= -1<<23 && i < 1<<23:
		return 5
	case i >= -1<<31 && i < 1<<31:
		return 6
	}
	return 10
}

// lpStrSize is the bytes lpAppend takes for v, back length included (an
// integer's if v is the canonical form of one, as lpAppend encodes it).
func lpStrSize(v []byte) int {
	if i, ok := ParseInt(v); ok {
		return lpIntSize(i)
	}
	n := len(v)
	switch {
	case n < 64:
		n++
	case n < 4096:
		n += 2
	default:
		n += 5
	}
	switch {
	case n <= 127:
		return n + 1
	case n < 16383:
		return n + 2
	case n < 2097151:
		return n + 3
	case n < 268435455:
		return n + 4
	}
	return n + 5
}

func appendStr(b, v []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

func readStr(b []byte, off int) ([]byte, int) {
	l, k := binary.Uvarint(b[off:])
	s := off + k
	return b[s : s+int(l) : s+int(l)], s + int(l)
}

func zigzag(i int64) uint64   { return uint64(i<<1) ^ uint64(i>>63) }
func unzigzag(u uint64) int64 { return int64(u>>1) ^ -int64(u&1) }

// sameFields reports whether fv's fields (fv is field, value, ...) are
// the chunk's master fields.
func (c *schunk) sameFields(fv [][]byte) bool {
	if len(fv)/2 != c.nmf {
		return false
	}
	off := 0
	for i := 0; i < len(fv); i += 2 {
		var f []byte
		f, off = readStr(c.mfields, off)
		if !bytes.Equal(f, fv[i]) {
			return false
		}
	}
	return true
}

// add appends an entry with id and fields fv (field, value, ...), with
// flags (sflagSame decided by the caller) and accounts its listpack size.
func (c *schunk) add(id StreamID, fv [][]byte, flags byte) {
	msd, seqd := int64(id.Ms-c.master.Ms), int64(id.Seq-c.master.Seq)
	c.data = binary.AppendUvarint(c.data, uint64(id.Ms-c.master.Ms))
	c.data = binary.AppendUvarint(c.data, zigzag(seqd))
	nf := len(fv) / 2
	size := lpIntSize(int64(flags)) + lpIntSize(msd) + lpIntSize(seqd)
	lpCount := int64(nf + 3)
	if flags&sflagSame == 0 {
		c.data = binary.AppendUvarint(c.data, uint64(nf))
		size += lpIntSize(int64(nf))
		lpCount += int64(nf + 1)
	}
	for i := 0; i < len(fv); i += 2 {
		if flags&sflagSame == 0 {
			c.data = appendStr(c.data, fv[i])
			size += lpStrSize(fv[i])
		}
		c.data = appendStr(c.data, fv[i+1])
		size += lpStrSize(fv[i+1])
	}
	size += lpIntSize(lpCount)
	c.body += size
	c.flags = append(c.flags, flags)
	if flags&sflagDeleted != 0 {
		c.dead++
	} else {
		c.live++
	}
	c.last = id
}

// newSChunk starts a chunk whose master entry has fv's fields.
func newSChunk(master StreamID, fv [][]byte) *schunk {
	c := &schunk{master: master, nmf: len(fv) / 2}
	c.body = lpIntSize(int64(c.nmf)) + lpIntSize(0)
	for i := 0; i < len(fv); i += 2 {
		c.mfields = appendStr(c.mfields, fv[i])
		c.body += lpStrSize(fv[i])
	}
	c.mfields = slices.Clip(c.mfields)
	return c
}

// seal copies the chunk's slices to their exact sizes (Redis's
// lpShrinkToFit when a node is full). A snapshot may hold the old ones.
func (c *schunk) seal() {
	c.data = slices.Clone(c.data)
	c.flags = slices.Clone(c.flags)
}

// sentry is a position in a chunk: entry i, its ID, flags and the offset
// of its fields in data.
type sentry struct {
	i     int
	id    StreamID
	flags byte
	off   int
}

// each calls fn with the chunk's entries in order until it returns false.
func (c *schunk) each(fn func(e sentry) bool) {
	off := 0
	for i, f := range c.flags {
		msd, k := binary.Uvarint(c.data[off:])
		off += k
		zs, k := binary.Uvarint(c.data[off:])
		off += k
		id := StreamID{c.master.Ms + msd, c.master.Seq + uint64(unzigzag(zs))}
		if !fn(sentry{i, id, f, off}) {
			return
		}
		off = c.skip(off, f)
	}
}

// skip returns the offset after the fields of an entry at off.
func (c *schunk) skip(off int, flags byte) int {
	n := c.nmf
	if flags&sflagSame == 0 {
		nf, k := binary.Uvarint(c.data[off:])
		off += k
		n = 2 * int(nf)
	}
	for range n {
		l, k := binary.Uvarint(c.data[off:])
		off += k + int(l)
	}
	return off
}

// appendFields appends the entry's field, value, ... pairs to dst.
func (c *schunk) appendFields(dst [][]byte, e sentry) [][]byte {
	off := e.off
	if e.flags&sflagSame != 0 {
		moff := 0
		for range c.nmf {
			var f, v []byte
			f, moff = readStr(c.mfields, moff)
			v, off = readStr(c.data, off)
			dst = append(dst, f, v)
		}
		return dst
	}
	nf, k := binary.Uvarint(c.data[off:])
	off += k
	for range 2 * nf {
		var v []byte
		v, off = readStr(c.data, off)
		dst = append(dst, v)
	}
	return dst
}

// fields returns the entry's field, value, ... pairs (slices of immutable
// bytes).
func (c *schunk) fields(e sentry) [][]byte {
	n := c.nmf
	if e.flags&sflagSame == 0 {
		nf, _ := binary.Uvarint(c.data[e.off:])
		n = int(nf)
	}
	return c.appendFields(make([][]byte, 0, 2*n), e)
}

// markDeleted marks entry i deleted, replacing flags (a snapshot may hold
// the old slice).
func (c *schunk) markDeleted(i int) {
	f := slices.Clone(c.flags)
	f[i] |= sflagDeleted
	c.flags = f
	c.live--
	c.dead++
}

// nack is a pending entry of a group (streamNACK).
type nack struct {
	id    StreamID
	time  int64
	count uint64
	cons  *consumer
}

type consumer struct {
	name string
	seen int64
	pel  []*nack // by id
}

type cgroup struct {
	name  string
	last  StreamID
	read  int64 // entries_read; -1: invalid
	pel   []*nack
	conss []*consumer // by name
	cmem  int64       // the consumers' bytes but their PELs' (consumerBytes)
}

// consumerBytes is a consumer's heap bytes but its PEL's, which its
// group's PEL length stands for (countGroups).
func consumerBytes(c *consumer) int64 { return 64 + allocSize(len(c.name)) }

// countConsumers counts cmem for a group built whole (a load, a copy).
func (g *cgroup) countConsumers() {
	g.cmem = 0
	for _, c := range g.conss {
		g.cmem += consumerBytes(c)
	}
}

// stream is a Redis stream.
type stream struct {
	chunks       []*schunk
	length       uint64
	lastID       StreamID
	firstID      StreamID
	maxDeleted   StreamID
	entriesAdded uint64
	groups       []*cgroup // by name
	cmem         int64     // sum of the chunks' mem
	gmem         int64     // the groups' bytes when last counted (countGroups)
}

// len is never 0 for the object interface's purposes: an empty stream is
// kept (Redis keeps it).
func (s *stream) len() int { return 1 }

const streamStructBytes = 128

func (s *stream) bytes() int64 {
	return streamStructBytes + allocSize(cap(s.chunks)*8) + s.cmem + s.gmem
}

// countGroups counts the consumer groups' heap bytes again, after an
// operation that may have changed them (updateStream, XREADGROUP, a load
// or a copy), not after every XADD. It is O(groups): each group keeps its
// consumers' bytes (cmem), and a pending entry counts its nack and its
// place in the group's and its consumer's PEL. Walking every consumer, as
// sessiond did, made an XADD cost 0.3 ms with 100,000 consumers
// (helper-65's review).
func (s *stream) countGroups() {
	var n int64
	for _, g := range s.groups {
		n += 96 + allocSize(len(g.name)) + allocSize(cap(g.pel)*8) + int64(len(g.pel))*(48+8) + allocSize(cap(g.conss)*8) + g.cmem
	}
	s.gmem = n
}

// chunkFor is the index of the last chunk whose master ID is at most id,
// or -1 if none.
func (s *stream) chunkFor(id StreamID) int {
	i, _ := slices.BinarySearchFunc(s.chunks, id, func(c *schunk, id StreamID) int {
		if c.master.Cmp(id) <= 0 {
			return -1
		}
		return 1
	})
	return i - 1
}

// append adds an entry (id above lastID, checked by the caller).
func (s *stream) append(id StreamID, fv [][]byte, lim nodeLimits) {
	var c *schunk
	if n := len(s.chunks); n > 0 && s.length == 0 && id.Cmp(s.chunks[n-1].master) < 0 {
		// Only tombstones are left (a MINID trim can leave a node so) and
		// XSETID took the last ID below them: drop them, so that chunks
		// stay ordered by master ID and entries stay above their master.
		for len(s.chunks) > 0 {
			s.removeChunk(0)
		}
	}
	if n := len(s.chunks); n > 0 {
		c = s.chunks[n-1]
		tot := 0
		for _, b := range fv {
			tot += len(b)
		}
		if int64(c.lpBytes()+tot) >= lim.bytes || lim.entries > 0 && int64(c.live+c.dead) >= lim.entries {
			s.cmem -= c.mem()
			c.seal()
			s.cmem += c.mem()
			c = nil
		}
	}
	var flags byte
	if c == nil {
		c = newSChunk(id, fv)
		s.chunks = append(s.chunks, c)
		flags = sflagSame
	} else {
		s.cmem -= c.mem()
		if c.sameFields(fv) {
			flags = sflagSame
		}
	}
	c.add(id, fv, flags)
	s.cmem += c.mem()
	s.length++
	s.entriesAdded++
	s.lastID = id
	if s.length == 1 {
		s.firstID = id
	}
}

// removeChunk drops chunk i.
func (s *stream) removeChunk(i int) {
	s.cmem -= s.chunks[i].mem()
	if i == 0 {
		s.chunks[0] = nil
		s.chunks = s.chunks[1:]
		return
	}
	s.chunks = slices.Delete(s.chunks, i, i+1)
}

// StreamEntry is an entry: its ID and its fields and values (field,
// value, ...), slices of immutable stored bytes. A nil Fields in a reply
// of pending entries means a deleted entry.
type StreamEntry struct {
	ID     StreamID
	Fields [][]byte
}

// scan calls fn with the live entries from start to end (inclusive), in
// order or in reverse, until fn returns false.
func (s *stream) scan(start, end StreamID, rev bool, fn func(c *schunk, e sentry) bool) {
	if start.Cmp(end) > 0 || len(s.chunks) == 0 {
		return
	}
	if !rev {
		i := max(s.chunkFor(start), 0)
		for ; i < len(s.chunks); i++ {
			c := s.chunks[i]
			stop := false
			c.each(func(e sentry) bool {
				// Only live IDs are ordered: XSETID may lower the last ID
				// below a tombstone's, and a later entry follows it.
				if e.flags&sflagDeleted != 0 || e.id.Cmp(start) < 0 {
					return true
				}
				if e.id.Cmp(end) > 0 || !fn(c, e) {
					stop = true
					return false
				}
				return true
			})
			if stop {
				return
			}
		}
		return
	}
	i := s.chunkFor(end)
	if i < 0 {
		i = len(s.chunks) - 1 // Redis: raxSeek "$" when no node is <= end
	}
	var es []sentry
	for ; i >= 0; i-- {
		c := s.chunks[i]
		es = es[:0]
		c.each(func(e sentry) bool {
			if e.flags&sflagDeleted != 0 {
				return true
			}
			if e.id.Cmp(end) > 0 {
				return false
			}
			es = append(es, e)
			return true
		})
		for j := len(es) - 1; j >= 0; j-- {
			if es[j].id.Cmp(start) < 0 || !fn(c, es[j]) {
				return
			}
		}
	}
}

// rangeEntries returns up to count (0: all) live entries from start to end.
func (s *stream) rangeEntries(start, end StreamID, count int, rev bool) []StreamEntry {
	var out []StreamEntry
	s.scan(start, end, rev, func(c *schunk, e sentry) bool {
		out = append(out, StreamEntry{e.id, c.fields(e)})
		return count <= 0 || len(out) < count
	})
	return out
}

// lookup returns the live entry id.
func (s *stream) lookup(id StreamID) (StreamEntry, bool) {
	var out StreamEntry
	found := false
	s.scan(id, id, false, func(c *schunk, e sentry) bool {
		out, found = StreamEntry{e.id, c.fields(e)}, true
		return false
	})
	return out, found
}

// edge is the first (or last) live entry's ID; with none, the largest ID
// for first and 0-0 for last, as streamGetEdgeID.
func (s *stream) edge(first bool) StreamID {
	var id StreamID
	found := false
	s.scan(StreamID{}, MaxStreamID, !first, func(_ *schunk, e sentry) bool {
		id, found = e.id, true
		return false
	})
	if !found {
		if first {
			return MaxStreamID
		}
		return StreamID{}
	}
	return id
}

// delete marks id deleted (streamDeleteItem): a chunk left without live
// entries is dropped.
func (s *stream) delete(id StreamID) bool {
	var c *schunk
	idx := -1
	s.scan(id, id, false, func(fc *schunk, e sentry) bool {
		c, idx = fc, e.i
		return false
	})
	if idx < 0 {
		return false
	}
	i := s.chunkFor(c.master) // c itself: masters are in order
	if c.live == 1 {
		s.removeChunk(i)
	} else {
		s.cmem -= c.mem()
		c.markDeleted(idx)
		s.cmem += c.mem()
	}
	s.length--
	return true
}

// TrimArgs are XADD's and XTRIM's trimming options.
type TrimArgs struct {
	Strategy int // 0 none, TrimMaxLen, TrimMinID
	Approx   bool
	Limit    int64 // 0: none
	MaxLen   int64
	MinID    StreamID
}

// Trimming strategies.
const (
	TrimMaxLen = 1
	TrimMinID  = 2
)

// trim is streamTrim: whole chunks from the front, then (unless approx)
// entries of the first chunk left marked deleted.
func (s *stream) trim(a TrimArgs) int64 {
	if a.Strategy == 0 {
		return 0
	}
	var deleted int64
	for len(s.chunks) > 0 {
		if a.Strategy == TrimMaxLen && s.length <= uint64(a.MaxLen) {
			break
		}
		c := s.chunks[0]
		entries := int64(c.live)
		if a.Limit != 0 && deleted+entries > a.Limit {
			break
		}
		var remove bool
		if a.Strategy == TrimMaxLen {
			remove = s.length-uint64(entries) >= uint64(a.MaxLen)
		} else {
			remove = c.last.Cmp(a.MinID) < 0
		}
		if remove {
			s.removeChunk(0)
			s.length -= uint64(entries)
			deleted += entries
			continue
		}
		if a.Approx {
			break
		}
		var marks []int
		c.each(func(e sentry) bool {
			if a.Strategy == TrimMaxLen {
				if s.length <= uint64(a.MaxLen) {
					return false
				}
			} else if e.id.Cmp(a.MinID) >= 0 {
				return false
			}
			if e.flags&sflagDeleted == 0 {
				marks = append(marks, e.i)
				s.length--
			}
			return true
		})
		if len(marks) > 0 {
			s.cmem -= c.mem()
			f := slices.Clone(c.flags)
			for _, i := range marks {
				f[i] |= sflagDeleted
			}
			c.flags = f
			c.live -= len(marks)
			c.dead += len(marks)
			s.cmem += c.mem()
		}
		deleted += int64(len(marks))
		break
	}
	if s.length == 0 {
		s.firstID = StreamID{}
	} else if deleted > 0 {
		s.firstID = s.edge(true)
	}
	return deleted
}

// rangeHasTombstones is streamRangeHasTombstones.
func (s *stream) rangeHasTombstones(start, end StreamID) bool {
	if s.length == 0 || s.maxDeleted.IsZero() || s.firstID.Cmp(s.maxDeleted) > 0 {
		return false
	}
	return start.Cmp(s.maxDeleted) <= 0 && s.maxDeleted.Cmp(end) <= 0
}

// estimateDistance is streamEstimateDistanceFromFirstEverEntry; -1 for
// SCG_INVALID_ENTRIES_READ.
func (s *stream) estimateDistance(id StreamID) int64 {
	if s.entriesAdded == 0 {
		return 0
	}
	if s.length == 0 && id.Cmp(s.lastID) < 1 {
		return int64(s.entriesAdded)
	}
	switch cmp := id.Cmp(s.lastID); {
	case cmp == 0:
		return int64(s.entriesAdded)
	case cmp > 0:
		return -1
	}
	cmpFirst := id.Cmp(s.firstID)
	if s.maxDeleted.IsZero() || s.maxDeleted.Cmp(s.firstID) < 0 {
		switch {
		case cmpFirst < 0:
			return int64(s.entriesAdded - s.length)
		case cmpFirst == 0:
			return int64(s.entriesAdded - s.length + 1)
		}
	}
	return -1
}

// lag is streamReplyWithCGLag's value; false for a null.
func (s *stream) lag(g *cgroup) (int64, bool) {
	if s.entriesAdded == 0 {
		return 0, true
	}
	if g.read != -1 && !s.rangeHasTombstones(g.last, MaxStreamID) {
		return int64(s.entriesAdded) - g.read, true
	}
	if r := s.estimateDistance(g.last); r != -1 {
		return int64(s.entriesAdded) - r, true
	}
	return 0, false
}

func (s *stream) group(name []byte) *cgroup {
	i, ok := slices.BinarySearchFunc(s.groups, name, func(g *cgroup, n []byte) int { return strings.Compare(g.name, string(n)) })
	if !ok {
		return nil
	}
	return s.groups[i]
}

// addGroup creates a group; nil if one of that name exists.
func (s *stream) addGroup(name []byte, last StreamID, read int64) *cgroup {
	i, ok := slices.BinarySearchFunc(s.groups, name, func(g *cgroup, n []byte) int { return strings.Compare(g.name, string(n)) })
	if ok {
		return nil
	}
	g := &cgroup{name: string(name), last: last, read: read}
	s.groups = slices.Insert(s.groups, i, g)
	return g
}

func (s *stream) removeGroup(name []byte) bool {
	i, ok := slices.BinarySearchFunc(s.groups, name, func(g *cgroup, n []byte) int { return strings.Compare(g.name, string(n)) })
	if ok {
		s.groups = slices.Delete(s.groups, i, i+1)
	}
	return ok
}

func (g *cgroup) consumer(name []byte) *consumer {
	i, ok := slices.BinarySearchFunc(g.conss, name, func(c *consumer, n []byte) int { return strings.Compare(c.name, string(n)) })
	if !ok {
		return nil
	}
	return g.conss[i]
}

// addConsumer creates a consumer; nil if it exists.
func (g *cgroup) addConsumer(name []byte, now int64) *consumer {
	i, ok := slices.BinarySearchFunc(g.conss, name, func(c *consumer, n []byte) int { return strings.Compare(c.name, string(n)) })
	if ok {
		return nil
	}
	c := &consumer{name: string(name), seen: now}
	g.conss = slices.Insert(g.conss, i, c)
	g.cmem += consumerBytes(c)
	return c
}

// delConsumer removes c and its pending entries from the group.
func (g *cgroup) delConsumer(c *consumer) {
	for _, n := range c.pel {
		g.pel = pelRemove(g.pel, n.id)
	}
	if i := slices.Index(g.conss, c); i >= 0 {
		g.conss = slices.Delete(g.conss, i, i+1)
		g.cmem -= consumerBytes(c)
	}
}

func pelSearch(pel []*nack, id StreamID) (int, bool) {
	return slices.BinarySearchFunc(pel, id, func(n *nack, id StreamID) int { return n.id.Cmp(id) })
}

func pelFind(pel []*nack, id StreamID) *nack {
	if i, ok := pelSearch(pel, id); ok {
		return pel[i]
	}
	return nil
}

func pelInsert(pel []*nack, n *nack) []*nack {
	i, ok := pelSearch(pel, n.id)
	if ok {
		pel[i] = n
		return pel
	}
	if i == len(pel) {
		return append(pel, n)
	}
	return slices.Insert(pel, i, n)
}

func pelRemove(pel []*nack, id StreamID) []*nack {
	if i, ok := pelSearch(pel, id); ok {
		if i == 0 { // the usual XACK: oldest first
			pel[0] = nil
			return pel[1:]
		}
		return slices.Delete(pel, i, i+1)
	}
	return pel
}

// ack removes n from the group's and its consumer's PEL.
func (g *cgroup) ack(n *nack) {
	g.pel = pelRemove(g.pel, n.id)
	if n.cons != nil {
		n.cons.pel = pelRemove(n.cons.pel, n.id)
	}
}

// clone copies the stream deeply (COPY). Chunks' bytes are shared: they
// are never written in place.
func (s *stream) clone() *stream {
	c := *s
	c.chunks = make([]*schunk, len(s.chunks))
	for i, ch := range s.chunks {
		cc := *ch
		cc.data = slices.Clip(cc.data)
		cc.flags = slices.Clip(cc.flags)
		c.chunks[i] = &cc
	}
	c.groups = make([]*cgroup, len(s.groups))
	for i, g := range s.groups {
		ng := &cgroup{name: g.name, last: g.last, read: g.read}
		byName := map[*consumer]*consumer{}
		for _, oc := range g.conss {
			nc := &consumer{name: oc.name, seen: oc.seen}
			byName[oc] = nc
			ng.conss = append(ng.conss, nc)
		}
		for _, n := range g.pel {
			nn := &nack{id: n.id, time: n.time, count: n.count, cons: byName[n.cons]}
			ng.pel = append(ng.pel, nn)
			if nn.cons != nil {
				nn.cons.pel = append(nn.cons.pel, nn)
			}
		}
		ng.countConsumers()
		c.groups[i] = ng
	}
	c.countGroups()
	return &c
}
