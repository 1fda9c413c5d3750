package keyspace

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/require"

	"sessiond/internal/clocktest"
)

func TestEntryAndStripeSizes(t *testing.T) {
	// The access slot shares a word with kind: an entry is 24 bytes, a
	// map slot 40 (keyspace.go).
	require.Equal(t, uintptr(24), unsafe.Sizeof(entry{}))
	require.Equal(t, uintptr(128), unsafe.Sizeof(stripe{}))
}

// recount recomputes every key's size from scratch.
func recount(ks *Keyspace) (total int64, perDB [NumDBs]int64) {
	for dbi := range NumDBs {
		db := ks.db(dbi)
		for i := range db.stripes {
			s := &db.stripes[i]
			s.mu.RLock()
			var st int64
			for k, e := range s.m {
				st += entrySize(k, &e)
			}
			if st != s.bytes {
				panic(fmt.Sprintf("stripe %d of db %d: accounted %d, recounted %d", i, dbi, s.bytes, st))
			}
			perDB[dbi] += st
			s.mu.RUnlock()
		}
		total += perDB[dbi]
	}
	return total, perDB
}

func TestAccountingFollowsEveryWrite(t *testing.T) {
	clk := clocktest.NewFake(time.UnixMilli(1_700_000_000_000))
	ks, err := New(Options{Stripes: 8, Clock: clk})
	require.NoError(t, err)
	r := rand.New(rand.NewPCG(1, 2))
	key := func() []byte { return fmt.Appendf(nil, "k%d", r.IntN(40)) }
	val := func() []byte { return make([]byte, r.IntN(300)) }
	for i := range 20000 {
		db := r.IntN(3)
		switch r.IntN(19) {
		case 0, 1:
			ks.Set(db, key(), val(), SetArgs{})
		case 2:
			ks.Set(db, key(), val(), SetArgs{Deadline: clk.Now().UnixMilli() + int64(r.IntN(2000))})
		case 3:
			ks.Del(db, [][]byte{key(), key()})
		case 4:
			ms := make([][]byte, r.IntN(4)+1)
			for j := range ms {
				ms[j] = fmt.Appendf(nil, "m%d", r.IntN(300)) // sets cross 128 members: become maps
			}
			ks.SAdd(db, key(), ms)
		case 5:
			ks.SRem(db, key(), [][]byte{fmt.Appendf(nil, "m%d", r.IntN(300))})
		case 6:
			ks.SMove(db, key(), key(), fmt.Appendf(nil, "m%d", r.IntN(300)))
		case 7:
			ks.SPop(db, key(), r.IntN(3))
		case 8:
			ks.Rename(db, key(), key(), false)
		case 9:
			ks.Copy(db, key(), r.IntN(3), key(), true)
		case 10:
			ks.Move(db, key(), r.IntN(3))
		case 11:
			ks.Append(db, key(), val())
		case 12:
			ks.IncrBy(db, key(), 1)
		case 13:
			ks.SetCombineStore(db, SetUnion, key(), [][]byte{key(), key()})
		case 14:
			clk.Advance(time.Duration(r.IntN(300)) * time.Millisecond)
			ks.Get(db, key())
			ks.ExpireIfDue(db, string(key()), clk.Now().UnixMilli())
		case 15:
			switch r.IntN(20) {
			case 0:
				ks.Flush(db)
			case 1:
				ks.Swap(db, r.IntN(3))
			default:
				ks.Expire(db, key(), clk.Now().UnixMilli()+int64(r.IntN(1000)-100), 0)
			}
		case 16:
			ms := make([][]byte, r.IntN(4)+1)
			scores := make([]float64, len(ms))
			for j := range ms {
				ms[j] = fmt.Appendf(nil, "m%d", r.IntN(300)) // cross 128 members: get the map
				scores[j] = float64(r.IntN(50))
			}
			ks.ZAdd(db, key(), ZAddFlags(r.IntN(2))*ZAddCH, ms, scores)
		case 17:
			switch r.IntN(3) {
			case 0:
				ks.ZRem(db, key(), [][]byte{fmt.Appendf(nil, "m%d", r.IntN(300))})
			case 1:
				ks.ZPop(db, key(), r.IntN(2) == 0, r.IntN(3))
			default:
				ks.ZRemRange(db, key(), ZRange{By: ZByScore, Min: ZBound{Score: float64(r.IntN(50))}, Max: ZBound{Score: float64(r.IntN(50))}})
			}
		case 18:
			if r.IntN(2) == 0 {
				ks.ZCombineStore(db, key(), ZCombineArgs{Op: ZOp(r.IntN(3)), Keys: [][]byte{key(), key()}})
			} else {
				ks.ZRangeStore(db, key(), key(), ZRange{Start: 0, Stop: int64(r.IntN(200))})
			}
		}
		if i%500 == 0 {
			total, perDB := recount(ks)
			require.Equal(t, total, ks.UsedMemory(), "step %d", i)
			for dbi := range NumDBs {
				require.Equal(t, perDB[dbi], ks.DBUsedMemory(dbi), "step %d db %d", i, dbi)
			}
		}
	}
	ks.FlushAll()
	require.Zero(t, ks.UsedMemory())
}

