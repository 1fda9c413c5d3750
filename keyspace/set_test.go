package keyspace

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func sortedMembers(s *set) []string {
	var out []string
	s.each(func(m []byte) bool { out = append(out, string(m)); return true })
	sort.Strings(out)
	return out
}

// TestSetMatchesMapModel drives packed and converted sets with random
// operations and checks them against a map after each one.
func TestSetMatchesMapModel(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed=%d", seed)
	r := rand.New(rand.NewPCG(seed, 7))
	for round := range 50 {
		s := &set{}
		model := map[string]bool{}
		universe := 20 + r.IntN(300) // some rounds cross maxPackedMembers
		for range 2000 {
			var m []byte
			switch r.IntN(10) {
			case 0:
				m = []byte{} // the empty member
			case 1:
				m = bytes.Repeat([]byte{byte(r.IntN(256))}, 60+r.IntN(10)) // around maxPackedMember
			default:
				m = []byte(fmt.Sprintf("sess:\x00%x", r.IntN(universe)))
			}
			if r.IntN(3) == 0 {
				assert.Equal(t, model[string(m)], s.remove(m), "round %d remove %q", round, m)
				delete(model, string(m))
			} else {
				assert.Equal(t, !model[string(m)], s.add(m), "round %d add %q", round, m)
				model[string(m)] = true
			}
			require.Equal(t, len(model), s.len())
			probe := []byte(fmt.Sprintf("sess:\x00%x", r.IntN(universe)))
			require.Equal(t, model[string(probe)], s.has(probe))
		}
		var want []string
		for k := range model {
			want = append(want, k)
		}
		sort.Strings(want)
		assert.Equal(t, want, sortedMembers(s))
		assert.Equal(t, want, sortedMembers(s.clone()))
	}
}

func TestSetEncodingThresholds(t *testing.T) {
	s := &set{}
	for i := range maxPackedMembers {
		s.add([]byte(fmt.Sprint(i)))
	}
	assert.Nil(t, s.big, "128 members stay packed, as in Redis")
	s.add([]byte("one more"))
	assert.NotNil(t, s.big, "the 129th member converts to a map")
	assert.Equal(t, maxPackedMembers+1, s.len())

	s = &set{}
	s.add(bytes.Repeat([]byte("x"), maxPackedMember))
	assert.Nil(t, s.big)
	s.add(bytes.Repeat([]byte("x"), maxPackedMember+1))
	assert.NotNil(t, s.big, "a member over 64 bytes converts to a map")
	assert.Equal(t, 2, s.len())
}

func TestSetCloneSharesNothing(t *testing.T) {
	s := newSetOf([][]byte{[]byte("a"), []byte("b")})
	c := s.clone()
	c.add([]byte("c"))
	c.remove([]byte("a"))
	assert.Equal(t, []string{"a", "b"}, sortedMembers(s))
	assert.Equal(t, []string{"b", "c"}, sortedMembers(c))
}

