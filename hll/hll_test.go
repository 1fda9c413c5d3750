package hll

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// pfadd is PFADD on a value (nil: absent key), as keyspace does it.
func pfadd(t testing.TB, v []byte, elems ...string) ([]byte, bool) {
	created := v == nil
	if created {
		v = New()
	}
	es := make([][]byte, len(elems))
	for i, e := range elems {
		es[i] = []byte(e)
	}
	out, n, err := Add(v, es, DefaultSparseMaxBytes)
	require.NoError(t, err)
	if n == 0 && !created {
		require.True(t, &out[0] == &v[0], "no change must not copy")
		return v, false
	}
	InvalidateCache(out)
	return out, true
}

// pfcount is single-key PFCOUNT: the cache, or a count written back.
func pfcount(t testing.TB, v []byte) ([]byte, uint64) {
	if c, ok := Cached(v); ok {
		return v, c
	}
	c, ok := Count(v)
	require.True(t, ok)
	return WithCache(v, c), c
}

func elems(from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf("e%d", i))
	}
	return out
}

func sum(v []byte) string {
	s := sha256.Sum256(v)
	return hex.EncodeToString(s[:])
}

// TestGoldenRedis compares with bytes and counts taken from redis-server
// 7.0.15 for the same commands (the resp package's tests compare with a
// live redis-server at length).
func TestGoldenRedis(t *testing.T) {
	v, _ := pfadd(t, nil, "x", "y", "z")
	require.Equal(t, "HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80a\x84\x80X\xcd\x88E\xa0\x84\b", string(v))
	v, c := pfcount(t, v)
	require.EqualValues(t, 3, c)
	require.Equal(t, "HYLL\x01\x00\x00\x00\x03\x00\x00\x00\x00\x00\x00\x00a\x84\x80X\xcd\x88E\xa0\x84\b", string(v))

	e, _ := pfadd(t, nil)
	require.Equal(t, "HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x7f\xff", string(e))

	var d []byte
	for i := 0; i < 10000; i += 100 {
		d, _ = pfadd(t, d, elems(i, i+100)...)
	}
	require.Len(t, d, DenseSize)
	require.Equal(t, "5f94be2c770f456ca505c757976fb27a6222332b042358459ecd3dd8cf30599b", sum(d))
	dc, c := pfcount(t, d)
	require.EqualValues(t, 9973, c)
	require.Equal(t, "c44e2d26f9f332c8f4369b82fc1a4a99449b59ddf9337f9680ccdd66872ca7b5", sum(dc))

	var s []byte
	for i := 0; i < 500; i += 50 {
		s, _ = pfadd(t, s, elems(i, i+50)...)
	}
	require.Len(t, s, 1068)
	require.Equal(t, "fdd072e10d5463ce86efc3f34c3589d3ce9200e38e8fa5b7ecfcbf996da4b2d5", sum(s))
	_, c = pfcount(t, s)
	require.EqualValues(t, 506, c)

	var r Regs
	require.True(t, r.Merge(s))
	require.True(t, r.Merge(d))
	require.EqualValues(t, 9973, r.Count())

	// PFMERGE m s: sparse stays sparse, the same bytes as s.
	var rs Regs
	require.True(t, rs.Merge(s))
	m, err := Merged(New(), &rs, false, DefaultSparseMaxBytes)
	require.NoError(t, err)
	require.Equal(t, sum(s), sum(m))
	// PFMERGE m2 s d: dense, d's bytes.
	m2, err := Merged(New(), &r, true, DefaultSparseMaxBytes)
	require.NoError(t, err)
	require.Equal(t, sum(d), sum(m2))
}

// registersOf decodes any valid value into its registers.
func registersOf(t testing.TB, v []byte) Regs {
	var r Regs
	require.True(t, r.Merge(v))
	return r
}

// TestSparseDenseAgree: the same elements give the same registers and the
// same count whatever the encoding and the sparse limit.
func TestSparseDenseAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 20 {
		n := 1 + rng.IntN(3000)
		var es [][]byte
		for range n {
			es = append(es, fmt.Appendf(nil, "%d-%d", round, rng.Uint64()))
		}
		sparse, _, err := Add(New(), es, 1<<30)
		require.NoError(t, err)
		dense := newBuf(New())
		require.True(t, dense.toDense())
		for _, e := range es {
			i, c := patLen(e)
			dense.set(i, c, 0)
		}
		rs, rd := registersOf(t, sparse), registersOf(t, dense.bytes())
		require.Equal(t, rs, rd)
		c1, ok1 := Count(sparse)
		c2, ok2 := Count(dense.bytes())
		require.True(t, ok1 && ok2)
		require.Equal(t, c1, c2)
		require.Equal(t, c1, rs.Count())
		// Converting the sparse value gives the dense bytes, header aside.
		h := newBuf(sparse)
		require.True(t, h.toDense())
		require.Equal(t, dense.bytes()[HeaderSize:], h.bytes()[HeaderSize:])
		// Small limits promote earlier, to the same registers.
		small, _, err := Add(New(), es, rng.IntN(200))
		require.NoError(t, err)
		require.Equal(t, rs, registersOf(t, small))
	}
}

