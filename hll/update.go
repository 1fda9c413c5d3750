package hll

import "errors"

// buf is a value being updated. It mirrors the Redis string (sds) the C
// code edits in place: b[:n] is the value and b[n] always exists, reading
// as the terminator, because Redis's sparse update may read or write it.
type buf struct {
	b []byte
	n int
}

func newBuf(v []byte) *buf {
	b := make([]byte, len(v)+8)
	copy(b, v)
	return &buf{b: b, n: len(v)}
}

// room makes sure b holds at least extra bytes past the terminator
// (sdsMakeRoomFor).
func (h *buf) room(extra int) {
	if len(h.b) < h.n+1+extra {
		nb := make([]byte, h.n+1+extra+h.n/4)
		copy(nb, h.b)
		h.b = nb
	}
}

// setLen changes the length by delta and rewrites the terminator
// (sdsIncrLen).
func (h *buf) setLen(delta int) {
	h.n += delta
	h.room(0)
	h.b[h.n] = 0
}

func (h *buf) bytes() []byte { return h.b[:h.n:h.n] }

func (h *buf) dense() bool { return h.b[4] == encDense }

// toDense converts a sparse value to dense (hllSparseToDense), keeping the
// header's other bytes. It returns false, leaving h alone, if the sparse
// opcodes do not cover exactly the registers.
func (h *buf) toDense() bool {
	if h.dense() {
		return true
	}
	d := make([]byte, DenseSize+1)
	copy(d, h.b[:HeaderSize])
	d[4] = encDense
	regs := d[HeaderSize:]
	v := h.b[:h.n+1] // the terminator is readable, as in Redis
	idx := 0
	for p := HeaderSize; p < h.n; {
		n, oplen, x := op(v, p)
		if idx+n > Registers {
			return false // a run past the last register
		}
		if x > 0 {
			for j := idx; j < idx+n; j++ {
				denseSet(regs, j, x)
			}
		}
		idx += n
		p += oplen
	}
	if idx != Registers {
		return false
	}
	h.b, h.n = d, DenseSize
	return true
}

// denseSetMax raises register i to x if lower, reporting a change.
func (h *buf) denseSetMax(i int, x uint8) bool {
	regs := h.b[HeaderSize:]
	if x > denseGet(regs, i) {
		denseSet(regs, i, x)
		return true
	}
	return false
}

// sparseSet raises register index to count if lower (hllSparseSet): 1 if
// it changed, 0 if not, -1 if the value is damaged. It may promote the
// value to dense: for a count over 32, or when the update would make it
// longer than sparseMax bytes.
func (h *buf) sparseSet(index int, count uint8, sparseMax int) int {
	if count > maxVal {
		return h.promote(index, count)
	}
	h.room(3)
	b := h.b
	end := h.n
	// Step 1: find the opcode covering index.
	p, first, span, oplen, prev := HeaderSize, 0, 0, 0, -1
	for p < end {
		span, oplen, _ = op(b, p)
		if index <= first+span-1 {
			break
		}
		prev = p
		p += oplen
		first += span
	}
	if span == 0 || p >= end {
		return -1
	}
	c := b[p]
	next := p + oplen
	if next >= end {
		next = -1
	}
	// Step 2: the cases that change one byte in place.
	if isVal(c) {
		old := uint8(valValue(c))
		if old >= count {
			return 0
		}
		if span == 1 {
			b[p] = valOp(int(count), 1)
			return h.sparseMerge(prev, end)
		}
	}
	if isZero(c) && span == 1 {
		b[p] = valOp(int(count), 1)
		return h.sparseMerge(prev, end)
	}
	// The general case: split the opcode around index.
	var seq [5]byte
	n := 0
	last := first + span - 1
	if !isVal(c) {
		zeros := func(l int) {
			if l > maxZeroRun {
				seq[n], seq[n+1] = byte((l-1)>>8)|0x40, byte(l-1)
				n += 2
			} else {
				seq[n] = byte(l - 1)
				n++
			}
		}
		if index != first {
			zeros(index - first)
		}
		seq[n] = valOp(int(count), 1)
		n++
		if index != last {
			zeros(last - index)
		}
	} else {
		cur := valValue(c)
		if index != first {
			seq[n] = valOp(cur, index-first)
			n++
		}
		seq[n] = valOp(int(count), 1)
		n++
		if index != last {
			seq[n] = valOp(cur, last-index)
			n++
		}
	}
	// Step 3: put the sequence in place of the old opcode.
	delta := n - oplen
	if delta > 0 && h.n+delta > sparseMax {
		return h.promote(index, count)
	}
	if delta != 0 && next >= 0 {
		copy(b[next+delta:], b[next:end])
	}
	h.setLen(delta)
	copy(h.b[p:], seq[:n]) // with a cut XZERO this overwrites the terminator, as in Redis
	return h.sparseMerge(prev, end+delta)
}

