package hll

import (
	"errors"
	"math"
	"math/bits"
)

// Sizes and limits of the format (doc.go).
const (
	HeaderSize            = 16
	Registers             = 1 << 14
	DenseSize             = HeaderSize + Registers*6/8
	DefaultSparseMaxBytes = 3000 // hll-sparse-max-bytes

	encDense  = 0
	encSparse = 1

	maxVal     = 32 // largest value a sparse opcode holds
	maxValRun  = 4
	maxZeroRun = 64
	maxXZero   = Registers
	regQ       = 64 - 14 // hash bits left after the register index
	seed       = 0xadc83b19
)

// ErrCorrupt is a value whose header is an HLL's but whose sparse opcodes
// do not describe the registers (Redis's INVALIDOBJ).
var ErrCorrupt = errors.New("hll: corrupted value")

// New returns an empty HLL as PFADD creates it: sparse, one XZERO opcode
// covering every register, cached cardinality 0 (valid).
func New() []byte {
	b := make([]byte, HeaderSize+2)
	copy(b, "HYLL")
	b[4] = encSparse
	l := maxXZero - 1
	b[HeaderSize] = byte(l>>8) | 0x40
	b[HeaderSize+1] = byte(l)
	return b
}

// IsHLL reports whether v passes Redis's header check (isHLLObjectOrReply):
// magic, a known encoding, and the exact length if dense. A string that
// fails it gets WRONGTYPE.
func IsHLL(v []byte) bool {
	if len(v) < HeaderSize || string(v[:4]) != "HYLL" || v[4] > encSparse {
		return false
	}
	return v[4] != encDense || len(v) == DenseSize
}

// IsDense reports whether v (which passed IsHLL) is dense.
func IsDense(v []byte) bool { return v[4] == encDense }

// Cached returns the cached cardinality of v (which passed IsHLL) if it
// is valid.
func Cached(v []byte) (uint64, bool) {
	if v[15]&0x80 != 0 {
		return 0, false
	}
	var c uint64
	for i := 7; i >= 0; i-- {
		c = c<<8 | uint64(v[8+i])
	}
	return c, true
}

// WithCache returns a copy of v with card as its cached cardinality (what
// PFCOUNT writes back).
func WithCache(v []byte, card uint64) []byte {
	out := make([]byte, len(v))
	copy(out, v)
	for i := range 8 {
		out[8+i] = byte(card >> (8 * i))
	}
	return out
}

// InvalidateCache marks v's cached cardinality stale, in place.
func InvalidateCache(v []byte) { v[15] |= 0x80 }

// murmur64A is MurmurHash64A, reading 8-byte blocks little endian on every
// platform as Redis does.
func murmur64A(data []byte, seed uint64) uint64 {
	const m = 0xc6a4a7935bd1e995
	const r = 47
	h := seed ^ uint64(len(data))*m
	n := len(data) &^ 7
	for i := 0; i < n; i += 8 {
		k := uint64(data[i]) | uint64(data[i+1])<<8 | uint64(data[i+2])<<16 | uint64(data[i+3])<<24 |
			uint64(data[i+4])<<32 | uint64(data[i+5])<<40 | uint64(data[i+6])<<48 | uint64(data[i+7])<<56
		k *= m
		k ^= k >> r
		k *= m
		h ^= k
		h *= m
	}
	if tail := data[n:]; len(tail) > 0 {
		for i := len(tail) - 1; i >= 0; i-- {
			h ^= uint64(tail[i]) << (8 * i)
		}
		h *= m
	}
	h ^= h >> r
	h *= m
	h ^= h >> r
	return h
}

// patLen returns the register elem goes to and the value it proposes.
func patLen(elem []byte) (int, uint8) {
	h := murmur64A(elem, seed)
	idx := int(h & (Registers - 1))
	h = h>>14 | 1<<regQ // the set bit bounds the count at regQ+1
	return idx, uint8(bits.TrailingZeros64(h) + 1)
}

// at reads b[i], or 0 past the end (see doc.go on cut opcodes).
func at(b []byte, i int) byte {
	if i < len(b) {
		return b[i]
	}
	return 0
}

// Sparse opcode decoding.
func isZero(c byte) bool  { return c&0xc0 == 0 }
func isXZero(c byte) bool { return c&0xc0 == 0x40 }
func isVal(c byte) bool   { return c&0x80 != 0 }
func zeroLen(c byte) int  { return int(c&0x3f) + 1 }
func valLen(c byte) int   { return int(c&3) + 1 }
func valValue(c byte) int { return int(c>>2&0x1f) + 1 }
func xzeroLen(b []byte, p int) int {
	return (int(b[p]&0x3f)<<8 | int(at(b, p+1))) + 1
}
func valOp(v, n int) byte { return byte((v-1)<<2|(n-1)) | 0x80 }