// TestPromotion: a sparse value never grows past the limit; the update
// that would is made on a dense value.
func TestPromotion(t *testing.T) {
	for _, limit := range []int{0, 18, 100, 3000} {
		v := New()
		for i := 0; IsHLL(v) && !IsDense(v); i++ {
			require.LessOrEqual(t, len(v), max(18, limit))
			out, _, err := Add(v, [][]byte{fmt.Append(nil, "p", i)}, limit)
			require.NoError(t, err)
			v = out
			require.Less(t, i, 100000)
		}
		require.Len(t, v, DenseSize)
	}
}

// TestMurmur checks MurmurHash64A against values from its reference
// implementation (seed 0xadc83b19, as Redis uses it).
func TestMurmur(t *testing.T) {
	// Register and count of "x", "y", "z" follow from the golden sparse
	// bytes above; here every tail length is exercised for determinism
	// against a second, byte-at-a-time formulation.
	ref := func(data []byte, seed uint64) uint64 {
		const m = 0xc6a4a7935bd1e995
		h := seed ^ uint64(len(data))*m
		for len(data) >= 8 {
			var k uint64
			for i := 7; i >= 0; i-- {
				k = k<<8 | uint64(data[i])
			}
			k *= m
			k ^= k >> 47
			k *= m
			h = (h ^ k) * m
			data = data[8:]
		}
		if len(data) > 0 {
			var k uint64
			for i := len(data) - 1; i >= 0; i-- {
				k = k<<8 | uint64(data[i])
			}
			h = (h ^ k) * m
		}
		h ^= h >> 47
		h *= m
		return h ^ h>>47
	}
	for n := range 40 {
		b := bytes.Repeat([]byte{byte(n*7 + 1)}, n)
		require.Equal(t, ref(b, seed), murmur64A(b, seed), "len %d", n)
	}
}

// TestDamaged: Redis's verdicts on damaged sparse values.
func TestDamaged(t *testing.T) {
	hdr := []byte("HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00")
	short := append(bytes.Clone(hdr), 0x7f, 0xfe) // 16383 registers
	require.True(t, IsHLL(short))
	_, ok := Count(short)
	require.False(t, ok)
	var r Regs
	require.False(t, r.Merge(short))
	require.ErrorIs(t, Validate(short), ErrCorrupt)
	// A trailing VAL past the registers: rejected by every operation, as
	// the redis-server 7.0.15 tested against does.
	trail := append(bytes.Clone(hdr), 0x7f, 0xff, 0x80)
	_, ok = Count(trail)
	require.False(t, ok)
	require.False(t, r.Merge(trail))
	// No opcodes at all: PFADD fails.
	_, _, err := Add(hdr, [][]byte{[]byte("a")}, DefaultSparseMaxBytes)
	require.ErrorIs(t, err, ErrCorrupt)
	require.False(t, IsHLL(hdr[:15]))
	dense := make([]byte, DenseSize)
	copy(dense, "HYLL")
	require.True(t, IsHLL(dense))
	require.False(t, IsHLL(dense[:DenseSize-1]))
	bad := bytes.Clone(hdr)
	bad[4] = 2
	require.False(t, IsHLL(bad))
}

// FuzzHLL feeds arbitrary bytes, as SET or a snapshot may store them, to
// every operation: none may panic, results must be valid HLLs where the
// operation succeeded, and no output may exceed the dense size or the
// input's size plus a few bytes.
func FuzzHLL(f *testing.F) {
	f.Add(New(), []byte("a"), uint16(3000))
	v, _, _ := Add(New(), [][]byte{[]byte("x"), []byte("y")}, 3000)
	f.Add(v, []byte("z"), uint16(3))
	f.Add([]byte("HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x7f"), []byte("q"), uint16(3000))
	f.Add([]byte("HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x40\x00\x80\x81\x7f\xfc"), []byte("q"), uint16(10))
	f.Fuzz(func(t *testing.T, v, elem []byte, sparseMax uint16) {
		limit := max(len(v), int(sparseMax), DenseSize) + 8
		if len(v) >= 5 && len(v) < HeaderSize {
			v = append(v, make([]byte, HeaderSize-len(v))...)
		}
		if len(v) >= 4 {
			copy(v, "HYLL") // most inputs should get past the magic
			if len(v) > 4 && v[4] == encDense && len(v) != DenseSize {
				v[4] = encSparse
			}
		}
		_ = Validate(v)
		if !IsHLL(v) {
			return
		}
		orig := bytes.Clone(v)
		Count(v)
		var r Regs
		merged := r.Merge(v)
		r.Count()
		elem = bytes.Clone(elem) // the fuzzer's arguments may share memory
		elems := [][]byte{elem, append(bytes.Clone(elem), 'x'), []byte("fixed")}
		out, _, err := Add(v, elems, int(sparseMax))
		require.Equal(t, orig, v, "Add must not modify its input")
		require.LessOrEqual(t, len(out), limit)
		if err == nil {
			require.True(t, IsHLL(out))
		}
		if merged {
			m, err := Merged(v, &r, IsDense(v), int(sparseMax))
			require.NoError(t, err)
			require.LessOrEqual(t, len(m), limit)
			require.True(t, IsHLL(m))
			got := registersOf(t, m)
			require.Equal(t, r, got, "the merge must hold the merged registers")
			require.Equal(t, orig, v, "Merged must not modify its input")
		}
	})
}
