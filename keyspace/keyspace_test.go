package keyspace

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sessiond/internal/clocktest"
)

var epoch = time.UnixMilli(1_700_000_000_000)

type recordingScheduler struct {
	mu  sync.Mutex
	got map[string]int64
}

func (r *recordingScheduler) Schedule(db int, key string, d int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got[fmt.Sprintf("%d/%s", db, key)] = d
}

func newTestKeyspace(t *testing.T) (*Keyspace, *clocktest.Fake, *recordingScheduler) {
	t.Helper()
	clk := clocktest.NewFake(epoch)
	sch := &recordingScheduler{got: map[string]int64{}}
	ks, err := New(Options{Stripes: 8, Clock: clk, Scheduler: sch})
	require.NoError(t, err)
	t.Cleanup(func() { checkInvariants(t, ks) })
	return ks, clk, sch
}

// checkInvariants verifies every stripe: keys hash to their stripe, no
// empty sets, and the expires counter and sum of deadlines match.
func checkInvariants(t *testing.T, ks *Keyspace) {
	for dbi := range NumDBs {
		db := ks.db(dbi)
		for i := range db.stripes {
			s := &db.stripes[i]
			s.mu.RLock()
			exp, sum := 0, int64(0)
			for k, e := range s.m {
				assert.Equal(t, i, db.stripeIndex([]byte(k)), "key %q in wrong stripe", k)
				if e.kind() == KindSet {
					assert.NotZero(t, e.setPtr().len(), "empty set stored at %q", k)
				}
				if e.kind() == KindZSet {
					assert.NotZero(t, e.zsetPtr().len(), "empty sorted set stored at %q", k)
				}
				if e.deadline != 0 {
					exp++
					sum += min(e.deadline, maxAvgDeadline)
				}
			}
			assert.Equal(t, exp, s.expires, "db %d stripe %d expires counter", dbi, i)
			assert.Equal(t, sum, s.deadlines, "db %d stripe %d sum of deadlines", dbi, i)
			s.mu.RUnlock()
		}
	}
}

func b(s string) []byte { return []byte(s) }

func TestNewRejectsBadStripes(t *testing.T) {
	_, err := New(Options{Stripes: 3})
	require.Error(t, err)
}

func TestLazyExpiryBoundary(t *testing.T) {
	tests := []struct {
		name    string
		advance time.Duration
		wantOK  bool
	}{
		{"before deadline", 9 * time.Second, true},
		{"exactly at deadline", 10 * time.Second, true},
		{"1ms after deadline", 10*time.Second + time.Millisecond, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ks, clk, _ := newTestKeyspace(t)
			_, err := ks.Set(0, b("sess:1"), b("alice"), SetArgs{Deadline: epoch.UnixMilli() + 10_000})
			require.NoError(t, err)
			clk.Advance(tt.advance)
			v, ok, err := ks.Get(0, b("sess:1"))
			require.NoError(t, err)
			assert.Equal(t, tt.wantOK, ok)
			if ok {
				assert.Equal(t, "alice", string(v))
			}
			assert.Equal(t, tt.wantOK, ks.Exists(0, [][]byte{b("sess:1")}) == 1)
			assert.Equal(t, tt.wantOK, len(ks.Keys(0, b("*"))) == 1)
			_, keys := ks.Scan(0, 0, ScanArgs{Count: 1000})
			assert.Equal(t, tt.wantOK, len(keys) == 1, "SCAN must not return an expired key")
			d, _ := ks.Deadline(0, b("sess:1"))
			if !tt.wantOK {
				assert.Equal(t, int64(-2), d)
			}
		})
	}
}