// op decodes the sparse opcode at b[p]: the registers it covers, its
// length in bytes, and the value it gives them (0 for ZERO and XZERO).
func op(b []byte, p int) (n, oplen int, x uint8) {
	switch c := b[p]; {
	case isZero(c):
		return zeroLen(c), 1, 0
	case isXZero(c):
		return xzeroLen(b, p), 2, 0
	default:
		return valLen(c), 1, uint8(valValue(c))
	}
}

// denseGet reads register i of the dense registers regs (the value after
// its header); the byte after the last register reads as 0.
func denseGet(regs []byte, i int) uint8 {
	byt, fb := i*6/8, uint(i*6&7)
	b0, b1 := uint(regs[byt]), uint(at(regs, byt+1))
	return uint8((b0>>fb | b1<<(8-fb)) & 63)
}

// denseSet writes register i; regs must have a byte after the last register.
func denseSet(regs []byte, i int, v uint8) {
	byt, fb := i*6/8, uint(i*6&7)
	fb8 := 8 - fb
	regs[byt] &^= byte(63 << fb)
	regs[byt] |= byte(uint(v) << fb)
	regs[byt+1] &^= byte(63 >> fb8)
	regs[byt+1] |= byte(uint(v) >> fb8)
}

// Regs is an unpacked set of registers, one byte each, into which
// PFCOUNT of several keys and PFMERGE merge their sources.
type Regs [Registers]uint8

// Merge sets each register to the larger of its value and v's (hllMerge).
// v must pass IsHLL. It returns false if v is a damaged sparse value; r
// may then be partly updated.
func (r *Regs) Merge(v []byte) bool {
	if v[4] == encDense {
		regs := v[HeaderSize:]
		for i := range r {
			if x := denseGet(regs, i); x > r[i] {
				r[i] = x
			}
		}
		return true
	}
	i := 0
	for p := HeaderSize; p < len(v); {
		n, oplen, x := op(v, p)
		if i+n > Registers {
			return false // a run past the last register
		}
		for j := i; j < i+n; j++ {
			r[j] = max(r[j], x)
		}
		i += n
		p += oplen
	}
	return i == Registers
}

// Count estimates the cardinality of r (PFCOUNT of several keys).
func (r *Regs) Count() uint64 {
	var h [64]int
	for _, x := range r {
		h[x]++
	}
	return estimate(&h)
}

// Count computes v's cardinality from its registers, ignoring the cache
// (hllCount). v must pass IsHLL. ok is false for a damaged sparse value.
func Count(v []byte) (card uint64, ok bool) {
	var h [64]int
	if v[4] == encDense {
		regs := v[HeaderSize : HeaderSize+Registers*6/8]
		for i := 0; i < len(regs); i += 3 {
			b0, b1, b2 := regs[i], regs[i+1], regs[i+2]
			h[b0&63]++
			h[(b0>>6|b1<<2)&63]++
			h[(b1>>4|b2<<4)&63]++
			h[b2>>2]++
		}
		return estimate(&h), true
	}
	idx := 0
	for p := HeaderSize; p < len(v); {
		n, oplen, x := op(v, p)
		idx += n
		h[x] += n
		p += oplen
	}
	return estimate(&h), idx == Registers
}

// estimate is Ertl's improved estimator over a histogram of register
// values, as Redis's hllCount computes it, operation for operation (the
// conversions keep Go from fusing multiply-adds, which would change the
// rounding). Values above regQ+1, possible only in a damaged dense value,
// are ignored as in Redis.
func estimate(h *[64]int) uint64 {
	m := float64(Registers)
	z := m * tau((m-float64(h[regQ+1]))/m)
	for j := regQ; j >= 1; j-- {
		z += float64(h[j])
		z *= 0.5
	}
	z += float64(m * sigma(float64(h[0])/m))
	return llround(float64(float64(0.721347520444481703680*m)*m) / z)
}

func sigma(x float64) float64 {
	if x == 1 {
		return math.Inf(1)
	}
	y, z := 1.0, x
	for {
		x *= x
		prev := z
		z += float64(x * y)
		y += y
		if prev == z {
			return z
		}
	}
}

func tau(x float64) float64 {
	if x == 0 || x == 1 {
		return 0
	}
	y, z := 1.0, 1-x
	for {
		x = math.Sqrt(x)
		prev := z
		y *= 0.5
		d := 1 - x
		z -= float64(float64(d*d) * y)
		if prev == z {
			return z / 3
		}
	}
}

// llround is Redis's (uint64_t)(double)llroundl(e) on x86-64: half away
// from zero, and the x87 "integer indefinite" (1<<63) for infinity, NaN
// or anything out of int64 range.
func llround(e float64) uint64 {
	if !(e >= -(1<<63) && e < 1<<63) {
		return 1 << 63
	}
	return uint64(int64(math.Round(e)))
}
