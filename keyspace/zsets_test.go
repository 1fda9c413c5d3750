package keyspace

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func scoredStrings(es []Scored) []string {
	var out []string
	for _, e := range es {
		out = append(out, fmt.Sprintf("%s=%g", e.Member, e.Score))
	}
	return out
}

func TestZAddFlagsFollowRedis(t *testing.T) {
	ks, _, _ := newTestKeyspace(t)
	k := b("z")
	add := func(f ZAddFlags, m string, score float64) ZAddResult {
		t.Helper()
		res, err := ks.ZAdd(0, k, f, [][]byte{b(m)}, []float64{score})
		require.NoError(t, err)
		return res
	}
	res, err := ks.ZAdd(0, k, ZAddXX, [][]byte{b("a")}, []float64{1})
	require.NoError(t, err)
	assert.Equal(t, ZAddResult{}, res)
	assert.Equal(t, KindNone, ks.Type(0, k), "XX on a missing key creates nothing")

	assert.Equal(t, 1, add(0, "a", 1).Count)
	assert.Equal(t, 0, add(0, "a", 2).Count, "an update is not counted without CH")
	assert.Equal(t, 1, add(ZAddCH, "a", 3).Count)
	assert.Equal(t, 0, add(ZAddCH, "a", 3).Count, "the same score is no change")
	assert.Equal(t, 0, add(ZAddNX, "a", 10).Count)
	assert.Equal(t, 0, add(ZAddXX, "b", 10).Count)
	assert.Equal(t, 0, add(ZAddGT|ZAddCH, "a", 2).Count, "GT refuses a lower score")
	assert.Equal(t, 1, add(ZAddGT|ZAddCH, "a", 4).Count)
	assert.Equal(t, 0, add(ZAddLT|ZAddCH, "a", 5).Count, "LT refuses a higher score")
	assert.Equal(t, 1, add(ZAddLT|ZAddCH, "b", 5).Count, "GT and LT do not stop adding")

	r := add(ZAddIncr, "a", 1.5)
	assert.Equal(t, ZAddResult{Score: 5.5, Done: true}, r)
	assert.False(t, add(ZAddIncr|ZAddNX, "a", 1).Done, "NX INCR of an existing member is not done")
	assert.False(t, add(ZAddIncr|ZAddGT, "a", -1).Done)
	assert.Equal(t, ZAddResult{Score: 5.5, Done: true}, add(ZAddIncr, "a", 0), "an increment of 0 is done")

	add(0, "inf", math.Inf(1))
	_, err = ks.ZAdd(0, k, ZAddIncr, [][]byte{b("inf")}, []float64{math.Inf(-1)})
	require.ErrorIs(t, err, ErrZSetNaN)
	s, ok, err := ks.ZScores(0, k, [][]byte{b("inf"), b("nope")})
	require.NoError(t, err)
	assert.Equal(t, []float64{math.Inf(1), 0}, s)
	assert.Equal(t, []bool{true, false}, ok)

	_, err = ks.Set(0, b("str"), b("v"), SetArgs{})
	require.NoError(t, err)
	_, err = ks.ZAdd(0, b("str"), 0, [][]byte{b("a")}, []float64{1})
	require.ErrorIs(t, err, ErrWrongType)
}

