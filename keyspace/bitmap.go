package keyspace

import (
	"encoding/binary"
	"math"
	"math/bits"
)

// Bitmaps are plain string values: bit 0 is the most significant bit of
// the first byte, as in Redis (bitops.c). Stored strings are never changed
// in place (readers keep them after the stripe lock is released), so a
// write copies the value, as APPEND and SETRANGE do.

// MaxBitOffset bounds a bit offset as Redis's getBitOffsetFromArgument
// does: its byte must lie within MaxStringLen.
const MaxBitOffset = MaxStringLen*8 - 1

// Popcount is the number of set bits in b, a word at a time.
func Popcount(b []byte) int64 {
	var n int
	for len(b) >= 8 {
		n += bits.OnesCount64(binary.LittleEndian.Uint64(b))
		b = b[8:]
	}
	for _, c := range b {
		n += bits.OnesCount8(c)
	}
	return int64(n)
}

// bitRange turns BITCOUNT/BITPOS start and end (negative from the end;
// bits if isBit, else bytes) into an inclusive range of valid indexes in
// the same unit; start > end means empty.
func bitRange(n int, start, end int64, isBit bool) (int64, int64) {
	total := int64(n)
	if isBit {
		total <<= 3
	}
	if start < 0 {
		start += total
	}
	if end < 0 {
		end += total
	}
	start, end = max(start, 0), max(end, 0)
	if end >= total {
		end = total - 1
	}
	return start, end
}

// BitCount counts the set bits of v from start to end inclusive, as
// BITCOUNT does (the range in bits if isBit, else bytes).
func BitCount(v []byte, start, end int64, isBit bool) int64 {
	if start < 0 && end < 0 && start > end {
		return 0
	}
	start, end = bitRange(len(v), start, end, isBit)
	if start > end {
		return 0
	}
	if !isBit {
		return Popcount(v[start : end+1])
	}
	sb, eb := start>>3, end>>3
	n := Popcount(v[sb : eb+1])
	n -= int64(bits.OnesCount8(v[sb] &^ (0xff >> (start & 7)))) // bits before start
	n -= int64(bits.OnesCount8(v[eb] & (0xff >> (end&7 + 1))))  // bits after end
	return n
}

// BitPos returns the position of the first bit equal to bit (0 or 1) in v
// between start and end, as BITPOS does. Looking for a 0 with no end given
// treats v as padded with zeros on the right (so the answer may be just
// past it); otherwise a range without the bit gives -1.
func BitPos(v []byte, bit int, start, end int64, endGiven, isBit bool) int64 {
	start, end = bitRange(len(v), start, end, isBit)
	if start > end {
		return -1
	}
	if !isBit {
		start, end = start<<3, end<<3+7
	}
	if p := findBit(v, bit, start, end); p >= 0 {
		return p
	}
	if bit == 1 || endGiven {
		return -1
	}
	return (end>>3 + 1) << 3
}

// findBit is the first bit equal to bit in v's bits start..end inclusive,
// or -1. Runs of bytes without it are skipped a word at a time.
func findBit(v []byte, bit int, start, end int64) int64 {
	var flip byte // XORed in so that the bit looked for is a 1
	var skip uint64
	if bit == 0 {
		flip, skip = 0xff, math.MaxUint64
	}
	sb, eb := start>>3, end>>3
	for i := sb; i <= eb; i++ {
		if i > sb && i+8 <= eb && binary.LittleEndian.Uint64(v[i:]) == skip {
			i += 7
			continue
		}
		b := v[i] ^ flip
		if i == sb {
			b &= 0xff >> (start & 7)
		}
		if i == eb {
			b &^= 0xff >> (end&7 + 1)
		}
		if b != 0 {
			return i<<3 + int64(bits.LeadingZeros8(b))
		}
	}
	return -1
}

// GetBit returns bit offset of key's string (0 past its end or if the key
// is absent).
func (ks *Keyspace) GetBit(dbi int, key []byte, offset uint64) (int, error) {
	v, _, err := ks.Get(dbi, key)
	if err != nil {
		return 0, err
	}
	return bitAt(v, offset), nil
}

func bitAt(v []byte, offset uint64) int {
	if offset>>3 >= uint64(len(v)) {
		return 0
	}
	return int(v[offset>>3]>>(7-offset&7)) & 1
}

