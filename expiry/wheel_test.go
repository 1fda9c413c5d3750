package expiry_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sessiond/expiry"
)

func TestNewValidates(t *testing.T) {
	s := newFakeStore()
	cases := []struct {
		name string
		opts expiry.Options
		ok   bool
	}{
		{"defaults", expiry.Options{Store: s}, true},
		{"no store", expiry.Options{}, false},
		{"slots not a power of two", expiry.Options{Store: s, Slots: 1000}, false},
		{"one slot", expiry.Options{Store: s, Slots: 1}, false},
		{"negative slots", expiry.Options{Store: s, Slots: -4}, false},
		{"small power of two", expiry.Options{Store: s, Slots: 2}, true},
		{"sub-millisecond tick", expiry.Options{Store: s, Tick: 500 * time.Microsecond}, false},
		{"fractional tick", expiry.Options{Store: s, Tick: 1500 * time.Microsecond}, false},
		{"negative tick", expiry.Options{Store: s, Tick: -time.Millisecond}, false},
		{"1ms tick", expiry.Options{Store: s, Tick: time.Millisecond}, true},
		{"negative batch", expiry.Options{Store: s, BatchSize: -1}, false},
		{"huge batch", expiry.Options{Store: s, BatchSize: 1<<20 + 1}, false},
		{"negative budget", expiry.Options{Store: s, Budget: -1}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w, err := expiry.New(c.opts)
			if c.ok {
				require.NoError(t, err)
				require.NotNil(t, w)
			} else {
				require.Error(t, err)
			}
		})
	}
}

// A key with deadline D is expired once now > D; with a 10 ms tick the wheel
// fires it at the first tick boundary after D.
func TestDueAndNotDue(t *testing.T) {
	s := newFakeStore()
	w := newWheel(t, s, expiry.Options{})
	d := epochMs + 1005
	setex(w, s, 0, "k", d)

	assert.Equal(t, 0, w.Advance(d-1), "not due before the deadline")
	assert.Equal(t, 0, w.Advance(d), "not due at the deadline itself")
	assert.Equal(t, 0, w.Advance(epochMs+1009), "not due before the tick boundary after the deadline")
	require.True(t, s.has(0, "k"))
	assert.Equal(t, 0, s.totalCalls(), "Store is not asked about keys that are not due")
	assert.EqualValues(t, 1, w.Stats().Scheduled)

	assert.Equal(t, 1, w.Advance(epochMs+1010))
	assert.False(t, s.has(0, "k"))
	st := w.Stats()
	assert.EqualValues(t, 0, st.Scheduled)
	assert.EqualValues(t, 1, st.ExpiredKeys)
	assert.EqualValues(t, 0, st.StaleEntries)
	assert.Equal(t, 1, s.callsFor(0, "k"))
}

func TestDeadlineOnTickBoundary(t *testing.T) {
	s := newFakeStore()
	w := newWheel(t, s, expiry.Options{})
	d := epochMs + 1000 // exactly on a boundary: expired from 1001 on
	setex(w, s, 0, "k", d)
	assert.Equal(t, 0, w.Advance(d))
	assert.Equal(t, 0, w.Advance(d+9))
	assert.Equal(t, 1, w.Advance(d+10))
}

func TestOneMillisecondTickIsExact(t *testing.T) {
	s := newFakeStore()
	w := newWheel(t, s, expiry.Options{Tick: time.Millisecond})
	d := epochMs + 1234
	setex(w, s, 0, "k", d)
	assert.Equal(t, 0, w.Advance(d))
	assert.Equal(t, 1, w.Advance(d+1))
}

// The keyspace does not schedule a deadline that only moved later: the
// entry at the old deadline fires early and is re-filed at the new one, so a
// session refreshed on every request keeps one entry.
func TestExtendedDeadlineIsRefiledNotDuplicated(t *testing.T) {
	s := newFakeStore()
	w := newWheel(t, s, expiry.Options{})
	setex(w, s, 0, "k", epochMs+1000)
	for i := range 100 { // EXPIRE k on every request: the store changes, the wheel is not told
		s.set(0, "k", epochMs+5000+int64(i))
	}
	require.EqualValues(t, 1, w.Stats().Scheduled)

	assert.Equal(t, 0, w.Advance(epochMs+2000))
	assert.True(t, s.has(0, "k"))
	st := w.Stats()
	assert.EqualValues(t, 1, st.StaleEntries)
	assert.EqualValues(t, 1, st.Scheduled, "the early entry is re-filed at the key's real deadline")
	assert.InDelta(t, 1.0, st.LastTickStaleRatio, 1e-9)

	assert.Equal(t, 0, w.Advance(epochMs+5099))
	assert.Equal(t, 1, w.Advance(epochMs+5120))
	assert.False(t, s.has(0, "k"))
	assert.Equal(t, 2, s.callsFor(0, "k"), "one early call, one that deletes")
	assert.EqualValues(t, 0, w.Stats().Scheduled)
}