func TestZRangeSelections(t *testing.T) {
	ks, _, _ := newTestKeyspace(t)
	k := b("z")
	_, err := ks.ZAdd(0, k, 0, [][]byte{b("a"), b("b"), b("c"), b("d"), b("e")}, []float64{1, 2, 2, 3, math.Inf(1)})
	require.NoError(t, err)
	get := func(r ZRange) []string {
		t.Helper()
		if r.Count == 0 {
			r.Count = -1
		}
		es, err := ks.ZRangeGet(0, k, r)
		require.NoError(t, err)
		return scoredStrings(es)
	}
	assert.Equal(t, []string{"a=1", "b=2", "c=2", "d=3", "e=+Inf"}, get(ZRange{Start: 0, Stop: -1}))
	assert.Equal(t, []string{"e=+Inf", "d=3"}, get(ZRange{Start: 0, Stop: 1, Rev: true}))
	assert.Equal(t, []string{"d=3"}, get(ZRange{Start: -2, Stop: -2}))
	assert.Empty(t, get(ZRange{Start: 3, Stop: 1}))
	assert.Empty(t, get(ZRange{Start: 5, Stop: 10}))
	assert.Equal(t, []string{"b=2", "c=2", "d=3"}, get(ZRange{By: ZByScore, Min: ZBound{Score: 1, Ex: true}, Max: ZBound{Score: 3}}))
	assert.Equal(t, []string{"c=2", "b=2"}, get(ZRange{By: ZByScore, Min: ZBound{Score: 1, Ex: true}, Max: ZBound{Score: 3, Ex: true}, Rev: true}))
	assert.Equal(t, []string{"c=2", "d=3"}, get(ZRange{By: ZByScore, Min: ZBound{Score: math.Inf(-1)}, Max: ZBound{Score: math.Inf(1)}, Offset: 2, Count: 2}))
	assert.Equal(t, []string{"d=3", "c=2"}, get(ZRange{By: ZByScore, Min: ZBound{Score: math.Inf(-1)}, Max: ZBound{Score: math.Inf(1)}, Offset: 1, Count: 2, Rev: true}))
	assert.Empty(t, get(ZRange{By: ZByScore, Min: ZBound{Score: math.Inf(-1)}, Max: ZBound{Score: math.Inf(1)}, Offset: -1, Count: 2}), "a negative offset selects nothing, as in Redis")
	assert.Equal(t, []string{"b=2", "c=2"}, get(ZRange{By: ZByLex, Min: ZBound{Member: b("b")}, Max: ZBound{Member: b("d"), Ex: true}}))
	assert.Equal(t, []string{"a=1", "b=2"}, get(ZRange{By: ZByLex, Min: ZBound{Inf: -1}, Max: ZBound{Member: b("b")}}))
	assert.Empty(t, get(ZRange{By: ZByLex, Min: ZBound{Inf: 1}, Max: ZBound{Inf: -1}}))

	n, err := ks.ZCount(0, k, ZRange{By: ZByScore, Min: ZBound{Score: 2}, Max: ZBound{Score: math.Inf(1)}})
	require.NoError(t, err)
	assert.Equal(t, 4, n)
	rank, score, ok, err := ks.ZRank(0, k, b("c"), true)
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, 2, rank)
	assert.Equal(t, 2.0, score)

	n, err = ks.ZRemRange(0, k, ZRange{Start: 1, Stop: 2})
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	assert.Equal(t, []string{"a=1", "d=3", "e=+Inf"}, get(ZRange{Start: 0, Stop: -1}))
	popped, err := ks.ZPop(0, k, true, 2)
	require.NoError(t, err)
	assert.Equal(t, []string{"e=+Inf", "d=3"}, scoredStrings(popped))
}

func TestZSetEvents(t *testing.T) {
	ks, err := New(Options{Stripes: 4})
	require.NoError(t, err)
	log := &eventLog{}
	ks.SetNotifier(log)
	k := b("z")
	_, err = ks.ZAdd(1, k, 0, [][]byte{b("a"), b("b")}, []float64{1, 2})
	require.NoError(t, err)
	_, err = ks.ZAdd(1, k, 0, [][]byte{b("a")}, []float64{1}) // no change: no event
	require.NoError(t, err)
	_, err = ks.ZAdd(1, k, ZAddIncr, [][]byte{b("a")}, []float64{1})
	require.NoError(t, err)
	_, err = ks.ZRem(1, k, [][]byte{b("zz")}) // nothing removed: no event
	require.NoError(t, err)
	_, err = ks.ZRangeStore(1, b("dst"), k, ZRange{Start: 0, Stop: -1})
	require.NoError(t, err)
	_, err = ks.ZPop(1, k, false, 5)
	require.NoError(t, err)
	_, err = ks.ZCombineStore(1, b("dst"), ZCombineArgs{Op: ZInter, Keys: [][]byte{k, b("dst")}})
	require.NoError(t, err)
	assert.Equal(t, KindNone, ks.Type(1, k), "no sorted set is stored empty")
	assert.Equal(t, []recordedEvent{
		{1, EventNew, "new", "z"},
		{1, EventZSet, "zadd", "z"},
		{1, EventZSet, "zincr", "z"},
		{1, EventNew, "new", "dst"},
		{1, EventZSet, "zrangestore", "dst"},
		{1, EventZSet, "zpopmin", "z"},
		{1, EventGeneric, "del", "z"},
		{1, EventGeneric, "del", "dst"}, // an empty intersection deletes dst
		{1, EventKeyMiss, "keymiss", "z"},
	}, log.ev)
}

