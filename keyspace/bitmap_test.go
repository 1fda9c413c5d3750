package keyspace

import (
	"math"
	"math/big"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
)

// The bit math against naive bit-at-a-time references, over random
// strings and ranges, and the keyspace operations' effects.

func refBit(v []byte, i int64) int { return int(v[i/8]>>(7-i%8)) & 1 }

// refRange is Redis's range normalization, written out plainly.
func refRange(n int, start, end int64, isBit bool) (int64, int64) {
	total := int64(n)
	if isBit {
		total *= 8
	}
	if start < 0 {
		start = total + start
	}
	if end < 0 {
		end = total + end
	}
	if start < 0 {
		start = 0
	}
	if end < 0 {
		end = 0
	}
	if end >= total {
		end = total - 1
	}
	return start, end
}

func refCount(v []byte, start, end int64, isBit bool) int64 {
	if start < 0 && end < 0 && start > end {
		return 0
	}
	start, end = refRange(len(v), start, end, isBit)
	if start > end {
		return 0
	}
	if !isBit {
		start, end = start*8, end*8+7
	}
	var n int64
	for i := start; i <= end; i++ {
		n += int64(refBit(v, i))
	}
	return n
}

func refPos(v []byte, bit int, start, end int64, endGiven, isBit bool) int64 {
	start, end = refRange(len(v), start, end, isBit)
	if start > end {
		return -1
	}
	if !isBit {
		start, end = start*8, end*8+7
	}
	for i := start; i <= end; i++ {
		if refBit(v, i) == bit {
			return i
		}
	}
	if bit == 1 || endGiven {
		return -1
	}
	return end + 1 // the end is a byte's last bit here
}

func randBitmap(r *rand.Rand) []byte {
	v := make([]byte, r.IntN(40))
	for i := range v {
		switch r.IntN(4) {
		case 0:
			v[i] = 0
		case 1:
			v[i] = 0xff
		default:
			v[i] = byte(r.Uint32())
		}
	}
	return v
}

func randIndex(r *rand.Rand) int64 {
	if r.IntN(20) == 0 {
		return []int64{math.MaxInt64, math.MinInt64, 0, -1}[r.IntN(4)]
	}
	return int64(r.IntN(700) - 350)
}

func TestBitCountAndPosMatchReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 200000 {
		v := randBitmap(r)
		start, end, isBit := randIndex(r), randIndex(r), r.IntN(2) == 0
		require.Equal(t, refCount(v, start, end, isBit), BitCount(v, start, end, isBit), "%x %d %d %v", v, start, end, isBit)
		bit, endGiven := r.IntN(2), r.IntN(2) == 0 || isBit // BIT needs an end
		require.Equal(t, refPos(v, bit, start, end, endGiven, isBit), BitPos(v, bit, start, end, endGiven, isBit),
			"%x bit %d %d %d endGiven %v isBit %v", v, bit, start, end, endGiven, isBit)
	}
	require.Equal(t, int64(26), BitCount([]byte("foobar"), 0, -1, false))
	require.Equal(t, int64(17), BitCount([]byte("foobar"), 5, 30, true))
	require.Equal(t, int64(12), BitPos([]byte{0xff, 0xf0, 0}, 0, 0, -1, false, false))
	require.Equal(t, int64(16), BitPos([]byte{0xff, 0xff}, 0, 0, -1, false, false)) // past the end: zero padding
	require.Equal(t, int64(-1), BitPos([]byte{0xff, 0xff}, 0, 0, -1, true, false))
	require.Equal(t, int64(-1), BitPos(nil, 0, 0, -1, false, false))
}

func TestPopcountWords(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 1000 {
		v := randBitmap(r)
		var n int64
		for i := range int64(len(v)) * 8 {
			n += int64(refBit(v, i))
		}
		require.Equal(t, n, Popcount(v))
	}
}

func TestBitOpMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 5000 {
		op := BitOpKind(r.IntN(4))
		n := 1
		if op != BitNot {
			n += r.IntN(4)
		}
		srcs := make([][]byte, n)
		maxLen := 0
		for i := range srcs {
			srcs[i] = randBitmap(r)
			maxLen = max(maxLen, len(srcs[i]))
		}
		if maxLen == 0 {
			continue
		}
		got := bitOp(op, srcs, maxLen)
		for j := range maxLen {
			at := func(s []byte) byte {
				if j < len(s) {
					return s[j]
				}
				return 0
			}
			want := at(srcs[0])
			for _, s := range srcs[1:] {
				switch op {
				case BitAnd:
					want &= at(s)
				case BitOr:
					want |= at(s)
				case BitXor:
					want ^= at(s)
				}
			}
			if op == BitNot {
				want = ^want
			}
			require.Equal(t, want, got[j], "op %d byte %d of %x", op, j, srcs)
		}
	}
}

// TestBitfieldOverflowReference checks the in-range results against
// exact arithmetic: a result that fits is the sum; WRAP is the sum
// modulo 2^width; SAT clamps.
func TestBitfieldOverflowReference(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for range 200000 {
		width := 1 + r.IntN(64)
		signed := width == 64 || r.IntN(2) == 0
		lo, hi := new(big.Int), new(big.Int)
		if signed {
			lo.Lsh(big.NewInt(-1), uint(width-1))
			hi.Lsh(big.NewInt(1), uint(width-1))
		} else {
			hi.Lsh(big.NewInt(1), uint(width))
		}
		hi.Sub(hi, big.NewInt(1))
		mod := new(big.Int).Lsh(big.NewInt(1), uint(width))
		// A value in range and any increment: INCRBY's case.
		u := r.Uint64()
		if width < 64 {
			u &= 1<<width - 1
		}
		incr := int64(r.Uint64())
		if r.IntN(2) == 0 {
			incr = int64(r.IntN(1000) - 500)
		}
		var value *big.Int
		if signed {
			value = big.NewInt(signExtend(u, width))
		} else {
			value = new(big.Int).SetUint64(u)
		}
		sum := new(big.Int).Add(value, big.NewInt(incr))
		fits := sum.Cmp(lo) >= 0 && sum.Cmp(hi) <= 0
		wrapped := new(big.Int).Sub(sum, lo)
		wrapped.Mod(wrapped, mod).Add(wrapped, lo)
		sat := sum
		if sum.Cmp(lo) < 0 {
			sat = lo
		} else if sum.Cmp(hi) > 0 {
			sat = hi
		}
		for _, ow := range []Overflow{OverflowWrap, OverflowSat, OverflowFail} {
			var got *big.Int
			var over bool
			if signed {
				n, o := signedOverflow(value.Int64(), incr, width, ow)
				got, over = big.NewInt(n), o
			} else {
				n, o := unsignedOverflow(u, incr, width, ow)
				got, over = new(big.Int).SetUint64(n), o
			}
			require.Equal(t, !fits, over, "width %d signed %v %v+%d", width, signed, value, incr)
			switch {
			case fits:
				require.Zero(t, got.Cmp(sum))
			case ow == OverflowWrap:
				require.Zero(t, got.Cmp(wrapped), "wrap width %d signed %v %v+%d: %v", width, signed, value, incr, got)
			case ow == OverflowSat:
				require.Zero(t, got.Cmp(sat), "sat width %d signed %v %v+%d: %v", width, signed, value, incr, got)
			}
		}
	}
	// Redis's quirk, kept: its signed check wraps, so SET i8 with the
	// most negative int64 saturates to the maximum.
	n, over := signedOverflow(math.MinInt64, 0, 8, OverflowSat)
	require.True(t, over)
	require.Equal(t, int64(127), n)
}