func TestExpiredKeyInvisibleToEveryRead(t *testing.T) {
	ks, clk, _ := newTestKeyspace(t)
	dl := epoch.UnixMilli() + 1000
	_, _ = ks.Set(0, b("s"), b("v"), SetArgs{Deadline: dl})
	_, _ = ks.SAdd(0, b("set"), [][]byte{b("a")})
	require.True(t, ks.Expire(0, b("set"), dl, 0))
	clk.Advance(2 * time.Second)

	assert.Nil(t, ks.MGet(0, [][]byte{b("s")})[0])
	assert.Equal(t, KindNone, ks.Type(0, b("s")))
	var m [][]byte
	require.NoError(t, ks.ViewMembers(0, b("set"), func(ms Members) {
		ms.Each(func(x []byte) bool { m = append(m, x); return true })
	}))
	assert.Empty(t, m)
	_, ok := ks.RandomKey(0)
	assert.False(t, ok)
	// A write on an expired key starts from nothing.
	n, err := ks.IncrBy(0, b("s"), 5)
	require.NoError(t, err)
	assert.Equal(t, int64(5), n)
	d, _ := ks.Deadline(0, b("s"))
	assert.Equal(t, int64(-1), d, "INCR on an expired key must create a persistent key")
}

func TestExpireIfDueRechecksDeadline(t *testing.T) {
	ks, clk, sch := newTestKeyspace(t)
	first := epoch.UnixMilli() + 1000
	_, _ = ks.Set(3, b("k"), b("v"), SetArgs{Deadline: first})
	assert.Equal(t, first, sch.got["3/k"])
	// Refreshed before the old deadline: the old wheel entry is stale.
	later := epoch.UnixMilli() + 5000
	require.True(t, ks.Expire(3, b("k"), later, 0))
	clk.Advance(2 * time.Second)
	deleted, next := ks.ExpireIfDue(3, "k", clk.Now().UnixMilli())
	assert.False(t, deleted)
	assert.Equal(t, later, next, "a live key reports its real deadline for re-scheduling")
	// Persisted: not deleted, nothing to re-schedule.
	require.True(t, ks.Persist(3, b("k")))
	deleted, next = ks.ExpireIfDue(3, "k", clk.Now().UnixMilli()+10_000)
	assert.False(t, deleted)
	assert.Zero(t, next)
	// Due: deleted, counted.
	require.True(t, ks.Expire(3, b("k"), clk.Now().UnixMilli()+10, 0))
	clk.Advance(time.Second)
	deleted, _ = ks.ExpireIfDue(3, "k", clk.Now().UnixMilli())
	assert.True(t, deleted)
	assert.Equal(t, int64(1), ks.Stats().ExpiredKeys)
	keys, exp := ks.Size(3)
	assert.Zero(t, keys)
	assert.Zero(t, exp)
	// Absent key: harmless.
	deleted, next = ks.ExpireIfDue(3, "missing", clk.Now().UnixMilli())
	assert.False(t, deleted)
	assert.Zero(t, next)
}

func TestExpireConditionsAndPastDeadline(t *testing.T) {
	ks, _, _ := newTestKeyspace(t)
	now := epoch.UnixMilli()
	_, _ = ks.Set(0, b("k"), b("v"), SetArgs{})
	assert.False(t, ks.Expire(0, b("k"), now+1000, ExpireXX), "XX on a persistent key")
	assert.False(t, ks.Expire(0, b("k"), now+1000, ExpireGT), "GT treats no deadline as infinite")
	assert.True(t, ks.Expire(0, b("k"), now+1000, ExpireLT))
	assert.False(t, ks.Expire(0, b("k"), now+2000, ExpireNX))
	assert.True(t, ks.Expire(0, b("k"), now+2000, ExpireXX|ExpireGT))
	assert.False(t, ks.Expire(0, b("k"), now+1500, ExpireGT))
	assert.True(t, ks.Expire(0, b("k"), now, 0), "a deadline at now deletes the key")
	assert.Zero(t, ks.Exists(0, [][]byte{b("k")}))
	assert.False(t, ks.Expire(0, b("k"), now+1000, 0), "no key")
}

