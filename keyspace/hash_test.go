package keyspace

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func hashPairsOf(h hashRef) map[string]string {
	out := map[string]string{}
	h.each(func(f, v []byte) bool { out[string(f)] = string(v); return true })
	return out
}

// TestHashMatchesMapModel drives packed and converted hashes with random
// writes, published after each command as updateHash does, and checks them
// against a map; the published packed value is never modified afterwards.
func TestHashMatchesMapModel(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed=%d", seed)
	r := rand.New(rand.NewPCG(seed, 9))
	for round := range 12 {
		var stored hashRef
		model := map[string]string{}
		universe := 10 + r.IntN(150) // the thresholds crossed here are the value lengths
		for range 400 {
			snapshot := bytes.Clone(stored.p)
			published := stored.p
			w := newHashWriter(stored)
			for range 1 + r.IntN(4) {
				var f, v []byte
				switch r.IntN(12) {
				case 0:
					f = []byte{}
				case 1:
					f = bytes.Repeat([]byte{'f'}, 60+r.IntN(8)) // around maxPackedField
				default:
					f = fmt.Appendf(nil, "attr:\x00%d", r.IntN(universe))
				}
				switch r.IntN(6) {
				case 0:
					v = []byte{}
				case 1:
					v = bytes.Repeat([]byte{'v'}, 60+r.IntN(8))
				default:
					v = fmt.Appendf(nil, "%x", r.Uint32()>>r.IntN(32))
				}
				if r.IntN(3) == 0 {
					_, had := model[string(f)]
					assert.Equal(t, had, w.del(f), "round %d del %q", round, f)
					delete(model, string(f))
				} else {
					_, had := model[string(f)]
					assert.Equal(t, !had, w.set(f, v), "round %d set %q", round, f)
					model[string(f)] = string(v)
				}
			}
			stored = w.result()
			require.Equal(t, snapshot, published, "a published packed hash was modified")
			require.Equal(t, len(model), stored.len())
			if len(model) > 0 || stored.m != nil {
				assert.Equal(t, model, hashPairsOf(stored))
			}
			probe := fmt.Appendf(nil, "attr:\x00%d", r.IntN(universe))
			v, ok := stored.get(probe)
			mv, mok := model[string(probe)]
			require.Equal(t, mok, ok)
			require.Equal(t, mv, string(v))
			require.Equal(t, len(mv), stored.valueLen(probe))
		}
	}
}

func TestHashEncodingThresholds(t *testing.T) {
	var pairs [][]byte
	for i := range maxPackedFields {
		pairs = append(pairs, fmt.Append(nil, i), []byte("v"))
	}
	h := newHashOf(pairs)
	assert.Nil(t, h.m, "512 fields stay packed, as in Redis")
	h = newHashOf(append(pairs, []byte("one more"), []byte("v")))
	assert.NotNil(t, h.m, "the 513th field converts to a map")
	assert.Equal(t, maxPackedFields+1, h.len())

	h = newHashOf([][]byte{bytes.Repeat([]byte("x"), maxPackedField), bytes.Repeat([]byte("y"), maxPackedField)})
	assert.Nil(t, h.m)
	h = newHashOf([][]byte{[]byte("f"), bytes.Repeat([]byte("y"), maxPackedField+1)})
	assert.NotNil(t, h.m, "a value over 64 bytes converts to a map")
	h = newHashOf([][]byte{bytes.Repeat([]byte("x"), maxPackedField+1), []byte("v")})
	assert.NotNil(t, h.m, "a field over 64 bytes converts to a map")

	// A map stays a map when it shrinks, as in Redis.
	w := newHashWriter(h)
	w.del(bytes.Repeat([]byte("x"), maxPackedField+1))
	w.set([]byte("a"), []byte("b"))
	assert.NotNil(t, w.result().m)
}