// A shortened deadline is scheduled (the keyspace does that); the older,
// later entry then fires for a key that is gone and is dropped.
func TestShortenedDeadlineLeavesHarmlessStaleEntry(t *testing.T) {
	s := newFakeStore()
	w := newWheel(t, s, expiry.Options{})
	setex(w, s, 0, "k", epochMs+5000)
	setex(w, s, 0, "k", epochMs+1000)
	require.EqualValues(t, 2, w.Stats().Scheduled)
	assert.Equal(t, 1, w.Advance(epochMs+1100))
	assert.Equal(t, 0, w.Advance(epochMs+6000))
	assert.EqualValues(t, 0, w.Stats().Scheduled)
	assert.Equal(t, 2, s.callsFor(0, "k"))
}

// Two concurrent SETEXs can reach the wheel in the opposite order from the
// one in which they hit the map; the wheel keeps both entries, so whichever
// deadline the keyspace ends up with is covered.
func TestSchedulesInEitherOrderAreBothKept(t *testing.T) {
	s := newFakeStore()
	w := newWheel(t, s, expiry.Options{})
	s.set(0, "k", epochMs+1000)
	s.set(0, "k", epochMs+3000) // the map ends with 3000 ...
	w.Schedule(0, "k", epochMs+3000)
	w.Schedule(0, "k", epochMs+1000) // ... but 1000 reaches the wheel last
	assert.Equal(t, 0, w.Advance(epochMs+2000))
	assert.Equal(t, 1, w.Advance(epochMs+3010))
}

func TestShortenedDeadline(t *testing.T) {
	s := newFakeStore()
	w := newWheel(t, s, expiry.Options{})
	setex(w, s, 0, "k", epochMs+60_000)
	setex(w, s, 0, "k", epochMs+1000)
	assert.Equal(t, 1, w.Advance(epochMs+1010))
	assert.Equal(t, 0, w.Advance(epochMs+60_010), "the later entry finds the key gone")
	st := w.Stats()
	assert.EqualValues(t, 1, st.ExpiredKeys)
	assert.EqualValues(t, 1, st.StaleEntries)
	assert.EqualValues(t, 0, st.Scheduled)
}

func TestPersistedKeyIsLeftAlone(t *testing.T) {
	s := newFakeStore()
	w := newWheel(t, s, expiry.Options{})
	setex(w, s, 0, "k", epochMs+1000)
	s.set(0, "k", 0) // PERSIST: no deadline, nothing to schedule
	assert.Equal(t, 0, w.Advance(epochMs+10_000))
	assert.True(t, s.has(0, "k"))
	assert.EqualValues(t, 1, w.Stats().StaleEntries)
	assert.EqualValues(t, 0, w.Stats().Scheduled)
}

func TestDeletedKeyIsStale(t *testing.T) {
	s := newFakeStore()
	w := newWheel(t, s, expiry.Options{})
	setex(w, s, 0, "k", epochMs+1000)
	s.del(0, "k")
	assert.Equal(t, 0, w.Advance(epochMs+10_000))
	assert.EqualValues(t, 1, w.Stats().StaleEntries)
	assert.EqualValues(t, 0, w.Stats().Scheduled)
}

func TestRenamedKey(t *testing.T) {
	s := newFakeStore()
	w := newWheel(t, s, expiry.Options{})
	setex(w, s, 0, "old", epochMs+1000)
	// RENAME old new keeps the deadline; the keyspace schedules the new name.
	s.del(0, "old")
	setex(w, s, 0, "new", epochMs+1000)
	assert.Equal(t, 1, w.Advance(epochMs+1010))
	assert.False(t, s.has(0, "new"))
	st := w.Stats()
	assert.EqualValues(t, 1, st.ExpiredKeys)
	assert.EqualValues(t, 1, st.StaleEntries)
	assert.InDelta(t, 0.5, st.LastTickStaleRatio, 1e-9)
}