func TestZSetWalkRestoreCopy(t *testing.T) {
	ks, err := New(Options{Stripes: 2})
	require.NoError(t, err)
	var large [][]byte
	var scores []float64
	for i := range 300 {
		large = append(large, fmt.Append(nil, "m", i))
		scores = append(scores, float64(i%7))
	}
	ks.RestoreZSet(0, b("small"), [][]byte{b("x"), b("y")}, []float64{2, -1}, 0)
	ks.RestoreZSet(0, b("large"), large, scores, 1<<50)
	ks.RestoreZSet(0, b("empty"), nil, nil, 0)
	require.True(t, ks.Copy(0, b("large"), 1, b("large2"), false))
	_, err = ks.ZAdd(1, b("large2"), 0, [][]byte{b("m0")}, []float64{100})
	require.NoError(t, err)

	got := map[string][]string{}
	require.NoError(t, ks.Walk(0, func(items []Item) error {
		for i := range items {
			it := &items[i]
			require.Equal(t, KindZSet, it.Kind)
			var es []string
			it.EachScored(func(m []byte, s float64) { es = append(es, fmt.Sprintf("%s=%g", m, s)) })
			require.Len(t, es, it.ZSetLen())
			got[it.Key] = es
		}
		return nil
	}))
	require.Len(t, got, 2)
	assert.Equal(t, []string{"y=-1", "x=2"}, got["small"])
	assert.Len(t, got["large"], 300)
	assert.Equal(t, "m0=0", got["large"][0], "COPY shares nothing mutable")
	oi, ok := ks.Object(0, b("large"))
	require.True(t, ok)
	assert.Equal(t, "skiplist", oi.Encoding)
	oi, _ = ks.Object(0, b("small"))
	assert.Equal(t, "listpack", oi.Encoding)
}

func TestZCombine(t *testing.T) {
	ks, _, _ := newTestKeyspace(t)
	_, err := ks.ZAdd(0, b("z1"), 0, [][]byte{b("a"), b("b"), b("c")}, []float64{1, 2, math.Inf(1)})
	require.NoError(t, err)
	_, err = ks.SAdd(0, b("s"), [][]byte{b("b"), b("c"), b("d")})
	require.NoError(t, err)
	get := func(a ZCombineArgs) []string {
		t.Helper()
		es, err := ks.ZCombine(0, a)
		require.NoError(t, err)
		return scoredStrings(es)
	}
	keys := [][]byte{b("z1"), b("s")}
	assert.Equal(t, []string{"a=1", "d=1", "b=3", "c=+Inf"}, get(ZCombineArgs{Op: ZUnion, Keys: keys}), "a set's members score 1")
	assert.Equal(t, []string{"b=1", "c=1"}, get(ZCombineArgs{Op: ZInter, Keys: keys, Aggregate: ZMin}))
	assert.Equal(t, []string{"b=4", "c=4"}, get(ZCombineArgs{Op: ZInter, Keys: keys, Weights: []float64{0, 4}}), "inf times 0 is 0, as in Redis")
	assert.Equal(t, []string{"b=2", "c=+Inf"}, get(ZCombineArgs{Op: ZInter, Keys: keys, Weights: []float64{1, math.Inf(-1)}, Aggregate: ZMax}))
	assert.Equal(t, []string{"a=1"}, get(ZCombineArgs{Op: ZDiff, Keys: keys}))
	assert.Equal(t, []string{"b=3"}, get(ZCombineArgs{Op: ZInter, Keys: keys, Limit: 1}))
	_, err = ks.Set(0, b("str"), b("v"), SetArgs{})
	require.NoError(t, err)
	_, err = ks.ZCombine(0, ZCombineArgs{Keys: [][]byte{b("z1"), b("str")}})
	require.ErrorIs(t, err, ErrWrongType)
	_, err = ks.ZRangeStore(0, b("d"), b("s"), ZRange{Stop: -1})
	require.ErrorIs(t, err, ErrWrongType, "ZRANGESTORE takes only a sorted set")
}

// TestZSetConcurrentWriters runs sorted-set writers and readers on a few
// keys at once: under -race this finds a set read after its stripe was
// unlocked; the invariants checked at the end find a lost update.
func TestZSetConcurrentWriters(t *testing.T) {
	ks, _, _ := newTestKeyspace(t)
	keys := [][]byte{b("z0"), b("z1"), b("z2"), b("z3")}
	var wg sync.WaitGroup
	for g := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(g), 1))
			for range 2000 {
				k := keys[r.IntN(len(keys))]
				m := fmt.Appendf(nil, "m%d", r.IntN(200))
				switch r.IntN(7) {
				case 0, 1:
					ks.ZAdd(0, k, 0, [][]byte{m}, []float64{float64(r.IntN(50))})
				case 2:
					ks.ZRem(0, k, [][]byte{m})
				case 3:
					ks.ZPop(0, k, r.IntN(2) == 0, r.IntN(5))
				case 4:
					ks.ZMPop(0, keys, r.IntN(2) == 0, 3)
				case 5:
					ks.ZCombineStore(0, keys[r.IntN(len(keys))], ZCombineArgs{Op: ZUnion, Keys: [][]byte{k, keys[r.IntN(len(keys))]}})
				default:
					ks.Walk(0, func([]Item) error { return nil })
					ks.ZRandMember(0, k, -3)
				}
			}
		}()
	}
	wg.Wait()
	for _, k := range keys {
		es, err := ks.ZRangeGet(0, k, ZRange{Start: 0, Stop: -1})
		require.NoError(t, err)
		for i := 1; i < len(es); i++ {
			require.True(t, es[i-1].Score < es[i].Score || es[i-1].Score == es[i].Score && string(es[i-1].Member) < string(es[i].Member))
		}
	}
	recount(ks) // panics if a stripe's accounting drifted
}

