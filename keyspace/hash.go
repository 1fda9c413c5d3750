package keyspace

import (
	"bytes"
	"encoding/binary"
	"errors"
)

// Limits of the packed hash encoding: Redis 7's defaults of
// hash-max-listpack-entries and hash-max-listpack-value. Keeping Redis's
// limits keeps Redis's order: a hash within them lists its fields in
// insertion order in both servers.
const (
	maxPackedFields = 512
	maxPackedField  = 64 // bytes, for a field or a value
)

// hdr is the size of a packed hash's header: the pair count, uint16 LE.
const hdr = 2

func packedCount(p []byte) int { return int(binary.LittleEndian.Uint16(p)) }

func setPackedCount(p []byte, n int) { binary.LittleEndian.PutUint16(p, uint16(n)) }

// Errors of the hash commands (their texts differ from the string ones).
var (
	// ErrHashNotInteger: HINCRBY met a value that is not a 64-bit integer.
	ErrHashNotInteger = errors.New("keyspace: hash value is not an integer")
	// ErrHashNotFloat: HINCRBYFLOAT met a value that is not a number.
	ErrHashNotFloat = errors.New("keyspace: hash value is not a float")
	// ErrIncrNaN: HINCRBYFLOAT's increment is NaN or an infinity.
	ErrIncrNaN = errors.New("keyspace: value is NaN or Infinity")
)

// A hash is stored in one of two forms, chosen so that entry keeps its
// size (no new field):
//
//   - packed: entry.bytes() is the whole hash, as a 2-byte count and then, per
//     pair in insertion order, a length byte and the field, a length byte
//     and the value. It is one exact-size allocation, and like a string
//     value it is immutable once stored: a write builds a new slice, so
//     Walk, COPY and HGET hand out references without copying under the
//     lock. This is the form of every hash of at most maxPackedFields
//     pairs whose fields and values are at most maxPackedField bytes (a
//     session), as Redis keeps such hashes in a listpack.
//   - map: entry.hashMapPtr() holds the map. A hash that outgrows the
//     packed limits becomes a map and stays one, as in Redis. The map is
//     modified in place under the write lock; its strings are immutable.

// hashMap is the holder of a hash in map form: the entry points to it, so
// that writes to a large hash change the map in place and store nothing.
type hashMap struct{ m map[string]string }

// hashRef is a read view of either form.
type hashRef struct {
	p []byte            // packed form (nil for an absent hash or a map)
	m map[string]string // map form
}

func hashOf(e entry) hashRef {
	if hm := e.hashMapPtr(); hm != nil {
		return hashRef{m: hm.m}
	}
	return hashRef{p: e.bytes()}
}

func (h hashRef) len() int {
	if h.m != nil {
		return len(h.m)
	}
	if len(h.p) == 0 {
		return 0
	}
	return packedCount(h.p)
}

// each calls fn with every pair, in insertion order for a packed hash,
// until fn returns false. The slices must not be modified; for a packed
// hash they alias the immutable stored value and stay valid.
func (h hashRef) each(fn func(f, v []byte) bool) {
	if h.m != nil {
		for f, v := range h.m {
			if !fn([]byte(f), []byte(v)) {
				return
			}
		}
		return
	}
	if len(h.p) == 0 {
		return
	}
	for p := h.p[hdr:]; len(p) > 0; {
		fl := int(p[0])
		f := p[1 : 1+fl : 1+fl]
		vl := int(p[1+fl])
		v := p[2+fl : 2+fl+vl : 2+fl+vl]
		p = p[2+fl+vl:]
		if !fn(f, v) {
			return
		}
	}
}

// packedFind returns the offset of field's length byte in p, the value's
// bounds, and whether it was found.
func packedFind(p, field []byte) (off, vs, ve int, ok bool) {
	if len(p) == 0 {
		return 0, 0, 0, false
	}
	for i := hdr; i < len(p); {
		fl := int(p[i])
		vl := int(p[i+1+fl])
		if fl == len(field) && bytes.Equal(p[i+1:i+1+fl], field) {
			return i, i + 2 + fl, i + 2 + fl + vl, true
		}
		i += 2 + fl + vl
	}
	return 0, 0, 0, false
}

// get returns field's value. For a packed hash the slice aliases the
// immutable stored value; for a map it is a new copy.
func (h hashRef) get(field []byte) ([]byte, bool) {
	if h.m != nil {
		v, ok := h.m[string(field)]
		if !ok {
			return nil, false
		}
		return []byte(v), true
	}
	_, vs, ve, ok := packedFind(h.p, field)
	if !ok {
		return nil, false
	}
	return h.p[vs:ve:ve], true
}

func (h hashRef) has(field []byte) bool {
	if h.m != nil {
		_, ok := h.m[string(field)]
		return ok
	}
	_, _, _, ok := packedFind(h.p, field)
	return ok
}

// valueLen returns the length of field's value, 0 if absent.
func (h hashRef) valueLen(field []byte) int {
	if h.m != nil {
		return len(h.m[string(field)])
	}
	_, vs, ve, _ := packedFind(h.p, field)
	return ve - vs
}