func TestFarDeadlines(t *testing.T) {
	s := newFakeStore()
	w := newWheel(t, s, expiry.Options{})
	deadlines := []struct {
		key string
		at  int64
	}{ // in order, because Advance to one deadline fires every earlier one
		{"1s", epochMs + 1_000},
		{"11s", epochMs + 11_000}, // just past one level-0 rotation
		{"3h", epochMs + 3*3600_000},
		{"2d", epochMs + 2*86400_000},
		{"400d", epochMs + 400*86400_000},
		{"30y", epochMs + 30*365*86400_000},
		{"year 9999", 253_402_300_799_000},
	}
	for _, d := range deadlines {
		setex(w, s, 0, d.key, d.at)
	}
	for _, d := range deadlines {
		// Jump straight to just before the boundary, then to it.
		boundary := d.at + 10 - (d.at+10)%10
		w.Advance(boundary - 1)
		require.True(t, s.has(0, d.key), "%s fired early", d.key)
		w.Advance(boundary)
		require.False(t, s.has(0, d.key), "%s not fired at its tick", d.key)
	}
	assert.EqualValues(t, len(deadlines), w.Stats().ExpiredKeys)
	assert.EqualValues(t, 0, w.Stats().StaleEntries)
	assert.Equal(t, len(deadlines), s.totalCalls(), "cascading never calls Store")
}

// TestExactTimingProperty schedules random deadlines over minutes to weeks,
// advances by random steps (ticks to days), and checks after every Advance
// that exactly the keys whose tick boundary has passed are gone.
func TestExactTimingProperty(t *testing.T) {
	for _, slots := range []int{2, 64, 1024} {
		t.Run(fmt.Sprintf("slots=%d", slots), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, uint64(slots)))
			s := newFakeStore()
			w := newWheel(t, s, expiry.Options{Slots: slots})
			type key struct {
				db       int
				name     string
				deadline int64
			}
			var keys []key
			now := epochMs
			horizons := []int64{50, 2_000, 20_000, 3_600_000, 7 * 86_400_000}
			for step := range 400 {
				for range rng.IntN(20) {
					k := key{
						db:       rng.IntN(16),
						name:     fmt.Sprintf("k%d-%d", step, len(keys)),
						deadline: now - 100 + rng.Int64N(horizons[rng.IntN(len(horizons))]),
					}
					keys = append(keys, k)
					setex(w, s, k.db, k.name, k.deadline)
				}
				switch rng.IntN(10) {
				case 0:
					now += rng.Int64N(3 * 86_400_000) // a big jump
				case 1, 2:
					now += rng.Int64N(60_000)
				default:
					now += rng.Int64N(30)
				}
				w.Advance(now)
				boundary := now - now%10 // last tick boundary at or before now
				s.mu.Lock()
				for _, k := range keys {
					_, live := s.dbs[k.db][k.name]
					// A key whose deadline is before the boundary is due.
					if k.deadline < boundary == live {
						s.mu.Unlock()
						require.Failf(t, "wrong expiry", "key %s deadline %d now %d live %v",
							k.name, k.deadline, now, live)
					}
				}
				s.mu.Unlock()
			}
			w.Advance(now + 8*86_400_000)
			require.Zero(t, s.len())
			for _, k := range keys {
				require.Equal(t, 1, s.callsFor(k.db, k.name), "key %s fired once", k.name)
			}
		})
	}
}

func TestDeadlineInThePastFiresOnNextAdvance(t *testing.T) {
	s := newFakeStore()
	w := newWheel(t, s, expiry.Options{})
	w.Advance(epochMs + 5000)
	setex(w, s, 0, "past", epochMs+1000)
	setex(w, s, 0, "negative", -5)
	setex(w, s, 0, "this tick", epochMs+4995) // its tick (5000) is processed already
	assert.Equal(t, 3, w.Advance(epochMs+5000), "no time needs to pass")
	assert.Zero(t, s.len())
}

func TestClockJumpsForward(t *testing.T) {
	s := newFakeStore()
	w := newWheel(t, s, expiry.Options{})
	for i := range 1000 {
		setex(w, s, 0, fmt.Sprint(i), epochMs+int64(i)*86_400) // over 1000 days/1000
	}
	assert.Equal(t, 1000, w.Advance(epochMs+1000*86_400+10))
	assert.Zero(t, s.len())
	assert.EqualValues(t, 0, w.Stats().Scheduled)
}