// BenchmarkSetMemory reports the live heap bytes of a 5-member session
// index set (members of 37 bytes, as sess:<32 hex>), packed against a Go
// map, measured over many retained sets.
func BenchmarkSetMemory(b *testing.B) {
	members := make([][]byte, 5)
	for i := range members {
		members[i] = []byte(fmt.Sprintf("sess:%032x", i))
	}
	const n = 20000
	live := func(build func() any) float64 {
		keep := make([]any, n)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for i := range keep {
			keep[i] = build()
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		runtime.KeepAlive(keep)
		return float64(after.HeapAlloc-before.HeapAlloc)/n - 16 // minus the interface slot
	}
	b.Run("enc=packed", func(b *testing.B) {
		for b.Loop() {
			b.ReportMetric(live(func() any { return newSetOf(members) }), "B/set")
		}
	})
	b.Run("enc=map", func(b *testing.B) {
		for b.Loop() {
			b.ReportMetric(live(func() any {
				m := map[string]struct{}{}
				for _, x := range members {
					m[string(x)] = struct{}{}
				}
				return m
			}), "B/set")
		}
	})
}

// BenchmarkPackedSetFind: looking a member up in a packed set of session
// ids that share their prefix (SADD's duplicate check), present or absent.
func BenchmarkPackedSetFind(b *testing.B) {
	for _, n := range []int{5, 50, 120} {
		var s set
		for i := range n {
			s.add([]byte(fmt.Sprintf("sess:%032x", i*7919)))
		}
		present := []byte(fmt.Sprintf("sess:%032x", (n-1)*7919))
		absent := []byte(fmt.Sprintf("sess:%032x", 1))
		b.Run(fmt.Sprintf("members=%d/hit=true", n), func(b *testing.B) {
			for b.Loop() {
				if s.find(present) < 0 {
					b.Fatal("not found")
				}
			}
		})
		b.Run(fmt.Sprintf("members=%d/hit=false", n), func(b *testing.B) {
			for b.Loop() {
				if s.find(absent) >= 0 {
					b.Fatal("found")
				}
			}
		})
	}
}

// TestPackedSetFindSharedTail: members that differ only before their last
// 8 bytes, or only in them, or in length, are told apart.
func TestPackedSetFindSharedTail(t *testing.T) {
	var s set
	members := []string{"a:12345678", "b:12345678", "a:12345679", "12345678", "x12345678", "", "a", "ab"}
	for _, m := range members {
		require.True(t, s.add([]byte(m)), m)
	}
	for _, m := range members {
		require.False(t, s.add([]byte(m)), m)
		require.True(t, s.has([]byte(m)), m)
	}
	for _, m := range []string{"c:12345678", "a:12345670", "2345678", "abc", "b"} {
		require.False(t, s.has([]byte(m)), m)
	}
	require.True(t, s.remove([]byte("b:12345678")))
	require.False(t, s.has([]byte("b:12345678")))
	require.True(t, s.has([]byte("a:12345678")))
	require.Equal(t, len(members)-1, s.len())
}

// TestSetReserveSizesANewSetExactly: a set made by one SADD of several
// members (or from a snapshot, newSetOf) is packed into one allocation of
// exactly the bytes it needs; one member at a time grows by a quarter.
func TestSetReserveSizesANewSetExactly(t *testing.T) {
	members := make([][]byte, 5)
	for i := range members {
		members[i] = []byte(fmt.Sprintf("sess:%032x", i))
	}
	s := newSetOf(append(members, members[0])) // a duplicate too
	assert.Equal(t, 5*38, len(s.packed))
	assert.Equal(t, 6*38, cap(s.packed), "one allocation, room for the six members given (a length byte and 37 bytes each)")
	s = newSetOf(members)
	assert.Equal(t, 5*38, cap(s.packed), "nothing to spare")

	var one set
	for _, m := range members {
		one.add(m)
	}
	assert.Equal(t, sortedMembers(s), sortedMembers(&one))
	assert.Greater(t, cap(one.packed), len(one.packed), "growing one member at a time leaves room for the next")

	// SADD sizes a new set the same way, and MEMORY USAGE follows.
	ks, err := New(Options{})
	require.NoError(t, err)
	n, err := ks.SAdd(0, []byte("user_sess:1"), members)
	require.NoError(t, err)
	assert.Equal(t, 5, n)
	for _, m := range members {
		_, err := ks.SAdd(0, []byte("user_sess:2"), [][]byte{m})
		require.NoError(t, err)
	}
	whole, ok := ks.Object(0, []byte("user_sess:1"))
	require.True(t, ok)
	grown, ok := ks.Object(0, []byte("user_sess:2"))
	require.True(t, ok)
	assert.Equal(t, allocSize(cap(one.packed))-allocSize(5*38), grown.Bytes-whole.Bytes)
}

// TestSAddOfPresentMembersChangesNothing: an SADD whose members are all
// there already neither grows the set nor leaves the accounting behind
// (it used to reserve room for them first).
func TestSAddOfPresentMembersChangesNothing(t *testing.T) {
	ks, err := New(Options{})
	require.NoError(t, err)
	members := make([][]byte, 5)
	for i := range members {
		members[i] = []byte(fmt.Sprintf("sess:%032x", i))
	}
	key := []byte("user_sess:1")
	_, err = ks.SAdd(0, key, members)
	require.NoError(t, err)
	used, before := ks.UsedMemory(), mustObject(t, ks, key).Bytes
	n, err := ks.SAdd(0, key, members)
	require.NoError(t, err)
	assert.Equal(t, 0, n)
	assert.Equal(t, before, mustObject(t, ks, key).Bytes, "MEMORY USAGE")
	assert.Equal(t, used, ks.UsedMemory(), "accounted memory")
}

func mustObject(t *testing.T, ks *Keyspace, key []byte) ObjectInfo {
	t.Helper()
	o, ok := ks.Object(0, key)
	require.True(t, ok)
	return o
}

// memberLen decodes the uvarint that packs a member's length, inline: one
// byte below 128, two up to 16383.
func TestMemberLen(t *testing.T) {
	for _, n := range []int{0, 1, 37, 64, 127, 128, 200, 16383} {
		p := append(binary.AppendUvarint(nil, uint64(n)), 'x')
		l, k := memberLen(p)
		require.Equal(t, n, l)
		require.Equal(t, len(p)-1, k)
	}
}

// TestEmptyMemberOfLargeSet: an empty member of a set in map form comes
// out as an empty slice, not nil, which the replies would write as a null.
func TestEmptyMemberOfLargeSet(t *testing.T) {
	ks, _, _ := newTestKeyspace(t)
	ms := [][]byte{{}}
	for i := range 130 {
		ms = append(ms, fmt.Appendf(nil, "m%d", i))
	}
	_, err := ks.SAdd(0, b("s"), ms)
	require.NoError(t, err)
	all, err := ks.SRandMember(0, b("s"), 200)
	require.NoError(t, err)
	require.Len(t, all, 131)
	for _, m := range all {
		require.NotNil(t, m)
	}
	got, err := ks.SScan(0, b("s"), []byte{})
	require.NoError(t, err)
	require.Equal(t, [][]byte{{}}, got)
}