func TestSetOptions(t *testing.T) {
	ks, _, _ := newTestKeyspace(t)
	dl := epoch.UnixMilli() + 5000
	r, err := ks.Set(0, b("k"), b("1"), SetArgs{NX: true, Deadline: dl})
	require.NoError(t, err)
	assert.True(t, r.Done)
	r, _ = ks.Set(0, b("k"), b("2"), SetArgs{NX: true, Get: true})
	assert.False(t, r.Done)
	assert.Equal(t, "1", string(r.Old))
	r, _ = ks.Set(0, b("k"), b("3"), SetArgs{KeepTTL: true})
	assert.True(t, r.Done)
	d, _ := ks.Deadline(0, b("k"))
	assert.Equal(t, dl, d, "KEEPTTL keeps the deadline")
	_, _ = ks.Set(0, b("k"), b("4"), SetArgs{})
	d, _ = ks.Deadline(0, b("k"))
	assert.Equal(t, int64(-1), d, "plain SET clears the deadline")
	_, _ = ks.SAdd(0, b("s"), [][]byte{b("m")})
	_, err = ks.Set(0, b("s"), b("x"), SetArgs{Get: true})
	require.ErrorIs(t, err, ErrWrongType)
	r, _ = ks.Set(0, b("s"), b("x"), SetArgs{})
	assert.True(t, r.Done, "plain SET overwrites any type")
}

func TestValuesAreCopies(t *testing.T) {
	ks, _, _ := newTestKeyspace(t)
	buf := []byte("value")
	_, _ = ks.Set(0, b("k"), buf, SetArgs{})
	copy(buf, "XXXXX")
	v, _, _ := ks.Get(0, b("k"))
	assert.Equal(t, "value", string(v))
	// A stored string is never modified in place.
	_, err := ks.Append(0, b("k"), b("!"))
	require.NoError(t, err)
	assert.Equal(t, "value", string(v), "a slice returned by Get stays valid")
}

func TestSetsNeverStoredEmpty(t *testing.T) {
	ks, _, _ := newTestKeyspace(t)
	_, _ = ks.SAdd(0, b("s"), [][]byte{b("a"), b("b")})
	n, err := ks.SRem(0, b("s"), [][]byte{b("a"), b("b"), b("c")})
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	assert.Equal(t, KindNone, ks.Type(0, b("s")))
	_, _ = ks.SAdd(0, b("s"), [][]byte{b("a")})
	moved, err := ks.SMove(0, b("s"), b("t"), b("a"))
	require.NoError(t, err)
	assert.True(t, moved)
	assert.Equal(t, KindNone, ks.Type(0, b("s")))
	n, err = ks.SetCombineStore(0, SetInter, b("t"), [][]byte{b("t"), b("missing")})
	require.NoError(t, err)
	assert.Zero(t, n)
	assert.Equal(t, KindNone, ks.Type(0, b("t")), "an empty result deletes the destination")
}

func TestSwapAndMoveReschedule(t *testing.T) {
	ks, _, sch := newTestKeyspace(t)
	dl := epoch.UnixMilli() + 5000
	_, _ = ks.Set(1, b("k"), b("v"), SetArgs{Deadline: dl})
	ks.Swap(1, 2)
	assert.Equal(t, dl, sch.got["2/k"], "SWAPDB re-schedules under the new db number")
	require.True(t, ks.Move(2, b("k"), 5))
	assert.Equal(t, dl, sch.got["5/k"])
	d, _ := ks.Deadline(5, b("k"))
	assert.Equal(t, dl, d)
	ok, err := ks.Rename(5, b("k"), b("k2"), false)
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, dl, sch.got["5/k2"])
}