func TestClockJumpsBackward(t *testing.T) {
	s := newFakeStore()
	w := newWheel(t, s, expiry.Options{})
	setex(w, s, 0, "a", epochMs+1000)
	setex(w, s, 0, "b", epochMs+3000)
	assert.Equal(t, 1, w.Advance(epochMs+2000))

	// The clock steps back a minute. Nothing fires again, nothing is lost.
	back := epochMs - 60_000
	assert.Equal(t, 0, w.Advance(back))
	assert.True(t, s.has(0, "b"))

	// A key scheduled for 1500 after the step: its tick was already
	// processed by the wheel, so it is handed to Store at once; Store says
	// it is not due, and the wheel keeps it rather than dropping it.
	setex(w, s, 0, "c", epochMs+1500)
	assert.Equal(t, 0, w.Advance(back))
	assert.True(t, s.has(0, "c"))
	assert.EqualValues(t, 2, w.Stats().Scheduled, "b and c are still scheduled")

	// Time catches up again.
	assert.Equal(t, 0, w.Advance(epochMs+1400))
	assert.Equal(t, 0, w.Advance(epochMs+2000), "c's retry tick is after 2000")
	assert.Equal(t, 1, w.Advance(epochMs+2010))
	assert.False(t, s.has(0, "c"))
	assert.Equal(t, 1, w.Advance(epochMs+3010))
	assert.False(t, s.has(0, "b"))
	assert.Equal(t, 1, s.callsFor(0, "a"))
	assert.Equal(t, 1, s.callsFor(0, "b"), "b fired exactly once")
	assert.Equal(t, 2, s.callsFor(0, "c"))
	assert.EqualValues(t, 0, w.Stats().Scheduled)
}

func TestManyKeysInOneSlot(t *testing.T) {
	s := newFakeStore()
	w := newWheel(t, s, expiry.Options{BatchSize: 256})
	const n = 50_000
	d := epochMs + 2000
	for i := range n {
		setex(w, s, 0, fmt.Sprint(i), d)
	}
	// The wheel's lock must not be held while Store runs: Schedule and
	// Stats would deadlock here if it were.
	inStore := 0
	s.during = func() {
		inStore++
		if inStore%5_000 == 0 {
			w.Schedule(1, "probe", d+60_000)
			_ = w.Stats()
		}
	}
	assert.Equal(t, n, w.Advance(d+10))
	assert.Zero(t, s.len())
	assert.Equal(t, n, s.totalCalls())
	assert.EqualValues(t, n/5_000, w.Stats().Scheduled, "only the probes remain")
}

func TestSixteenDatabases(t *testing.T) {
	s := newFakeStore()
	w := newWheel(t, s, expiry.Options{})
	for db := range 16 {
		setex(w, s, db, "k", epochMs+int64(db+1)*1000)
	}
	for db := range 16 {
		assert.Equal(t, 1, w.Advance(epochMs+int64(db+1)*1000+10))
		assert.False(t, s.has(db, "k"))
		for other := db + 1; other < 16; other++ {
			require.True(t, s.has(other, "k"), "db %d fired with db %d", other, db)
		}
	}
	assert.Panics(t, func() { w.Schedule(16, "k", epochMs) })
	assert.Panics(t, func() { w.Schedule(-1, "k", epochMs) })
}

func TestConcurrentSchedule(t *testing.T) {
	s := newFakeStore()
	w := newWheel(t, s, expiry.Options{BatchSize: 64})
	const writers, perWriter = 8, 5_000
	var wg sync.WaitGroup
	var now int64 = epochMs
	done := make(chan struct{})
	var advanced sync.WaitGroup
	advanced.Add(1)
	go func() { // the expiry goroutine, racing with the writers
		defer advanced.Done()
		for i := int64(1); ; i++ {
			select {
			case <-done:
				return
			default:
			}
			w.Advance(now + i*10)
		}
	}()
	for g := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				key := fmt.Sprintf("w%d-%d", g, i)
				setex(w, s, (g+i)%16, key, now+int64(i%3000)) // some already past
				if i%7 == 0 {
					setex(w, s, (g+i)%16, key, now+int64(i%3000)+500) // refresh
				}
				_ = w.Stats()
			}
		}()
	}
	wg.Wait()
	close(done)
	advanced.Wait()
	w.Advance(now + 10_000_000) // far enough past every deadline
	assert.Zero(t, s.len())
	st := w.Stats()
	// A refresh can re-create a key the wheel just deleted, so a key may be
	// deleted twice.
	assert.EqualValues(t, s.deletions(), st.ExpiredKeys)
	assert.GreaterOrEqual(t, st.ExpiredKeys, int64(writers*perWriter))
	assert.EqualValues(t, 0, st.Scheduled)
}