func TestAccountedSizeIsPlausible(t *testing.T) {
	ks, _ := New(Options{Stripes: 1})
	ks.Set(0, []byte("sess:0123456789"), make([]byte, 1000), SetArgs{})
	oi, ok := ks.Object(0, []byte("sess:0123456789"))
	require.True(t, ok)
	// 1000 bytes of value (1024 size class), 15 of key (16), an entry slot.
	require.GreaterOrEqual(t, oi.Bytes, int64(1024+16+48))
	require.Less(t, oi.Bytes, int64(1024+16+200))
	require.Equal(t, oi.Bytes, ks.UsedMemory())
}

func TestGetUpdatesClockWithoutAllocating(t *testing.T) {
	clk := clocktest.NewFake(time.UnixMilli(1_700_000_000_000))
	ks, _ := New(Options{Stripes: 4, Clock: clk})
	ks.Set(0, []byte("k"), []byte("v"), SetArgs{})
	clk.Advance(10 * time.Second)
	oi, _ := ks.Object(0, []byte("k"))
	require.Equal(t, int64(10_000), oi.IdleMs)
	ks.Get(0, []byte("k"))
	oi, _ = ks.Object(0, []byte("k"))
	require.Zero(t, oi.IdleMs)
	// TTL, EXISTS and TYPE do not count as accesses (LOOKUP_NOTOUCH).
	clk.Advance(5 * time.Second)
	ks.Deadline(0, []byte("k"))
	ks.Exists(0, [][]byte{[]byte("k")})
	ks.Type(0, []byte("k"))
	oi, _ = ks.Object(0, []byte("k"))
	require.Equal(t, int64(5_000), oi.IdleMs)

	for _, pol := range []Policy{AllKeysLRU, AllKeysLFU} {
		ks.SetEvictParams(EvictParams{Policy: pol, LFULogFactor: 10, LFUDecayTime: 1})
		key := []byte("k") // hoisted: keys escape (to the notifier), the server's come from its read buffer
		allocs := testing.AllocsPerRun(1000, func() { ks.Get(0, key) })
		require.Zero(t, allocs, pol.String())
	}
}

func TestLFUCounterGrowsLogarithmicallyAndDecays(t *testing.T) {
	clk := clocktest.NewFake(time.UnixMilli(1_700_000_000_000))
	ks, _ := New(Options{Stripes: 4, Clock: clk})
	ks.SetEvictParams(EvictParams{Policy: AllKeysLFU, LFULogFactor: 10, LFUDecayTime: 1})
	ks.Set(0, []byte("hot"), []byte("v"), SetArgs{})
	ks.Set(0, []byte("cold"), []byte("v"), SetArgs{})
	oi, _ := ks.Object(0, []byte("cold"))
	require.Equal(t, lfuInitVal, oi.Freq)
	for range 1000 {
		ks.Get(0, []byte("hot"))
	}
	oi, _ = ks.Object(0, []byte("hot"))
	// With lfu-log-factor 10, 1000 hits give a counter of about 18 (Redis's
	// table in redis.conf); allow for the randomness.
	require.Greater(t, oi.Freq, 12)
	require.Less(t, oi.Freq, 30)
	before := oi.Freq
	clk.Advance(3 * time.Minute) // lfu-decay-time 1: one step per minute
	oi, _ = ks.Object(0, []byte("hot"))
	require.Equal(t, before-3, oi.Freq)
}