func TestWatchDirtiedByWritesExpiryAndFlush(t *testing.T) {
	ks, clk, _ := newTestKeyspace(t)
	var w Watch
	ks.WatchKey(&w, 0, b("k"))
	_, _ = ks.Set(0, b("other"), b("v"), SetArgs{})
	assert.False(t, w.Dirty())
	_, _ = ks.Set(0, b("k"), b("v"), SetArgs{Deadline: epoch.UnixMilli() + 10})
	assert.True(t, w.Dirty())
	ks.Unwatch(&w)
	assert.False(t, w.Dirty())

	ks.WatchKey(&w, 0, b("k"))
	clk.Advance(time.Second)
	ks.ExpireIfDue(0, "k", clk.Now().UnixMilli())
	assert.True(t, w.Dirty(), "active expiry of a watched key dirties the watch")
	ks.Unwatch(&w)

	// As in Redis (touchAllWatchedKeysInDb), a flush changes only the keys
	// that were there: a watched missing key stays clean.
	ks.WatchKey(&w, 4, b("x"))
	ks.Flush(4)
	assert.False(t, w.Dirty(), "flushing a db without the watched key")
	_, _ = ks.Set(4, b("x"), b("v"), SetArgs{})
	ks.Unwatch(&w)
	ks.WatchKey(&w, 4, b("x"))
	ks.Flush(4)
	assert.True(t, w.Dirty())
	ks.Unwatch(&w)
	assert.Zero(t, ks.watch.n.Load())
}

func TestMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"*", "anything", true},
		{"sess:*", "sess:abc", true},
		{"sess:*", "user:abc", false},
		{"h?llo", "hello", true},
		{"h?llo", "hllo", false},
		{"h[ae]llo", "hallo", true},
		{"h[^e]llo", "hello", false},
		{"h[a-b]llo", "hbllo", true},
		{"h[b-a]llo", "hallo", true},
		{`h\*llo`, "h*llo", true},
		{`h\*llo`, "hello", false},
		{"a*b*c", "aXXbYYc", true},
		{"a*b*c", "aXXbYY", false},
		{"", "", true},
		{"x*", "x", true},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, Match(b(tt.pattern), b(tt.s)), "%q ~ %q", tt.pattern, tt.s)
	}
}

func TestParseInt(t *testing.T) {
	for _, s := range []string{"0", "1", "-1", "9223372036854775807", "-9223372036854775808"} {
		_, ok := ParseInt(b(s))
		assert.True(t, ok, s)
	}
	for _, s := range []string{"", "-", "01", "+1", " 1", "1 ", "9223372036854775808", "-9223372036854775809", "1.0", "-0"} {
		_, ok := ParseInt(b(s))
		assert.False(t, ok, s)
	}
}

func TestScanVisitsEveryKeyOnce(t *testing.T) {
	ks, _, _ := newTestKeyspace(t)
	want := map[string]bool{}
	for i := range 500 {
		k := fmt.Sprintf("sess:%d", i)
		want[k] = true
		_, _ = ks.Set(0, b(k), b("v"), SetArgs{})
	}
	got := map[string]int{}
	var cur uint64
	for {
		next, keys := ks.Scan(0, cur, ScanArgs{Count: 10, Match: b("sess:*")})
		for _, k := range keys {
			got[string(k)]++
		}
		if next == 0 {
			break
		}
		cur = next
	}
	assert.Len(t, got, len(want))
	for k, n := range got {
		assert.Equal(t, 1, n, "key %s returned %d times", k, n)
	}
}