// bitString is the string a bit command works on: the stored bytes, which
// are never changed in place, until the first write asks for a private
// copy (own).
type bitString struct {
	b     []byte
	need  int // bytes the command may touch
	owned bool
}

// own returns b, first copied and zero-padded to need bytes if it is
// still the stored string.
func (w *bitString) own() []byte {
	if !w.owned {
		next := make([]byte, max(len(w.b), w.need))
		copy(next, w.b)
		w.b, w.owned = next, true
	}
	return w.b
}

// writeBits runs fn on key's string, grown with zeros to hold bit maxBit
// as Redis's lookupStringForBitCommand does, and stores it if the key was
// created or grown or fn reports changes. grown tells fn whether either
// happened. As in Redis a created key is "new" even if nothing else
// changed, while watchers, the dirty count (by changes) and event (class
// $) see only changes.
//
// fn reads w.b and writes through w.own(), which copies the string on the
// first write (stored strings are shared with readers and snapshots), so a
// write that changes nothing copies nothing: a bitmap of daily users gets
// the same SETBIT again and again, and a 512 MB one was copied on each
// (helper-58's review). A grown string is copied before fn runs. fn must
// own the string before it reports a change.
func (ks *Keyspace) writeBits(dbi int, key []byte, maxBit uint64, event string, fn func(w *bitString, grown bool) (changes int)) error {
	db := ks.db(dbi)
	s := db.stripeFor(key)
	now := ks.NowMs()
	s.mu.Lock()
	e, ok := ks.getLocked(s, key, now, true)
	if ok && e.kind() != KindString {
		s.mu.Unlock()
		return ErrWrongType
	}
	w := bitString{b: e.bytes(), need: int(maxBit>>3) + 1}
	grown := !ok || len(w.b) < w.need
	if grown {
		w.own()
	}
	changes := fn(&w, grown)
	if !grown && changes == 0 {
		s.mu.Unlock()
		return nil
	}
	k := string(key)
	s.putLocked(k, e, ok, bytesEntry(KindString, w.b, e.deadline))
	s.mu.Unlock()
	if !ok {
		ks.notifyNew(dbi, key)
	}
	if changes > 0 {
		ks.modified(dbi, k)
		ks.dirty.Add(int64(changes - 1))
		ks.notify(dbi, EventString, event, key)
	}
	return nil
}

// SetBit sets (on) or clears bit offset of key's string, creating or
// zero-padding it, and returns the bit's previous value.
func (ks *Keyspace) SetBit(dbi int, key []byte, offset uint64, on bool) (int, error) {
	var old int
	err := ks.writeBits(dbi, key, offset, "setbit", func(w *bitString, grown bool) int {
		old = bitAt(w.b, offset)
		if (old == 1) == on && !grown {
			return 0
		}
		b := w.own()
		mask := byte(0x80) >> (offset & 7)
		if on {
			b[offset>>3] |= mask
		} else {
			b[offset>>3] &^= mask
		}
		return 1
	})
	return old, err
}

// BitOpKind is a BITOP operation.
type BitOpKind uint8

// The BITOP operations.
const (
	BitAnd BitOpKind = iota
	BitOr
	BitXor
	BitNot // one source
)

// BitOp stores op over the strings at keys (absent keys are empty) in dst
// and returns its length. An empty result deletes dst. dst may hold any
// type; it is replaced and loses its TTL, as with SET.
func (ks *Keyspace) BitOp(dbi int, op BitOpKind, dst []byte, keys [][]byte) (int, error) {
	db := ks.db(dbi)
	now := ks.NowMs()
	l := lockKeys(db, append([][]byte{dst}, keys...))
	srcs := make([][]byte, len(keys))
	found := make([]bool, len(keys))
	maxLen := 0
	for i, k := range keys {
		e, ok := ks.getLocked(db.stripeFor(k), k, now, true)
		ks.hit(ok)
		if ok && e.kind() != KindString {
			l.unlock()
			ks.notifyMisses(dbi, keys[:i], found[:i])
			return 0, ErrWrongType
		}
		srcs[i], found[i] = e.bytes(), ok
		maxLen = max(maxLen, len(srcs[i]))
	}
	var res []byte
	if maxLen > 0 {
		res = bitOp(op, srcs, maxLen)
	}
	ds := db.stripeFor(dst)
	de, dok := ks.getLocked(ds, dst, now, true)
	dk := string(dst)
	if res != nil {
		ds.putLocked(dk, de, dok, bytesEntry(KindString, res, 0))
	} else if dok {
		ds.deleteLocked(dk, de)
	}
	l.unlock()
	ks.notifyMisses(dbi, keys, found)
	switch {
	case res != nil:
		ks.modified(dbi, dk)
		if !dok {
			ks.notifyNew(dbi, dst)
		}
		ks.notify(dbi, EventString, "set", dst)
	case dok:
		ks.modified(dbi, dk)
		ks.notify(dbi, EventGeneric, evDel, dst)
	}
	return maxLen, nil
}