func TestGetSetBits(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for range 20000 {
		v := randBitmap(r)
		v = append(v, make([]byte, 9)...)
		width := 1 + r.IntN(64)
		off := uint64(r.IntN((len(v) - 8) * 8))
		val := r.Uint64()
		before := append([]byte(nil), v...)
		setBits(v, off, width, val)
		mask := uint64(math.MaxUint64)
		if width < 64 {
			mask = 1<<width - 1
		}
		require.Equal(t, val&mask, getBits(v, off, width))
		for i := range int64(len(v)) * 8 { // no other bit moved
			if uint64(i) < off || uint64(i) >= off+uint64(width) {
				require.Equal(t, refBit(before, i), refBit(v, i))
			}
		}
	}
	require.Equal(t, int64(-1), BitFieldGetValue([]byte{0xff}, 0, 8, true))
	require.Equal(t, int64(0xf0), BitFieldGetValue([]byte{0x0f, 0x00}, 4, 8, false))
	require.Equal(t, int64(0), BitFieldGetValue([]byte{0xff}, 8, 64, true)) // past the end
}

func TestSetBitKeyspace(t *testing.T) {
	ks, _, _ := newTestKeyspace(t)
	before := ks.UsedMemory()
	old, err := ks.SetBit(0, []byte("k"), 8*1000+1, true)
	require.NoError(t, err)
	require.Zero(t, old)
	v, ok, _ := ks.Get(0, []byte("k"))
	require.True(t, ok)
	require.Len(t, v, 1001)
	require.Equal(t, byte(0x40), v[1000])
	require.GreaterOrEqual(t, ks.UsedMemory()-before, int64(1001), "the string's bytes are accounted")

	dirty := ks.Dirty()
	old, err = ks.SetBit(0, []byte("k"), 8*1000+1, true)
	require.NoError(t, err)
	require.Equal(t, 1, old)
	require.Equal(t, dirty, ks.Dirty(), "no change, no dirty")
	v2, _, _ := ks.Get(0, []byte("k"))
	require.Equal(t, &v[0], &v2[0], "no change, no copy stored")

	old, err = ks.SetBit(0, []byte("k"), 8*1000+1, false)
	require.NoError(t, err)
	require.Equal(t, 1, old)
	require.Equal(t, dirty+1, ks.Dirty())
	require.Equal(t, byte(0x40), v[1000], "a reader's earlier value is not changed under it")
	b, err := ks.GetBit(0, []byte("k"), 8*1000+1)
	require.NoError(t, err)
	require.Zero(t, b)

	_, err = ks.SAdd(0, []byte("s"), [][]byte{[]byte("m")})
	require.NoError(t, err)
	_, err = ks.SetBit(0, []byte("s"), 1, true)
	require.ErrorIs(t, err, ErrWrongType)
	_, err = ks.BitField(0, []byte("s"), nil)
	require.ErrorIs(t, err, ErrWrongType)
	_, err = ks.BitOp(0, BitOr, []byte("d"), [][]byte{[]byte("k"), []byte("s")})
	require.ErrorIs(t, err, ErrWrongType)
	_, err = ks.SetBit(0, []byte("big"), 8<<20, true) // 1 MiB
	require.NoError(t, err)
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	for range 10 {
		_, err = ks.SetBit(0, []byte("big"), 8<<20, true)
		require.NoError(t, err)
	}
	runtime.ReadMemStats(&m1)
	require.Less(t, m1.TotalAlloc-m0.TotalAlloc, uint64(1<<20), "a SETBIT that changes nothing copies nothing")
}