// TestHashPackedKeepsInsertionOrder: HGETALL on a small hash lists fields
// in insertion order, an overwrite keeps the field's place, as Redis's
// listpack does, so replies compare byte for byte.
func TestHashPackedKeepsInsertionOrder(t *testing.T) {
	h := newHashOf([][]byte{[]byte("a"), []byte("1"), []byte("b"), []byte("2"), []byte("c"), []byte("3")})
	w := newHashWriter(h)
	w.set([]byte("a"), []byte("longer value"))
	w.del([]byte("b"))
	w.set([]byte("d"), []byte("4"))
	got := w.result().pairs()
	var s []string
	for _, b := range got {
		s = append(s, string(b))
	}
	assert.Equal(t, []string{"a", "longer value", "c", "3", "d", "4"}, s)
}

func TestEntrySizeUnchanged(t *testing.T) {
	// Hashes reuse the bytes and set forms: a bigger entry would cost
	// every key.
	assert.Equal(t, uintptr(24), unsafe.Sizeof(entry{}))
}

type recordedEvent struct {
	db    int
	class EventClass
	event string
	key   string
}

type eventLog struct {
	mu sync.Mutex
	ev []recordedEvent
}

func (l *eventLog) Notify(db int, class EventClass, event string, key []byte) {
	l.mu.Lock()
	l.ev = append(l.ev, recordedEvent{db, class, event, string(key)})
	l.mu.Unlock()
}

func TestHashEvents(t *testing.T) {
	ks, err := New(Options{Stripes: 4})
	require.NoError(t, err)
	log := &eventLog{}
	ks.SetNotifier(log)
	k := []byte("h")
	_, err = ks.HSet(2, k, [][]byte{[]byte("a"), []byte("1"), []byte("b"), []byte("2")})
	require.NoError(t, err)
	_, err = ks.HSetNX(2, k, []byte("a"), []byte("x")) // exists: no event
	require.NoError(t, err)
	_, err = ks.HSetNX(2, k, []byte("c"), []byte("x"))
	require.NoError(t, err)
	_, err = ks.HIncrBy(2, k, []byte("a"), 5)
	require.NoError(t, err)
	_, err = ks.HIncrBy(2, k, []byte("c"), 5) // not an integer: no event
	require.ErrorIs(t, err, ErrHashNotInteger)
	_, err = ks.HIncrByFloat(2, k, []byte("a"), []byte("0.5"))
	require.NoError(t, err)
	n, err := ks.HDel(2, k, [][]byte{[]byte("zz")}) // nothing removed: no event
	require.NoError(t, err)
	require.Zero(t, n)
	n, err = ks.HDel(2, k, [][]byte{[]byte("a"), []byte("b"), []byte("c"), []byte("a")})
	require.NoError(t, err)
	require.Equal(t, 3, n)
	assert.Equal(t, KindNone, ks.Type(2, k), "no hash is stored empty")
	assert.Equal(t, []recordedEvent{
		{2, EventNew, "new", "h"},
		{2, EventHash, "hset", "h"},
		{2, EventHash, "hset", "h"},
		{2, EventHash, "hincrby", "h"},
		{2, EventHash, "hincrbyfloat", "h"},
		{2, EventHash, "hdel", "h"},
		{2, EventGeneric, "del", "h"},
		{2, EventKeyMiss, "keymiss", "h"}, // TYPE of the now absent key
	}, log.ev)
}