func TestConcurrentReadersTouchRaceFree(t *testing.T) {
	ks, _ := New(Options{Stripes: 2})
	for i := range 64 {
		ks.Set(0, fmt.Appendf(nil, "k%d", i), []byte("v"), SetArgs{})
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				k := fmt.Appendf(nil, "k%d", (i*7+w)%64)
				if w == 0 && i%10 == 0 {
					ks.Set(0, k, []byte("v2"), SetArgs{})
					continue
				}
				if w == 1 && i%50 == 0 {
					pol := AllKeysLRU
					if i%100 == 0 {
						pol = AllKeysLFU
					}
					ks.SetEvictParams(EvictParams{Policy: pol, LFULogFactor: 10, LFUDecayTime: 1})
				}
				ks.Get(0, k)
			}
		}()
	}
	wg.Wait()
}

// fill writes n keys of size bytes; ttl(i) gives key i's deadline (0: none).
func fill(ks *Keyspace, n, size int, ttl func(i int) int64) {
	for i := range n {
		ks.Set(0, fmt.Appendf(nil, "key:%05d", i), make([]byte, size), SetArgs{Deadline: ttl(i)})
	}
}

func evicted(ks *Keyspace, n int) (gone []int) {
	for i := range n {
		if ks.Exists(0, [][]byte{fmt.Appendf(nil, "key:%05d", i)}) == 0 {
			gone = append(gone, i)
		}
	}
	return gone
}

func newEvictKS(t *testing.T) (*Keyspace, *clocktest.Fake) {
	clk := clocktest.NewFake(time.UnixMilli(1_700_000_000_000))
	ks, err := New(Options{Stripes: 64, Clock: clk})
	require.NoError(t, err)
	return ks, clk
}

func TestEvictNoEvictionFails(t *testing.T) {
	ks, _ := newEvictKS(t)
	fill(ks, 100, 100, func(int) int64 { return 0 })
	ks.SetEvictParams(EvictParams{MaxMemory: ks.UsedMemory() / 2, Policy: NoEviction})
	require.True(t, ks.OverLimit())
	require.Equal(t, EvictFail, ks.Evict(0))
	require.Empty(t, evicted(ks, 100))
}

func TestEvictVolatileNeverTouchesPersistentKeys(t *testing.T) {
	for _, pol := range []Policy{VolatileLRU, VolatileLFU, VolatileRandom, VolatileTTL} {
		t.Run(pol.String(), func(t *testing.T) {
			ks, clk := newEvictKS(t)
			far := clk.Now().UnixMilli() + 3600_000
			fill(ks, 400, 200, func(i int) int64 { // odd keys have a TTL
				if i%2 == 1 {
					return far + int64(i)
				}
				return 0
			})
			ks.SetEvictParams(EvictParams{MaxMemory: ks.UsedMemory() * 3 / 4, Policy: pol, Samples: 5, LFULogFactor: 10, LFUDecayTime: 1})
			require.Equal(t, EvictOK, ks.Evict(0))
			require.LessOrEqual(t, ks.UsedMemory(), ks.EvictParams().MaxMemory)
			gone := evicted(ks, 400)
			require.NotEmpty(t, gone)
			for _, i := range gone {
				require.Equal(t, 1, i%2, "volatile policy evicted key %d, which has no TTL", i)
			}
			require.EqualValues(t, len(gone), ks.Stats().EvictedKeys)
			// Below what the persistent keys alone take, nothing is left to evict.
			ks.SetEvictParams(EvictParams{MaxMemory: 1000, Policy: pol, Samples: 5})
			require.Equal(t, EvictFail, ks.Evict(0))
			for i := 0; i < 400; i += 2 {
				require.Equal(t, 1, ks.Exists(0, [][]byte{fmt.Appendf(nil, "key:%05d", i)}))
			}
		})
	}
}

func TestEvictVolatileTTLTakesNearestDeadlinesFirst(t *testing.T) {
	ks, clk := newEvictKS(t)
	now := clk.Now().UnixMilli()
	fill(ks, 1000, 200, func(i int) int64 { return now + 60_000 + int64(i)*1000 }) // key i expires i s later
	ks.SetEvictParams(EvictParams{MaxMemory: ks.UsedMemory() / 2, Policy: VolatileTTL, Samples: 5})
	require.Equal(t, EvictOK, ks.Evict(0))
	gone := evicted(ks, 1000)
	early := 0
	for _, i := range gone {
		if i < 500 {
			early++
		}
	}
	// Sampling approximates: nearly all of the evicted half is the early half.
	require.Greater(t, float64(early)/float64(len(gone)), 0.85, "evicted %d keys, %d of the earlier half", len(gone), early)
}