// TestConcurrentMultiKey runs multi-key operations over overlapping keys
// from many goroutines: it deadlocks if lock ordering regresses and fails
// under -race if a lock is missing.
func TestConcurrentMultiKey(t *testing.T) {
	ks, _, _ := newTestKeyspace(t)
	keys := [][]byte{b("a"), b("b"), b("c"), b("d"), b("e"), b("f")}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(g), 1))
			for range 2000 {
				k1, k2 := keys[r.IntN(len(keys))], keys[r.IntN(len(keys))]
				switch r.IntN(8) {
				case 0:
					ks.MSet(0, [][]byte{k1, b("1"), k2, b("2")}, false)
				case 1:
					ks.Del(0, [][]byte{k2, k1})
				case 2:
					_, _ = ks.Rename(0, k1, k2, false)
				case 3:
					_, _ = ks.SAdd(0, k1, [][]byte{b("m")})
				case 4:
					_, _ = ks.SMove(0, k1, k2, b("m"))
				case 5:
					_, _ = ks.SetCombineStore(0, SetUnion, k1, [][]byte{k2, k1})
				case 6:
					ks.Copy(0, k1, 1, k2, true)
				case 7:
					ks.Move(0, k1, 1)
				}
			}
		}()
	}
	wg.Wait()
}

// TestIncrIsAtomic checks that read-modify-write holds one lock: no
// increment is lost under concurrency.
func TestIncrIsAtomic(t *testing.T) {
	ks, _, _ := newTestKeyspace(t)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 1000 {
				_, err := ks.IncrBy(0, b("n"), 1)
				assert.NoError(t, err)
			}
		}()
	}
	wg.Wait()
	v, _, _ := ks.Get(0, b("n"))
	assert.Equal(t, "8000", string(v))
}

func TestWalkSeesLiveKeysOnly(t *testing.T) {
	ks, clk, _ := newTestKeyspace(t)
	_, _ = ks.Set(2, b("live"), b("v"), SetArgs{Deadline: epoch.UnixMilli() + 10_000})
	_, _ = ks.Set(2, b("dead"), b("v"), SetArgs{Deadline: epoch.UnixMilli() + 10})
	_, _ = ks.SAdd(2, b("set"), [][]byte{b("a"), b("b")})
	clk.Advance(time.Second)
	got := map[string]Item{}
	require.NoError(t, ks.Walk(2, func(items []Item) error {
		for _, it := range items {
			got[it.Key] = it
		}
		return nil
	}))
	assert.Len(t, got, 2)
	assert.ElementsMatch(t, []string{"a", "b"}, got["set"].Members)
	assert.Equal(t, epoch.UnixMilli()+10_000, got["live"].Deadline)
}

func BenchmarkKeyspace(b *testing.B) {
	const nkeys = 1 << 16
	keys := make([][]byte, nkeys)
	for i := range keys {
		keys[i] = []byte(fmt.Sprintf("sess:%032x", i))
	}
	val := make([]byte, 256)
	for _, stripes := range []int{1, 16, 1024} {
		ks, _ := New(Options{Stripes: stripes})
		for _, k := range keys {
			_, _ = ks.Set(0, k, val, SetArgs{})
		}
		b.Run(fmt.Sprintf("op=get/stripes=%d", stripes), func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for i := 0; pb.Next(); i++ {
					_, _, _ = ks.Get(0, keys[i&(nkeys-1)])
				}
			})
		})
		b.Run(fmt.Sprintf("op=setex/stripes=%d", stripes), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(val)))
			dl := time.Now().Add(time.Hour).UnixMilli()
			b.RunParallel(func(pb *testing.PB) {
				for i := 0; pb.Next(); i++ {
					_, _ = ks.Set(0, keys[i&(nkeys-1)], val, SetArgs{Deadline: dl})
				}
			})
		})
	}
}