func TestHashWalkRestoreCopy(t *testing.T) {
	ks, err := New(Options{Stripes: 2})
	require.NoError(t, err)
	small := [][]byte{[]byte("f1"), []byte("v1"), []byte(""), []byte("")}
	var large [][]byte
	for i := range 200 {
		large = append(large, fmt.Append(nil, "f", i), fmt.Append(nil, "v", i))
	}
	ks.RestoreHash(0, []byte("small"), small, 0)
	ks.RestoreHash(0, []byte("large"), large, 1<<50)
	ks.RestoreHash(0, []byte("empty"), nil, 0)
	require.True(t, ks.Copy(0, []byte("large"), 1, []byte("large2"), false))
	require.True(t, ks.Copy(0, []byte("small"), 1, []byte("small2"), false))
	_, err = ks.HSet(1, []byte("large2"), [][]byte{[]byte("f0"), []byte("changed")})
	require.NoError(t, err)
	_, err = ks.HSet(1, []byte("small2"), [][]byte{[]byte("f1"), []byte("changed")})
	require.NoError(t, err)

	got := map[string]map[string]string{}
	require.NoError(t, ks.Walk(0, func(items []Item) error {
		for i := range items {
			it := &items[i]
			require.Equal(t, KindHash, it.Kind)
			m := map[string]string{}
			it.EachField(func(f, v []byte) { m[string(f)] = string(v) })
			require.Len(t, m, it.HashLen())
			got[it.Key] = m
		}
		return nil
	}))
	require.Len(t, got, 2)
	assert.Equal(t, map[string]string{"f1": "v1", "": ""}, got["small"])
	assert.Equal(t, "v0", got["large"]["f0"], "COPY shares nothing mutable")
	assert.Len(t, got["large"], 200)
}

// BenchmarkHashMemory reports the live heap bytes of a 10-field session
// hash (fields of 10-20 bytes, values of 8-40 bytes, as a Spring Session
// or Rails session with JSON values), packed against a Go map, measured
// over many retained hashes. The key and its entry are not included: they
// cost what a string session's do.
func BenchmarkHashMemory(b *testing.B) {
	pairs := sessionPairs()
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
			b.ReportMetric(live(func() any { return newHashOf(pairs).p }), "B/hash")
		}
	})
	// The whole key in a keyspace: the 55-byte Spring Session key, its
	// map slot and entry, and the packed value (what Redis's MEMORY USAGE
	// counts, 424 bytes for this session in Redis 7.0).
	b.Run("enc=keyspace", func(b *testing.B) {
		for b.Loop() {
			ks, err := New(Options{Stripes: 64})
			require.NoError(b, err)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			for i := range n {
				key := fmt.Appendf(nil, "spring:session:sessions:%08x-9d7b-4c1e-8a2f-0b6d7e9c4a11", i)
				if _, err := ks.HSet(0, key, pairs); err != nil {
					b.Fatal(err)
				}
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			runtime.KeepAlive(ks)
			b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "B/key")
		}
	})
	b.Run("enc=map", func(b *testing.B) {
		for b.Loop() {
			b.ReportMetric(live(func() any {
				m := map[string]string{}
				for i := 0; i < len(pairs); i += 2 {
					m[string(pairs[i])] = string(pairs[i+1])
				}
				return m
			}), "B/hash")
		}
	})
}

func sessionPairs() [][]byte {
	return [][]byte{
		[]byte("creationTime"), []byte("1718000000000"),
		[]byte("lastAccessedTime"), []byte("1718000123456"),
		[]byte("maxInactiveInterval"), []byte("1800"),
		[]byte("sessionAttr:userId"), []byte(`"42"`),
		[]byte("sessionAttr:locale"), []byte(`"en_GB"`),
		[]byte("sessionAttr:csrf"), []byte(`"4f6c0e1a9b2d4e8f9a7c3b1d"`),
		[]byte("sessionAttr:cart"), []byte(`{"items":3,"total":"59.90"}`),
		[]byte("sessionAttr:theme"), []byte(`"dark"`),
		[]byte("sessionAttr:flash"), []byte(`null`),
		[]byte("sessionAttr:role"), []byte(`"customer"`),
	}
}

// TestHashMemoryPerSession pins the packed size of the session hash of
// BenchmarkHashMemory: one allocation, the bytes, a length byte for each
// field and value, and the 2-byte count.
func TestHashMemoryPerSession(t *testing.T) {
	h := newHashOf(sessionPairs())
	data := 0
	for _, b := range sessionPairs() {
		data += len(b)
	}
	require.Nil(t, h.m)
	assert.Equal(t, hdr+20+data, len(h.p))
	pairs := sessionPairs()
	allocs := testing.AllocsPerRun(100, func() { newHashOf(pairs) })
	assert.LessOrEqual(t, allocs, 3.0, "the writer, the builder and the exact copy")
}