func TestEvictLRUKeepsRecentlyReadKeys(t *testing.T) {
	for _, pol := range []Policy{AllKeysLRU, VolatileLRU, AllKeysLFU, VolatileLFU} {
		t.Run(pol.String(), func(t *testing.T) {
			ks, clk := newEvictKS(t)
			ks.SetEvictParams(EvictParams{Policy: pol, Samples: 5, LFULogFactor: 10, LFUDecayTime: 1})
			far := clk.Now().UnixMilli() + 3600_000
			fill(ks, 1000, 200, func(int) int64 { return far })
			clk.Advance(30 * time.Second)
			for round := range 20 { // every tenth key is hot
				for i := 0; i < 1000; i += 10 {
					ks.Get(0, fmt.Appendf(nil, "key:%05d", i))
				}
				_ = round
			}
			clk.Advance(2 * time.Second)
			p := ks.EvictParams()
			p.MaxMemory = ks.UsedMemory() / 2
			ks.SetEvictParams(p)
			require.Equal(t, EvictOK, ks.Evict(0))
			gone := evicted(ks, 1000)
			hot := 0
			for _, i := range gone {
				if i%10 == 0 {
					hot++
				}
			}
			require.GreaterOrEqual(t, len(gone), 450)
			require.LessOrEqual(t, hot, 5, "%d of 100 hot keys evicted", hot)
		})
	}
}

func TestEvictRandomEvictsAnyKey(t *testing.T) {
	ks, _ := newEvictKS(t)
	fill(ks, 1000, 200, func(int) int64 { return 0 })
	ks.SetEvictParams(EvictParams{MaxMemory: ks.UsedMemory() / 2, Policy: AllKeysRandom})
	require.Equal(t, EvictOK, ks.Evict(0))
	gone := evicted(ks, 1000)
	low := 0
	for _, i := range gone {
		if i < 500 {
			low++
		}
	}
	require.InDelta(t, 0.5, float64(low)/float64(len(gone)), 0.15) // no preference
}

func TestEvictAcrossDatabasesAndBatches(t *testing.T) {
	ks, _ := newEvictKS(t)
	for db := range 3 {
		for i := range 300 {
			ks.Set(db, fmt.Appendf(nil, "k%d", i), make([]byte, 100), SetArgs{})
		}
	}
	ks.SetEvictParams(EvictParams{MaxMemory: ks.UsedMemory() / 3, Policy: AllKeysLRU, Samples: 5})
	require.Equal(t, EvictRunning, ks.Evict(10)) // a bounded step leaves work for the next
	require.EqualValues(t, 10, ks.Stats().EvictedKeys)
	require.Equal(t, EvictOK, ks.Evict(0))
	for db := range 3 {
		keys, _ := ks.Size(db)
		require.Less(t, keys, 300, "db %d was never sampled", db)
	}
}

type recNotifier struct {
	mu     sync.Mutex
	events []string
}

func (n *recNotifier) Notify(db int, class EventClass, event string, key []byte) {
	n.mu.Lock()
	n.events = append(n.events, fmt.Sprintf("%d %d %s %s", db, class, event, key))
	n.mu.Unlock()
}

func TestEvictNotifiesAndDirtiesWatchers(t *testing.T) {
	ks, _ := newEvictKS(t)
	ks.Set(0, []byte("only"), make([]byte, 100), SetArgs{})
	n := &recNotifier{}
	ks.SetNotifier(n)
	var w Watch
	ks.WatchKey(&w, 0, []byte("only"))
	ks.SetEvictParams(EvictParams{MaxMemory: 1, Policy: AllKeysLRU})
	require.Equal(t, EvictOK, ks.Evict(0))
	require.Equal(t, []string{fmt.Sprintf("0 %d evicted only", EventEvicted)}, n.events)
	require.True(t, ks.WatchDirty(&w))
	ks.Unwatch(&w)
}

func TestGoMemoryLimit(t *testing.T) {
	require.Equal(t, int64(1<<62-1+1<<62), GoMemoryLimit(0))
	require.Equal(t, int64(1<<20+64<<20), GoMemoryLimit(1<<20))
	require.Equal(t, int64(3<<30), GoMemoryLimit(2<<30))
}