func TestReset(t *testing.T) {
	s := newFakeStore()
	w := newWheel(t, s, expiry.Options{})
	w.Advance(epochMs + 100)
	for i := range 1000 {
		w.Schedule(i%16, fmt.Sprint(i), epochMs+int64(i)*1000)
	}
	w.Schedule(0, "late", epochMs) // already due
	require.EqualValues(t, 1001, w.Stats().Scheduled)
	w.Reset()
	assert.EqualValues(t, 0, w.Stats().Scheduled)
	assert.Equal(t, 0, w.Advance(epochMs+2_000_000))
	assert.Zero(t, s.totalCalls())

	setex(w, s, 0, "after", epochMs+2_000_100)
	assert.Equal(t, 1, w.Advance(epochMs+2_000_110), "the wheel works after Reset")
	w.ResetDB(3) // documented no-op
}

// TestRun drives the real loop in a synctest bubble: time.Now and the
// timer are fake, so ninety simulated seconds take microseconds.
func TestRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newFakeStore()
		w, err := expiry.New(expiry.Options{Store: s}) // real clock, faked by the bubble
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { defer close(done); w.Run(ctx) }()

		now := time.Now().UnixMilli()
		setex(w, s, 0, "short", now+30_000)
		setex(w, s, 0, "long", now+3_600_000)

		time.Sleep(30 * time.Second)
		synctest.Wait()
		assert.True(t, s.has(0, "short"), "not due until now > deadline")
		time.Sleep(10 * time.Millisecond)
		synctest.Wait()
		assert.False(t, s.has(0, "short"), "reclaimed within one tick of its deadline")
		assert.True(t, s.has(0, "long"))
		assert.EqualValues(t, 1, w.Stats().Scheduled)

		cancel()
		<-done
	})
}

// TestRunInactive: SetActive(false) stops Run from reclaiming anything
// (DEBUG SET-ACTIVE-EXPIRE 0); turned back on, the first tick reclaims
// what fell due meanwhile.
func TestRunInactive(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newFakeStore()
		w, err := expiry.New(expiry.Options{Store: s})
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { defer close(done); w.Run(ctx) }()

		w.SetActive(false)
		now := time.Now().UnixMilli()
		setex(w, s, 0, "a", now+1_000)
		setex(w, s, 3, "b", now+5_000)
		time.Sleep(time.Minute)
		synctest.Wait()
		assert.True(t, s.has(0, "a"))
		assert.True(t, s.has(3, "b"))
		assert.Zero(t, s.totalCalls())

		w.SetActive(true)
		time.Sleep(10 * time.Millisecond)
		synctest.Wait()
		assert.False(t, s.has(0, "a"))
		assert.False(t, s.has(3, "b"))

		cancel()
		<-done
	})
}

// TestRunStormLateness runs a storm through the real loop in a synctest
// bubble. Work takes no simulated time there, so this pins the design's
// share of the lateness: the tick bucketing and Run waking on tick
// boundaries. Every key must be gone within one tick of its deadline.
func TestRunStormLateness(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 30_000
		base := time.Now().UnixMilli() + 15_000 // beyond level 0: exercises a cascade
		deadline := make(map[string]int64, n)
		keys := make([]string, n)
		for i := range keys {
			keys[i] = fmt.Sprint("s", i)
			deadline[keys[i]] = base + int64(i*1000/n) + int64(i%7) // over one second
		}
		s := &latenessStore{fakeStore: newFakeStore(), deadline: deadline}
		w, err := expiry.New(expiry.Options{Store: s, BatchSize: 64})
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { defer close(done); w.Run(ctx) }()
		for i, k := range keys {
			setex(w, s.fakeStore, i%16, k, deadline[k])
		}

		time.Sleep(time.Until(time.UnixMilli(base + 1100)))
		synctest.Wait()
		cancel()
		<-done

		assert.Zero(t, s.len())
		assert.EqualValues(t, n, w.Stats().ExpiredKeys)
		assert.EqualValues(t, 0, w.Stats().TimeCapReached)
		require.Len(t, s.late, n)
		for _, l := range s.late {
			require.Greater(t, l, int64(0), "never before the deadline")
			require.LessOrEqual(t, l, int64(10), "within one tick")
		}
	})
}

// latenessStore records, for every key it deletes, how many ms after its
// deadline that happened.
type latenessStore struct {
	*fakeStore
	deadline map[string]int64 // read-only
	late     []int64          // only the wheel's goroutine appends
}

func (s *latenessStore) ExpireIfDue(db int, key string, nowMs int64) (bool, int64) {
	deleted, next := s.fakeStore.ExpireIfDue(db, key, nowMs)
	if deleted {
		s.late = append(s.late, time.Now().UnixMilli()-s.deadline[key])
	}
	return deleted, next
}