// bitOp computes op over srcs into a new string of n bytes; shorter
// sources count as zero-padded.
func bitOp(op BitOpKind, srcs [][]byte, n int) []byte {
	res := make([]byte, n)
	copy(res, srcs[0])
	if op == BitNot {
		i := 0
		for ; i+8 <= n; i += 8 {
			binary.LittleEndian.PutUint64(res[i:], ^binary.LittleEndian.Uint64(res[i:]))
		}
		for ; i < n; i++ {
			res[i] = ^res[i]
		}
		return res
	}
	for _, s := range srcs[1:] {
		if op == BitAnd {
			clear(res[len(s):])
		}
		i := 0
		for ; i+8 <= len(s); i += 8 {
			a, b := binary.LittleEndian.Uint64(res[i:]), binary.LittleEndian.Uint64(s[i:])
			switch op {
			case BitAnd:
				a &= b
			case BitOr:
				a |= b
			default:
				a ^= b
			}
			binary.LittleEndian.PutUint64(res[i:], a)
		}
		for ; i < len(s); i++ {
			switch op {
			case BitAnd:
				res[i] &= s[i]
			case BitOr:
				res[i] |= s[i]
			default:
				res[i] ^= s[i]
			}
		}
	}
	return res
}

// BitFieldOp is one BITFIELD subcommand.
type BitFieldOp struct {
	Op       BitFieldOpKind
	Signed   bool
	Bits     int    // 1-64 signed, 1-63 unsigned
	Offset   uint64 // in bits
	Value    int64  // SET's value, INCRBY's increment
	Overflow Overflow
}

// BitFieldOpKind is GET, SET or INCRBY.
type BitFieldOpKind uint8

// The BITFIELD subcommands.
const (
	BitFieldGet BitFieldOpKind = iota
	BitFieldSet
	BitFieldIncrBy
)

// Overflow is BITFIELD's OVERFLOW behaviour.
type Overflow uint8

// The OVERFLOW modes.
const (
	OverflowWrap Overflow = iota
	OverflowSat
	OverflowFail
)

// BitFieldResult is one BITFIELD reply element: Nil when OVERFLOW FAIL
// refused the write.
type BitFieldResult struct {
	Val int64
	Nil bool
}

// BitField runs ops on key's string as BITFIELD does. Without SET or
// INCRBY it is a read (an absent key reads as zeros and is not created);
// otherwise the string is created or grown to the farthest bit written.
func (ks *Keyspace) BitField(dbi int, key []byte, ops []BitFieldOp) ([]BitFieldResult, error) {
	out := make([]BitFieldResult, len(ops))
	var maxBit uint64
	write := false
	for _, o := range ops {
		if o.Op != BitFieldGet {
			write = true
			maxBit = max(maxBit, o.Offset+uint64(o.Bits)-1)
		}
	}
	if !write {
		v, _, err := ks.Get(dbi, key)
		if err != nil {
			return nil, err
		}
		for i, o := range ops {
			out[i].Val = BitFieldGetValue(v, o.Offset, o.Bits, o.Signed)
		}
		return out, nil
	}
	err := ks.writeBits(dbi, key, maxBit, "setbit", func(w *bitString, grown bool) int {
		changes := 0
		for i, o := range ops {
			if o.Op == BitFieldGet {
				out[i].Val = BitFieldGetValue(w.b, o.Offset, o.Bits, o.Signed)
				continue
			}
			old := getBits(w.b, o.Offset, o.Bits)
			var prev, next uint64 // the values as Redis compares them, 64-bit
			var overflow bool
			if o.Signed {
				oldv := signExtend(old, o.Bits)
				var nv int64
				if o.Op == BitFieldIncrBy {
					nv, overflow = signedOverflow(oldv, o.Value, o.Bits, o.Overflow)
					out[i].Val = nv
				} else {
					nv, overflow = signedOverflow(o.Value, 0, o.Bits, o.Overflow)
					out[i].Val = oldv
				}
				prev, next = uint64(oldv), uint64(nv)
			} else {
				if o.Op == BitFieldIncrBy {
					next, overflow = unsignedOverflow(old, o.Value, o.Bits, o.Overflow)
					out[i].Val = int64(next)
				} else {
					next, overflow = unsignedOverflow(uint64(o.Value), 0, o.Bits, o.Overflow)
					out[i].Val = int64(old)
				}
				prev = old
			}
			if overflow && o.Overflow == OverflowFail {
				out[i] = BitFieldResult{Nil: true}
				continue
			}
			if grown || prev != next { // else the bits are those stored
				setBits(w.own(), o.Offset, o.Bits, next)
				changes++
			}
		}
		return changes
	})
	return out, err
}