func TestBitFieldKeyspace(t *testing.T) {
	ks, _, _ := newTestKeyspace(t)
	key := []byte("f")
	res, err := ks.BitField(0, key, []BitFieldOp{{Op: BitFieldGet, Bits: 8, Offset: 100}})
	require.NoError(t, err)
	require.Equal(t, []BitFieldResult{{}}, res)
	require.Equal(t, KindNone, ks.Type(0, key), "a read does not create the key")

	// Every write FAILs, yet the key is created, zero-filled, as in Redis.
	dirty := ks.Dirty()
	res, err = ks.BitField(0, key, []BitFieldOp{{Op: BitFieldIncrBy, Bits: 2, Offset: 10, Value: 9, Overflow: OverflowFail}})
	require.NoError(t, err)
	require.Equal(t, []BitFieldResult{{Nil: true}}, res)
	v, ok, _ := ks.Get(0, key)
	require.True(t, ok)
	require.Equal(t, []byte{0, 0}, v)
	require.Equal(t, dirty, ks.Dirty())

	res, err = ks.BitField(0, key, []BitFieldOp{
		{Op: BitFieldSet, Signed: true, Bits: 8, Offset: 0, Value: 100},
		{Op: BitFieldIncrBy, Signed: true, Bits: 8, Offset: 0, Value: 100},
		{Op: BitFieldIncrBy, Bits: 4, Offset: 8, Value: 100, Overflow: OverflowSat},
		{Op: BitFieldGet, Bits: 16, Offset: 0},
		{Op: BitFieldSet, Bits: 4, Offset: 8, Value: 15},
	})
	require.NoError(t, err)
	require.Equal(t, []BitFieldResult{{Val: 0}, {Val: -56}, {Val: 15}, {Val: 0xc8f0}, {Val: 15}}, res)
	require.Equal(t, dirty+3, ks.Dirty(), "one per changing write (the last SET wrote the same value)")

	// A BITFIELD that writes the bits already there stores nor copies anything.
	v, _, _ = ks.Get(0, key)
	res, err = ks.BitField(0, key, []BitFieldOp{
		{Op: BitFieldSet, Bits: 16, Offset: 0, Value: 0xc8f0},
		{Op: BitFieldIncrBy, Bits: 4, Offset: 8, Value: 0},
	})
	require.NoError(t, err)
	require.Equal(t, []BitFieldResult{{Val: 0xc8f0}, {Val: 15}}, res)
	v2, _, _ := ks.Get(0, key)
	require.Equal(t, &v[0], &v2[0], "no change, no copy stored")
	require.Equal(t, dirty+3, ks.Dirty())
	_, err = ks.SetBit(0, []byte("big"), 8<<20, true) // 1 MiB
	require.NoError(t, err)
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	for range 10 {
		_, err = ks.BitField(0, []byte("big"), []BitFieldOp{{Op: BitFieldSet, Bits: 8, Offset: 8 << 20, Value: 0x80}})
		require.NoError(t, err)
	}
	runtime.ReadMemStats(&m1)
	require.Less(t, m1.TotalAlloc-m0.TotalAlloc, uint64(1<<20), "a BITFIELD SET that changes nothing copies nothing")
}

func TestBitOpKeyspace(t *testing.T) {
	ks, _, _ := newTestKeyspace(t)
	_, err := ks.Set(0, []byte("a"), []byte("foobar"), SetArgs{})
	require.NoError(t, err)
	_, err = ks.Set(0, []byte("d"), []byte("x"), SetArgs{Deadline: ks.NowMs() + 100000})
	require.NoError(t, err)
	n, err := ks.BitOp(0, BitNot, []byte("d"), [][]byte{[]byte("a")})
	require.NoError(t, err)
	require.Equal(t, 6, n)
	v, _, _ := ks.Get(0, []byte("d"))
	require.Equal(t, []byte{^byte('f'), ^byte('o'), ^byte('o'), ^byte('b'), ^byte('a'), ^byte('r')}, v)
	dl, _ := ks.Deadline(0, []byte("d"))
	require.Equal(t, int64(-1), dl, "the result has no TTL")
	n, err = ks.BitOp(0, BitAnd, []byte("d"), [][]byte{[]byte("none")})
	require.NoError(t, err)
	require.Zero(t, n)
	require.Equal(t, KindNone, ks.Type(0, []byte("d")), "an empty result deletes the destination")
}
