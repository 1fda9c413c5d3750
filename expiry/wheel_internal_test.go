package expiry

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// countStore deletes every key it is asked about.
type countStore struct{ n int }

func (s *countStore) ExpireIfDue(int, string, int64) (bool, int64) {
	s.n++
	return true, 0
}

const t0 = int64(1_795_219_200_000)

type fixed struct{}

func (fixed) Now() time.Time { return time.UnixMilli(t0) }

func newTestWheel(t *testing.T, opts Options) *Wheel {
	t.Helper()
	if opts.Clock == nil {
		opts.Clock = fixed{}
	}
	w, err := New(opts)
	require.NoError(t, err)
	return w
}

func TestSlotRunsAndSingles(t *testing.T) {
	var s slot
	s.add("a", meta(7, 0))
	s.add("b", meta(7, 0)) // promotes a into a run with b
	s.add("c", meta(7, 0))
	s.add("d", meta(7, 1)) // a single
	s.add("e", meta(9, 0)) // a single
	s.add("f", meta(9, 0)) // promotes e
	assert.Equal(t, [][]string{{"a", "b", "c", "e", "f"}}, s.keys.b)
	assert.Equal(t, []run{{meta(7, 0), 3}, {meta(9, 0), 2}}, s.runs)
	assert.Equal(t, [][]entry{{{"d", meta(7, 1)}}}, s.singles.b)
	assert.Equal(t, 6, s.len())

	var got []string
	var c cursor
	for {
		k, m, ok := c.next(&s)
		if !ok {
			break
		}
		got = append(got, fmt.Sprintf("%s@%d/%d", k, metaTick(m), metaDB(m)))
	}
	assert.Equal(t, []string{"a@7/0", "b@7/0", "c@7/0", "e@9/0", "f@9/0", "d@7/1"}, got)

	s.reset()
	assert.True(t, s.empty())
	assert.Equal(t, "", s.keys.b[0][:1][0], "cleared buffers hold no key bytes")
}

func TestBlocks(t *testing.T) {
	const per = 10
	var l blocks[int]
	for i := range 3*per + 7 {
		l.push(i, per)
	}
	require.Equal(t, 3*per+7, l.n)
	require.Len(t, l.b, 4)
	for i := range l.b[:3] {
		require.Len(t, l.b[i], per, "every block but the last is full")
		require.Equal(t, per, cap(l.b[i]), "no block is bigger than per")
	}
	for i := range l.n {
		require.Equal(t, i, l.at(i, per))
	}
	assert.Equal(t, 3*per+6, *l.last())
	for i := 3*per + 6; i >= 2*per; i-- {
		require.Equal(t, i, l.pop())
	}
	assert.Len(t, l.b, 2, "emptied blocks are dropped")
	assert.Equal(t, 2*per-1, *l.last())
	l.push(-1, per)
	assert.Equal(t, -1, l.at(2*per, per))
	l.reset()
	assert.Zero(t, l.n)
	assert.Nil(t, l.last())
	assert.Len(t, l.b, 1)
	assert.Equal(t, per, l.capacity(), "the first block is kept")
	for len(l.b[0]) < 2 {
		l.push(7, per)
	}
	for l.n > 0 {
		l.pop()
	}
	assert.Len(t, l.b, 1, "the first block stays")
}

func TestMetaPacking(t *testing.T) {
	m := meta(maxTick, 15)
	assert.Equal(t, uint64(maxTick), metaTick(m))
	assert.Equal(t, 15, metaDB(m))
}

// TestTimeCapLeavesWorkForNextTick uses a budget clock that moves 1 ms per
// reading. Advance reads it twice per work segment, two segments per batch,
// so each batch costs 2 ms and the budget of 4 ms is spent after two.
func TestTimeCapLeavesWorkForNextTick(t *testing.T) {
	s := &countStore{}
	w := newTestWheel(t, Options{Store: s, BatchSize: 100, Budget: 4 * time.Millisecond})
	var fake time.Time
	w.now = func() time.Time { fake = fake.Add(time.Millisecond); return fake }
	for i := range 1000 {
		w.Schedule(0, fmt.Sprint(i), t0+500)
	}
	assert.Equal(t, 200, w.Advance(t0+1000), "two batches, then the budget is spent")
	st := w.Stats()
	assert.EqualValues(t, 1, st.TimeCapReached)
	assert.EqualValues(t, 800, st.Scheduled)

	assert.Equal(t, 200, w.Advance(t0+1000), "the next tick continues, even at the same time")
	for w.Stats().Scheduled > 0 {
		w.Advance(t0 + 1010)
	}
	st = w.Stats()
	assert.EqualValues(t, 1000, st.ExpiredKeys)
	assert.EqualValues(t, 4, st.TimeCapReached, "capped after 200, 400, 600, 800 and not after the last batch")
	assert.Equal(t, 1000, s.n)
}