// BitFieldGetValue reads a bits-wide integer at bit offset of v, as
// BITFIELD GET does; bits past v's end read as zero.
func BitFieldGetValue(v []byte, offset uint64, width int, signed bool) int64 {
	u := getBits(v, offset, width)
	if signed {
		return signExtend(u, width)
	}
	return int64(u)
}

// getBits reads width bits at offset, most significant first, zero past
// the end of v.
func getBits(v []byte, offset uint64, width int) uint64 {
	var u uint64
	for j := range uint64(width) {
		u = u<<1 | uint64(bitAt(v, offset+j))
	}
	return u
}

// setBits writes the low width bits of u at offset; v must hold them.
func setBits(v []byte, offset uint64, width int, u uint64) {
	for j := range uint64(width) {
		o := offset + j
		mask := byte(0x80) >> (o & 7)
		if u>>(uint64(width)-1-j)&1 != 0 {
			v[o>>3] |= mask
		} else {
			v[o>>3] &^= mask
		}
	}
}

func signExtend(u uint64, width int) int64 {
	if width < 64 && u&(1<<(width-1)) != 0 {
		u |= math.MaxUint64 << width
	}
	return int64(u)
}

// unsignedOverflow adds incr to value for a width-bit unsigned field and
// reports whether it overflowed; the result is then wrapped or saturated
// per ow (meaningless for OverflowFail). As in Redis, a SET value is
// passed with incr 0, so a negative one counts as a huge unsigned value.
func unsignedOverflow(value uint64, incr int64, width int, ow Overflow) (uint64, bool) {
	maxv := uint64(1)<<width - 1 // width <= 63
	maxIncr := int64(maxv - value)
	minIncr := -int64(value)
	switch {
	case value > maxv || incr > 0 && incr > maxIncr:
		if ow == OverflowSat {
			return maxv, true
		}
	case incr < 0 && incr < minIncr:
		if ow == OverflowSat {
			return 0, true
		}
	default:
		return value + uint64(incr), false
	}
	return (value + uint64(incr)) & maxv, true
}

// signedOverflow is unsignedOverflow for a width-bit two's complement
// field. The conditions are Redis's checkSignedBitfieldOverflow's, with
// its wrapping arithmetic: SET i8 -9223372036854775808 with SAT gives 127
// there, and so here.
func signedOverflow(value, incr int64, width int, ow Overflow) (int64, bool) {
	maxv := int64(math.MaxInt64)
	if width < 64 {
		maxv = 1<<(width-1) - 1
	}
	minv := -maxv - 1
	maxIncr := int64(uint64(maxv) - uint64(value))
	minIncr := minv - value
	switch {
	case value > maxv || width != 64 && incr > maxIncr || value >= 0 && incr > 0 && incr > maxIncr:
		if ow == OverflowSat {
			return maxv, true
		}
	case value < minv || width != 64 && incr < minIncr || value < 0 && incr < 0 && incr < minIncr:
		if ow == OverflowSat {
			return minv, true
		}
	default:
		return value + incr, false
	}
	c := uint64(value) + uint64(incr)
	if width < 64 {
		mask := uint64(math.MaxUint64) << width
		if c&(1<<(width-1)) != 0 {
			c |= mask
		} else {
			c &^= mask
		}
	}
	return int64(c), true
}