// sparseMerge joins adjacent VAL opcodes of equal value, scanning a few
// opcodes from prev (the one before the change), then marks the cache
// stale; it ends every successful sparse update.
func (h *buf) sparseMerge(prev, end int) int {
	b := h.b
	p := prev
	if p < 0 {
		p = HeaderSize
	}
	for scan := 5; p < end && scan > 0; {
		scan--
		c := b[p]
		if isXZero(c) {
			p += 2
			continue
		}
		if isZero(c) {
			p++
			continue
		}
		if p+1 < end && isVal(b[p+1]) {
			v1, v2 := valValue(c), valValue(b[p+1])
			if v1 == v2 {
				if l := valLen(c) + valLen(b[p+1]); l <= maxValRun {
					b[p+1] = valOp(v1, l)
					copy(b[p:end], b[p+1:end+1])
					h.setLen(-1)
					end--
					continue
				}
			}
		}
		p++
	}
	InvalidateCache(h.b)
	return 1
}

// promote converts to dense and sets the register there.
func (h *buf) promote(index int, count uint8) int {
	if !h.toDense() {
		return -1
	}
	h.denseSetMax(index, count) // always a change: sparse registers are lower
	return 1
}

// set raises register index to count in either encoding (what PFADD and
// PFMERGE do per register).
func (h *buf) set(index int, count uint8, sparseMax int) int {
	if h.dense() {
		if h.denseSetMax(index, count) {
			return 1
		}
		return 0
	}
	return h.sparseSet(index, count, sparseMax)
}

// wouldRaise reports whether setting register index to count could change
// v (which passed IsHLL): false only when the register already holds at
// least count. A damaged value answers true, so that the caller takes the
// path that reports it.
func wouldRaise(v []byte, index int, count uint8) bool {
	if v[4] == encDense {
		return count > denseGet(v[HeaderSize:], index)
	}
	if count > maxVal {
		return true
	}
	first := 0
	for p := HeaderSize; p < len(v); {
		span, oplen, x := op(v, p)
		if index <= first+span-1 {
			return x < count || x == 0
		}
		p += oplen
		first += span
	}
	return true
}

// Add adds elems to v, which must pass IsHLL, as PFADD does, and returns
// the new value and how many elements changed a register. When none would,
// v itself is returned and nothing is copied. Otherwise the result is a new
// slice; the cached cardinality is not touched here (PFADD marks it stale
// when anything changed, see InvalidateCache). On a damaged value it
// returns ErrCorrupt together with the value as far as Redis got, which
// Redis keeps.
func Add(v []byte, elems [][]byte, sparseMax int) ([]byte, int, error) {
	type reg struct {
		i int
		c uint8
	}
	var small [16]reg
	regs := small[:0]
	raise := false
	for _, e := range elems {
		i, c := patLen(e)
		regs = append(regs, reg{i, c})
		raise = raise || wouldRaise(v, i, c)
	}
	if !raise {
		return v, 0, nil
	}
	h := newBuf(v)
	changed := 0
	for _, r := range regs {
		switch h.set(r.i, r.c, sparseMax) {
		case 1:
			changed++
		case -1:
			return h.bytes(), changed, ErrCorrupt
		}
	}
	return h.bytes(), changed, nil
}

// Merged is PFMERGE's result: dst (the destination's value, or New() if
// it is absent; it must pass IsHLL and is not modified) with every register
// raised to r's, made dense first if dense is set (some source was dense),
// cache marked stale.
func Merged(dst []byte, r *Regs, dense bool, sparseMax int) ([]byte, error) {
	h := newBuf(dst)
	if dense && !h.toDense() {
		return nil, ErrCorrupt
	}
	for i, x := range r {
		if x != 0 {
			h.set(i, x, sparseMax) // Redis ignores a failure here too
		}
	}
	InvalidateCache(h.b)
	return h.bytes(), nil
}

// Validate reports whether v is an HLL that every command accepts: the
// header (IsHLL) and, if sparse, opcodes covering exactly the registers as
// PFCOUNT checks them.
func Validate(v []byte) error {
	if !IsHLL(v) {
		return errors.New("hll: not an HLL value")
	}
	if _, ok := Count(v); !ok {
		return ErrCorrupt
	}
	return nil
}