func TestBudgetNotCountedWhenWorkIsDone(t *testing.T) {
	s := &countStore{}
	w := newTestWheel(t, Options{Store: s, BatchSize: 100, Budget: time.Nanosecond})
	for i := range 100 {
		w.Schedule(0, fmt.Sprint(i), t0+500)
	}
	assert.Equal(t, 100, w.Advance(t0+1000))
	assert.EqualValues(t, 0, w.Stats().TimeCapReached)
}

// After a storm the big slot buffers are dropped, so the memory returns;
// small ones are kept for reuse.
func TestStormBuffersAreReleased(t *testing.T) {
	s := &countStore{}
	w := newTestWheel(t, Options{Store: s, Budget: time.Hour})
	for i := range 30_000 {
		w.Schedule(i%2, fmt.Sprint(i), t0+20_000+int64(i%3))
	}
	for i := range 10 {
		w.Schedule(0, fmt.Sprint("small", i), t0+30_000)
	}
	require.Equal(t, 30_010, w.Advance(t0+40_000))
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, s := range w.spare {
		assert.LessOrEqual(t, s.capacity(), keepCap)
		assert.True(t, s.empty())
	}
	assert.NotEmpty(t, w.spare, "small buffers are kept")
	for l, lv := range w.levels {
		if lv == nil {
			continue
		}
		assert.Zero(t, lv.n, "level %d", l)
		for i := range lv.slots {
			assert.LessOrEqual(t, lv.slots[i].capacity(), keepCap, "level %d slot %d", l, i)
		}
	}
	assert.Empty(t, w.pend)
	assert.Zero(t, w.pendN)
}

func TestUntilNextTickAligns(t *testing.T) {
	w := newTestWheel(t, Options{Store: &countStore{}, Clock: clockAt(t0 + 3)})
	assert.Equal(t, 7*time.Millisecond, w.untilNextTick())
	w = newTestWheel(t, Options{Store: &countStore{}, Clock: clockAt(t0)})
	assert.Equal(t, 10*time.Millisecond, w.untilNextTick())
}

type clockAt int64

func (c clockAt) Now() time.Time { return time.UnixMilli(int64(c)) }

// TestPlacementInvariant checks that every entry is filed at the lowest level
// that can hold it, in a slot not yet passed, for ticks around boundaries.
func TestPlacementInvariant(t *testing.T) {
	w := newTestWheel(t, Options{Store: &countStore{}, Slots: 4})
	w.cur = 0b0111_1111 // end of a level-0 block and of a level-2 block... of 4 slots
	for _, tick := range []uint64{0b1000_0000, 0b1000_0001, 0b1000_0100, 0b1_0000_0000, 0b0111_1111 + 1<<40} {
		w.mu.Lock()
		w.insert("k", meta(tick, 0))
		w.mu.Unlock()
	}
	// All five are after cur and must each fire at their own tick.
	var fired []uint64
	for w.Stats().Scheduled > 0 {
		e, ok := w.nextEvent()
		require.True(t, ok)
		require.True(t, w.step(e))
		for {
			_, m, ok := w.pop()
			if !ok {
				break
			}
			if metaTick(m) <= w.cur {
				require.Equal(t, w.cur, metaTick(m), "fired exactly at its tick")
				fired = append(fired, metaTick(m))
				continue
			}
			w.stats.Scheduled++
			w.place("k", m)
		}
	}
	assert.Equal(t, []uint64{0b1000_0000, 0b1000_0001, 0b1000_0100, 0b1_0000_0000, 0b0111_1111 + 1<<40}, fired)
}