// pairs returns copies of every field and value, flat: f1, v1, f2, v2...
func (h hashRef) pairs() [][]byte {
	out := make([][]byte, 0, 2*h.len())
	h.each(func(f, v []byte) bool {
		out = append(out, bytes.Clone(f), bytes.Clone(v))
		return true
	})
	return out
}

// hashWriter applies the writes of one command to a hash under the write
// lock. A packed hash is edited in a private copy (the stored one is
// immutable) and published by result; a map is edited in place.
type hashWriter struct {
	orig    []byte            // the stored packed form, never modified
	p       []byte            // private working copy, once written
	m       map[string]string // map form
	changed bool
}

func newHashWriter(h hashRef) *hashWriter {
	return &hashWriter{orig: h.p, m: h.m}
}

func (w *hashWriter) ref() hashRef {
	if w.m != nil {
		return hashRef{m: w.m}
	}
	if w.p != nil {
		return hashRef{p: w.p}
	}
	return hashRef{p: w.orig}
}

// own makes the working copy private before its first modification.
func (w *hashWriter) own(extra int) {
	if w.p != nil {
		return
	}
	if len(w.orig) == 0 {
		w.p = make([]byte, hdr, hdr+extra)
		return
	}
	w.p = make([]byte, len(w.orig), len(w.orig)+extra)
	copy(w.p, w.orig)
}

// toMap converts the hash to its map form.
func (w *hashWriter) toMap(extra int) {
	h := w.ref()
	m := make(map[string]string, h.len()+extra)
	h.each(func(f, v []byte) bool {
		m[string(f)] = string(v)
		return true
	})
	w.m, w.p, w.orig = m, nil, nil
}

// set stores field = value and reports whether field was new. Both are
// copied.
func (w *hashWriter) set(field, value []byte) bool {
	if w.m == nil && (len(field) > maxPackedField || len(value) > maxPackedField) {
		w.toMap(1)
	}
	w.changed = true
	if w.m != nil {
		_, had := w.m[string(field)]
		w.m[string(field)] = string(value)
		return !had
	}
	w.own(2 + len(field) + len(value))
	if _, vs, ve, ok := packedFind(w.p, field); ok {
		if ve-vs == len(value) {
			copy(w.p[vs:ve], value)
			return false
		}
		rest := bytes.Clone(w.p[ve:])
		w.p = append(w.p[:vs-1], byte(len(value)))
		w.p = append(w.p, value...)
		w.p = append(w.p, rest...)
		return false
	}
	if packedCount(w.p) >= maxPackedFields {
		w.toMap(1)
		w.m[string(field)] = string(value)
		return true
	}
	w.p = append(w.p, byte(len(field)))
	w.p = append(w.p, field...)
	w.p = append(w.p, byte(len(value)))
	w.p = append(w.p, value...)
	setPackedCount(w.p, packedCount(w.p)+1)
	return true
}

// del removes field and reports whether it was there.
func (w *hashWriter) del(field []byte) bool {
	if w.m != nil {
		if _, ok := w.m[string(field)]; !ok {
			return false
		}
		delete(w.m, string(field))
		w.changed = true
		return true
	}
	if _, _, _, ok := packedFind(w.ref().p, field); !ok {
		return false
	}
	w.own(0)
	off, _, ve, _ := packedFind(w.p, field)
	w.p = append(w.p[:off], w.p[ve:]...)
	setPackedCount(w.p, packedCount(w.p)-1)
	w.changed = true
	return true
}

// result returns the hash to store: a packed form (an exact-size copy of
// the working one), or the map; empty means delete the key.
func (w *hashWriter) result() hashRef {
	if w.m != nil {
		return hashRef{m: w.m}
	}
	if w.p == nil {
		return hashRef{p: w.orig}
	}
	if packedCount(w.p) == 0 {
		return hashRef{}
	}
	return hashRef{p: bytes.Clone(w.p)}
}

// hashEntry builds the entry for h. prev is the stored entry: a map keeps
// its holder, so writes to a large hash allocate nothing.
func hashEntry(h hashRef, prev entry, deadline int64) entry {
	if h.m != nil {
		if hm := prev.hashMapPtr(); hm != nil {
			return hashMapEntry(hm, deadline)
		}
		return hashMapEntry(&hashMap{m: h.m}, deadline)
	}
	return bytesEntry(KindHash, h.p, deadline)
}

// newHashOf builds a hash from flat pairs (later duplicates win).
func newHashOf(pairs [][]byte) hashRef {
	w := newHashWriter(hashRef{})
	size := hdr
	for _, b := range pairs {
		size += 1 + len(b)
	}
	w.own(size)
	for i := 0; i+1 < len(pairs); i += 2 {
		w.set(pairs[i], pairs[i+1])
	}
	return w.result()
}

// cloneHashEntry returns a copy of e sharing nothing mutable with it: a
// packed hash is immutable and shared, a map is copied.
func cloneHashEntry(e entry) entry {
	hm := e.hashMapPtr()
	if hm == nil {
		return e
	}
	m := make(map[string]string, len(hm.m))
	for f, v := range hm.m {
		m[f] = v
	}
	c := hashMapEntry(&hashMap{m: m}, e.deadline)
	c.setSlot(e.slot())
	return c
}