// BenchmarkBaseline is the same workload on a plain map with one mutex and
// on sync.Map, for comparison with BenchmarkKeyspace.
func BenchmarkBaseline(b *testing.B) {
	const nkeys = 1 << 16
	keys := make([]string, nkeys)
	for i := range keys {
		keys[i] = fmt.Sprintf("sess:%032x", i)
	}
	val := make([]byte, 256)
	var mu sync.RWMutex
	m := map[string][]byte{}
	var sm sync.Map
	for _, k := range keys {
		m[k] = val
		sm.Store(k, val)
	}
	b.Run("impl=mutexmap/op=get", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for i := 0; pb.Next(); i++ {
				mu.RLock()
				_ = m[keys[i&(nkeys-1)]]
				mu.RUnlock()
			}
		})
	})
	b.Run("impl=mutexmap/op=setex", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for i := 0; pb.Next(); i++ {
				v := append([]byte(nil), val...)
				mu.Lock()
				m[keys[i&(nkeys-1)]] = v
				mu.Unlock()
			}
		})
	})
	b.Run("impl=syncmap/op=get", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for i := 0; pb.Next(); i++ {
				sm.Load(keys[i&(nkeys-1)])
			}
		})
	})
	b.Run("impl=syncmap/op=setex", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for i := 0; pb.Next(); i++ {
				sm.Store(keys[i&(nkeys-1)], append([]byte(nil), val...))
			}
		})
	})
}

// TestEntryForms checks each form of the packed entry: the accessors
// return what went in, the tag keeps kind and slot apart, and a value of
// bigLen bytes or more is boxed (built without allocating 4 GiB: the
// slice only has to claim that length).
func TestEntryForms(t *testing.T) {
	b := []byte("value")
	e := bytesEntry(KindString, b, 42)
	e.setSlot(maxSlot)
	assert.Equal(t, KindString, e.kind())
	assert.Equal(t, uint32(maxSlot), e.slot())
	assert.Equal(t, int64(42), e.deadline)
	assert.Equal(t, "value", string(e.bytes()))
	assert.Nil(t, e.setPtr())

	assert.Nil(t, bytesEntry(KindString, nil, 0).bytes(), "nil stays nil")
	empty := bytesEntry(KindString, []byte{}, 0).bytes()
	assert.NotNil(t, empty, "an empty string stays non-nil")
	assert.Empty(t, empty)

	st := &set{}
	se := setEntry(st, 0)
	se.setSlot(7)
	assert.Equal(t, KindSet, se.kind())
	assert.Equal(t, uint32(7), se.slot())
	assert.Same(t, st, se.setPtr())
	assert.Nil(t, se.hashMapPtr())
	assert.Nil(t, se.bytes())

	hm := &hashMap{m: map[string]string{"f": "v"}}
	he := hashMapEntry(hm, 0)
	assert.Equal(t, KindHash, he.kind())
	assert.Same(t, hm, he.hashMapPtr())
	assert.Nil(t, he.setPtr())
	assert.Nil(t, he.bytes())
	assert.Nil(t, bytesEntry(KindHash, []byte{0, 0}, 0).hashMapPtr())

	// The accounting's struct sizes are the allocations' size classes.
	assert.Equal(t, int64(setStructBytes), allocSize(int(unsafe.Sizeof(set{}))))
	assert.Equal(t, int64(hashMapStructBytes), allocSize(int(unsafe.Sizeof(hashMap{}))))
	assert.Equal(t, int64(zsetStructBytes), allocSize(int(unsafe.Sizeof(zset{}))))
	assert.Equal(t, int64(zentryBytes), int64(unsafe.Sizeof(zentry{})))
	ze := zsetEntry(&zset{}, 0)
	assert.Equal(t, KindZSet, ze.kind())
	assert.Nil(t, ze.setPtr())
	assert.Nil(t, ze.hashMapPtr())
	assert.Nil(t, ze.bytes())
	assert.Nil(t, he.zsetPtr())

	if strconv.IntSize == 64 {
		// A header claiming bigLen+1 bytes (never read past b; built by
		// hand, as unsafe.Slice would be checked under -race).
		n := uint64(bigLen) + 1
		h := struct {
			p    *byte
			l, c int
		}{&b[0], int(n), int(n)}
		huge := *(*[]byte)(unsafe.Pointer(&h))
		be := bytesEntry(KindString, huge, 0)
		assert.Equal(t, uint32(bigLen), be.n)
		assert.Equal(t, len(huge), len(be.bytes()))
		assert.Equal(t, unsafe.SliceData(huge), unsafe.SliceData(be.bytes()))
	}
}