// TestZSetShrinksAfterRemovals: a sorted set that lost most of its
// elements merges its chunks rather than keeping one near-empty chunk
// per few elements.
func TestZSetShrinksAfterRemovals(t *testing.T) {
	z := &zset{}
	for i := range 100_000 {
		z.set(fmt.Appendf(nil, "m%06d", i), float64(i))
	}
	full := z.bytes()
	for i := range 100_000 {
		if i%100 != 0 {
			require.True(t, z.delete(fmt.Appendf(nil, "m%06d", i)))
		}
	}
	require.Equal(t, 1000, z.len())
	assert.LessOrEqual(t, len(z.chunks), 1000/(zchunkMax/4)+1)
	assert.Less(t, z.bytes()-int64(len(z.index))*zsetMapSlot, full/20, "chunks and strings shrink with the set")
	n := z.removeRange(10, 990) // a range: the chunks around its start merge too
	require.Equal(t, 980, n)
	assert.LessOrEqual(t, len(z.chunks), 2)
	es := collect(z, 0, z.len(), false)
	require.Len(t, es, 20)
	assert.Equal(t, "m000900", string(es[9].Member))
	assert.Equal(t, "m099000", string(es[10].Member))
}

// TestZRandMemberDistinctAndRepeated checks ZRANDMEMBER's counts: distinct
// members up to the size, the whole set from the top, or exactly -count.
func TestZRandMemberDistinctAndRepeated(t *testing.T) {
	ks, _, _ := newTestKeyspace(t)
	var ms [][]byte
	var scores []float64
	for i := range 1000 {
		ms = append(ms, fmt.Appendf(nil, "m%04d", i))
		scores = append(scores, float64(i))
	}
	_, err := ks.ZAdd(0, b("z"), 0, ms, scores)
	require.NoError(t, err)
	es, err := ks.ZRandMember(0, b("z"), 600)
	require.NoError(t, err)
	seen := map[string]bool{}
	for _, e := range es {
		require.False(t, seen[string(e.Member)], "distinct")
		seen[string(e.Member)] = true
		require.Equal(t, string(fmt.Appendf(nil, "m%04d", int(e.Score))), string(e.Member))
	}
	require.Len(t, seen, 600)
	es, err = ks.ZRandMember(0, b("z"), 5000)
	require.NoError(t, err)
	require.Len(t, es, 1000)
	assert.Equal(t, "m0999", string(es[0].Member), "the whole set comes from the top")
	es, err = ks.ZRandMember(0, b("z"), -5000)
	require.NoError(t, err)
	require.Len(t, es, 5000)
}

// TestZSetRefreshDoesNotFragment: moving members to new scores (a session
// store refreshing expiries) and cutting ranges from the middle leave no
// trail of near-empty chunks.
func TestZSetRefreshDoesNotFragment(t *testing.T) {
	z := &zset{}
	const n = 20_000
	for i := range n {
		z.set(fmt.Appendf(nil, "m%06d", i), float64(i))
	}
	for i := range n {
		if i%64 != 0 {
			z.set(fmt.Appendf(nil, "m%06d", i), float64(n+i))
		}
	}
	short := func() int {
		k := 0
		for _, c := range z.chunks {
			if len(c) < zchunkMax/4 {
				k++
			}
		}
		return k
	}
	require.Equal(t, n, z.len())
	assert.LessOrEqual(t, short(), 2, "chunks under a quarter full after refreshes")
	r := rand.New(rand.NewPCG(3, 4))
	for range 40 { // ranges that start mid-chunk and end just before a chunk's end
		from := r.IntN(z.len() - 300)
		z.removeRange(from, from+100+r.IntN(150))
	}
	assert.LessOrEqual(t, short(), 2, "chunks under a quarter full after range removals")
}
