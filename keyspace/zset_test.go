package keyspace

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// zmodel is the obvious sorted set: a sorted slice.
type zmodel []zentry

func (m zmodel) find(member string) int {
	return slices.IndexFunc(m, func(e zentry) bool { return e.member == member })
}

func (m *zmodel) set(member string, score float64) bool {
	i := m.find(member)
	if i >= 0 {
		*m = slices.Delete(*m, i, i+1)
	}
	e := zentry{member: member, score: score}
	j, _ := slices.BinarySearchFunc(*m, e, func(a, t zentry) int {
		if zcompare(a, t) < 0 {
			return -1
		}
		return 1
	})
	*m = slices.Insert(*m, j, e)
	return i < 0
}

// checkZSet checks z's invariants (doc comment of zset) and that it holds
// exactly m.
func checkZSet(t *testing.T, z *zset, m zmodel) {
	t.Helper()
	require.Equal(t, len(m), z.len())
	var all []zentry
	var cbytes, mbytes int64
	for _, c := range z.chunks {
		require.NotEmpty(t, c)
		require.LessOrEqual(t, len(c), zchunkMax)
		cbytes += allocSize(cap(c) * zentryBytes)
		all = append(all, c...)
	}
	for _, e := range all {
		mbytes += allocSize(len(e.member))
	}
	require.Equal(t, append([]zentry(nil), m...), all)
	require.Equal(t, cbytes, z.cbytes)
	require.Equal(t, mbytes, z.mbytes)
	if z.index != nil {
		require.Len(t, z.index, len(m))
		for _, e := range m {
			require.Equal(t, e.score, z.index[e.member])
		}
	} else {
		require.LessOrEqual(t, len(z.chunks), 1, "a packed sorted set is one chunk")
	}
	for i, e := range m {
		r, _, ok := z.rank([]byte(e.member))
		require.True(t, ok)
		require.Equal(t, i, r)
	}
}

// TestZSetMatchesModel drives the chunked sorted set and a sorted slice
// with the same random operations (with many ties, so member order
// counts) and compares them after each.
func TestZSetMatchesModel(t *testing.T) {
	for _, size := range []int{20, 150, 1500} {
		t.Run(fmt.Sprint("members=", size), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(size), 7))
			z := &zset{}
			var m zmodel
			member := func() string { return fmt.Sprintf("m%d", rng.IntN(size)) }
			for step := range 4 * size {
				switch op := rng.IntN(10); {
				case op < 6:
					k := member()
					score := float64(rng.IntN(size/4+1)) / 2
					require.Equal(t, m.set(k, score), z.set([]byte(k), score))
				case op < 8:
					k := member()
					i := m.find(k)
					if i >= 0 {
						m = slices.Delete(m, i, i+1)
					}
					require.Equal(t, i >= 0, z.delete([]byte(k)))
				default:
					from := rng.IntN(len(m) + 1)
					to := from + rng.IntN(len(m)-from+1)
					if rng.IntN(4) == 0 { // small removals mostly
						require.Equal(t, to-from, z.removeRange(from, to))
						m = slices.Delete(m, from, to)
						to = min(to, len(m))
						from = min(from, to)
					}
					var got, rev []zentry
					z.each(from, to, false, func(e zentry) bool { got = append(got, e); return true })
					z.each(from, to, true, func(e zentry) bool { rev = append(rev, e); return true })
					want := append([]zentry(nil), m[from:to]...)
					require.Equal(t, want, append([]zentry(nil), got...), "step %d", step)
					slices.Reverse(want)
					require.Equal(t, want, append([]zentry(nil), rev...), "step %d", step)
				}
				if step%17 == 0 || size < 100 {
					checkZSet(t, z, m)
				}
			}
			checkZSet(t, z, m)
			checkZSet(t, z.clone(), m)
			checkZSet(t, zsetFromEntries(slices.Clone(m)), m)
			// count finds the first element at or above each bound.
			for _, e := range m {
				n := z.count(func(x zentry) bool { return x.score < e.score })
				require.Equal(t, slices.IndexFunc(m, func(x zentry) bool { return x.score >= e.score }), n)
			}
		})
	}
}

// TestZSetPackedLimits checks the conversion Redis makes to a skiplist:
// past 128 members, or on a member over 64 bytes, and not back.
func TestZSetPackedLimits(t *testing.T) {
	z := &zset{}
	for i := range maxPackedZMembers {
		z.set(fmt.Appendf(nil, "m%03d", i), float64(i))
	}
	require.Equal(t, "listpack", z.encoding())
	z.set([]byte("one more"), 1)
	require.Equal(t, "skiplist", z.encoding())
	z.removeRange(0, z.len()-1)
	require.Equal(t, "skiplist", z.encoding(), "a converted sorted set stays converted")

	z = &zset{}
	z.set([]byte("short"), 1)
	z.set(make([]byte, maxPackedZMember), 2)
	require.Equal(t, "listpack", z.encoding())
	z.set(make([]byte, maxPackedZMember+1), 3)
	require.Equal(t, "skiplist", z.encoding())
}

// BenchmarkZSet measures a sorted set of size elements: an update of a
// random member's score (remove and insert), a rank, and the first 100
// elements at or below a score, taken from the top (Spring Session's
// ZREVRANGEBYSCORE ... LIMIT 0 100).
func BenchmarkZSet(b *testing.B) {
	for _, size := range []int{100, 100_000} {
		z := &zset{}
		members := make([][]byte, size)
		for i := range members {
			members[i] = fmt.Appendf(nil, "sess:%032x", i)
			z.set(members[i], float64(1_700_000_000_000+i*1000))
		}
		rng := rand.New(rand.NewPCG(1, 2))
		b.Run(fmt.Sprint("op=update/size=", size), func(b *testing.B) {
			for range b.N {
				z.set(members[rng.IntN(size)], float64(1_700_000_000_000+rng.IntN(size)*1000))
			}
		})
		b.Run(fmt.Sprint("op=rank/size=", size), func(b *testing.B) {
			for range b.N {
				z.rank(members[rng.IntN(size)])
			}
		})
		b.Run(fmt.Sprint("op=revrange100/size=", size), func(b *testing.B) {
			r := ZRange{By: ZByScore, Rev: true, Min: ZBound{Score: 0}, Max: ZBound{Score: float64(1_700_000_000_000 + size*500)}, Count: 100}
			for range b.N {
				from, to := r.limited(r.span(z))
				n := 0
				z.each(from, to, true, func(zentry) bool { n++; return true })
			}
		})
	}
}