// TestSetJudgesExpiryAtTheCommandsTime: given SetArgs.Now, SET decides
// whether the existing key has expired at that time, not at the clock's
// (a command's keys are judged at the time it began, as in Redis), and
// NowMsAt gives the injected clock's time, not the caller's reading.
func TestSetJudgesExpiryAtTheCommandsTime(t *testing.T) {
	t0 := time.UnixMilli(1_700_000_000_000)
	clk := clocktest.NewFake(t0)
	ks, err := New(Options{Stripes: 4, Clock: clk})
	require.NoError(t, err)
	_, err = ks.Set(0, []byte("k"), []byte("old"), SetArgs{Deadline: t0.UnixMilli() + 1000})
	require.NoError(t, err)
	clk.Advance(2 * time.Second) // expired by the clock

	r, err := ks.Set(0, []byte("k"), []byte("new"), SetArgs{NX: true, Now: t0.UnixMilli() + 500})
	require.NoError(t, err)
	require.False(t, r.Done, "at the command's time the key still lived: NX must not write")

	r, err = ks.Set(0, []byte("k"), []byte("new"), SetArgs{NX: true})
	require.NoError(t, err)
	require.True(t, r.Done, "by the clock the key had expired")

	require.Equal(t, clk.Now().UnixMilli(), ks.NowMsAt(t0), "an injected clock wins over the caller's reading")
	live, err := New(Options{Stripes: 4})
	require.NoError(t, err)
	require.Equal(t, t0.UnixMilli(), live.NowMsAt(t0))
}

// While the time is frozen (an EXEC or a script runs) a key whose deadline
// the clock has passed stays live for reads, writes and the expiry wheel,
// and relative time counts from the frozen time; Thaw lets it expire.
func TestFrozenTimeKeepsKeysLiveUntilThawed(t *testing.T) {
	t0 := time.UnixMilli(1_700_000_000_000)
	clk := clocktest.NewFake(t0)
	ks, err := New(Options{Stripes: 4, Clock: clk})
	require.NoError(t, err)
	_, err = ks.Set(0, []byte("k"), []byte("v"), SetArgs{Deadline: t0.UnixMilli() + 1})
	require.NoError(t, err)

	ks.Freeze(t0.UnixMilli())
	clk.Advance(50 * time.Millisecond)
	require.Equal(t, t0.UnixMilli(), ks.NowMs())
	require.Equal(t, t0.UnixMilli(), ks.NowMsAt(clk.Now()))
	v, ok, err := ks.Get(0, []byte("k"))
	require.NoError(t, err)
	require.True(t, ok, "live at the frozen time")
	require.Equal(t, "v", string(v))
	deleted, next := ks.ExpireIfDue(0, "k", clk.Now().UnixMilli())
	require.False(t, deleted, "the wheel must not delete a key live at the frozen time")
	require.Equal(t, t0.UnixMilli()+1, next)
	r, err := ks.Set(0, []byte("k"), []byte("w"), SetArgs{NX: true})
	require.NoError(t, err)
	require.False(t, r.Done, "NX sees the key live at the frozen time")

	ks.Thaw()
	_, ok, err = ks.Get(0, []byte("k"))
	require.NoError(t, err)
	require.False(t, ok, "expired by the clock once thawed")
	require.Equal(t, clk.Now().UnixMilli(), ks.NowMs())
	deleted, _ = ks.ExpireIfDue(0, "k", clk.Now().UnixMilli())
	require.True(t, deleted, "the wheel deletes it once thawed")
}

// wallMs reads the same clock as time.Now, to the millisecond.
func TestWallMsIsTheWallClock(t *testing.T) {
	for range 100 {
		before := time.Now().UnixMilli()
		got := wallMs()
		after := time.Now().UnixMilli()
		require.GreaterOrEqual(t, got, before)
		require.LessOrEqual(t, got, after)
	}
}

func BenchmarkWallMs(b *testing.B) {
	var sum int64
	b.Run("clock=wallMs", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			sum += wallMs()
		}
	})
	b.Run("clock=time.Now", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			sum += time.Now().UnixMilli()
		}
	})
	_ = sum
}

// allocSize agrees with the runtime: a slice grown from nil to n bytes gets
// the capacity of n's size class, for every small size and a few large.
func TestAllocSizeIsTheRuntimesSizeClass(t *testing.T) {
	for n := 1; n <= 40_000; n++ {
		if n > 32768 && n%997 != 0 {
			continue
		}
		got := cap(append([]byte(nil), make([]byte, n)...))
		if int64(got) != allocSize(n) {
			t.Fatalf("allocSize(%d) = %d, the runtime allocates %d", n, allocSize(n), got)
		}
	}
	require.Zero(t, allocSize(0))
}

// A keyspace whose clock stands at the epoch can be frozen there too.
func TestFreezeAtTheEpoch(t *testing.T) {
	clk := clocktest.NewFake(time.UnixMilli(0))
	ks, err := New(Options{Stripes: 1, Clock: clk})
	require.NoError(t, err)
	ks.Freeze(0)
	clk.Advance(time.Second)
	require.Zero(t, ks.NowMs())
	ks.Thaw()
	require.Equal(t, int64(1000), ks.NowMs())
}

// TestAvgTTLIsTheMeanOfTheDeadlines: INFO's avg_ttl is the exact mean TTL
// of the keys that have one, through every way a deadline comes and goes;
// a deadline near the end of int64 neither overflows it nor leaves a trace
// once its key is gone.
func TestAvgTTLIsTheMeanOfTheDeadlines(t *testing.T) {
	ks, clk, _ := newTestKeyspace(t)
	now := epoch.UnixMilli()
	assert.Zero(t, ks.AvgTTL(0), "no keys")
	set := func(k string, ttl int64) {
		t.Helper()
		a := SetArgs{}
		if ttl > 0 {
			a.Deadline = now + ttl
		}
		_, err := ks.Set(0, b(k), b("v"), a)
		require.NoError(t, err)
	}
	set("a", 10_000)
	set("b", 30_000)
	set("c", 0) // no deadline: not counted
	assert.Equal(t, int64(20_000), ks.AvgTTL(0))
	assert.Zero(t, ks.AvgTTL(1), "another database")

	clk.Advance(4 * time.Second)
	assert.Equal(t, int64(16_000), ks.AvgTTL(0), "TTLs run down")

	require.True(t, ks.Expire(0, b("c"), now+64_000, 0))
	assert.Equal(t, int64((6_000+26_000+60_000)/3), ks.AvgTTL(0), "EXPIRE adds a deadline")
	require.True(t, ks.Expire(0, b("c"), now+94_000, 0))
	assert.Equal(t, int64((6_000+26_000+90_000)/3), ks.AvgTTL(0), "EXPIRE replaces one")
	require.True(t, ks.Persist(0, b("c")))
	assert.Equal(t, int64(16_000), ks.AvgTTL(0), "PERSIST removes one")
	set("b", 0)
	assert.Equal(t, int64(6_000), ks.AvgTTL(0), "SET without a TTL removes one")
	set("d", 1<<62) // PEXPIREAT near the end of int64
	assert.Greater(t, ks.AvgTTL(0), int64(1e13), "a far deadline counts, capped")
	assert.Equal(t, 2, ks.Del(0, [][]byte{b("d"), b("b")}))
	assert.Equal(t, int64(6_000), ks.AvgTTL(0), "DEL removes one, the far one without a trace")

	clk.Advance(7 * time.Second) // a is past its deadline
	assert.Zero(t, ks.AvgTTL(0), "never negative")
	ks.Flush(0)
	assert.Zero(t, ks.AvgTTL(0))
}
