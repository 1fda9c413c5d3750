package expiry_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sessiond/expiry"
	"sessiond/internal/clocktest"
	"sessiond/keyspace"
)

// wheelOnKeyspace is a keyspace on clk (nil: the real clock) and a wheel
// on wclk (nil: the keyspace's clock, as sessiond runs it) scheduling its
// keys, with no budget to speak of.
func wheelOnKeyspace(t *testing.T, clk keyspace.Clock, wclk expiry.Clock) (*keyspace.Keyspace, *expiry.Wheel) {
	t.Helper()
	ks, err := keyspace.New(keyspace.Options{Stripes: 16, Clock: clk})
	require.NoError(t, err)
	if wclk == nil {
		wclk = ks
	}
	w, err := expiry.New(expiry.Options{Store: ks, Clock: wclk, Budget: time.Hour})
	require.NoError(t, err)
	ks.SetScheduler(w)
	return ks, w
}

// TestWithKeyspace runs the wheel against the real keyspace: a session
// whose TTL is refreshed on every request keeps one wheel entry and is
// reclaimed at its final deadline; SET with a shorter TTL, RENAME and
// PERSIST keep the wheel right.
func TestWithKeyspace(t *testing.T) {
	clk := clocktest.NewFake(time.UnixMilli(epochMs))
	ks, w := wheelOnKeyspace(t, clk, clk)
	now := func() int64 { return clk.Now().UnixMilli() }
	key := []byte("sess:1")

	_, err := ks.Set(0, key, []byte("v"), keyspace.SetArgs{Deadline: now() + 1000})
	require.NoError(t, err)
	for range 50 { // a request every 100 ms refreshes the 1 s TTL
		clk.Advance(100 * time.Millisecond)
		w.Advance(now())
		require.True(t, ks.Expire(0, key, now()+1000, 0))
	}
	assert.EqualValues(t, 1, w.Stats().Scheduled, "refreshes do not add entries")
	final := now() + 1000
	clk.Set(time.UnixMilli(final))
	w.Advance(final)
	assert.Equal(t, 1, ks.Exists(0, [][]byte{key}))
	clk.Set(time.UnixMilli(final + 20))
	assert.Equal(t, 1, w.Advance(now()), "reclaimed within a tick of its final deadline")
	keys, _ := ks.Size(0)
	assert.Zero(t, keys)

	// A shorter TTL is scheduled; RENAME schedules the new name; PERSIST drops it.
	_, _ = ks.Set(0, []byte("a"), []byte("v"), keyspace.SetArgs{Deadline: now() + 10_000})
	_, _ = ks.Set(0, []byte("a"), []byte("v"), keyspace.SetArgs{Deadline: now() + 100})
	_, _ = ks.Set(0, []byte("b"), []byte("v"), keyspace.SetArgs{Deadline: now() + 100})
	_, err = ks.Rename(0, []byte("b"), []byte("c"), false)
	require.NoError(t, err)
	_, _ = ks.Set(0, []byte("p"), []byte("v"), keyspace.SetArgs{Deadline: now() + 100})
	require.True(t, ks.Persist(0, []byte("p")))
	clk.Advance(200 * time.Millisecond)
	assert.Equal(t, 2, w.Advance(now()), "a and c are reclaimed")
	assert.Equal(t, 1, ks.Exists(0, [][]byte{[]byte("p")}))
	clk.Advance(20 * time.Second)
	w.Advance(now())
	assert.EqualValues(t, 0, w.Stats().Scheduled, "every stale entry drained")
}

// TestWheelStandsStillWhileTheKeyspaceIsFrozen: on the keyspace's clock (as
// sessiond runs it) the wheel neither deletes nor re-proposes a key that
// is due by the real clock but live at the frozen time (an EXEC or a
// script is running); once thawed it reclaims it at the next tick.
func TestWheelStandsStillWhileTheKeyspaceIsFrozen(t *testing.T) {
	clk := clocktest.NewFake(time.UnixMilli(epochMs))
	ks, w := wheelOnKeyspace(t, clk, nil)
	_, err := ks.Set(0, []byte("k"), []byte("v"), keyspace.SetArgs{Deadline: epochMs + 5})
	require.NoError(t, err)

	ks.Freeze(epochMs)
	for range 10 {
		clk.Advance(50 * time.Millisecond)
		assert.Zero(t, w.Advance(ks.Now().UnixMilli()))
	}
	assert.Zero(t, w.Stats().StaleEntries, "nothing fired while frozen")
	assert.Equal(t, 1, ks.Exists(0, [][]byte{[]byte("k")}))

	ks.Thaw()
	assert.Equal(t, 1, w.Advance(ks.Now().UnixMilli()), "reclaimed once thawed")
}

// TestRunStandsStillWhileTheKeyspaceIsFrozen: the same through Run, as
// sessiond runs the wheel (on real timers, the keyspace's clock).
func TestRunStandsStillWhileTheKeyspaceIsFrozen(t *testing.T) {
	ks, w := wheelOnKeyspace(t, nil, nil)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	defer func() { stop(); <-done }()

	now := ks.NowMs()
	ks.Freeze(now)
	_, err := ks.Set(0, []byte("k"), []byte("v"), keyspace.SetArgs{Deadline: now + 5})
	require.NoError(t, err)
	time.Sleep(100 * time.Millisecond) // ten ticks past the deadline
	assert.Zero(t, w.Stats().StaleEntries, "nothing fired while frozen")
	assert.Equal(t, 1, ks.Exists(0, [][]byte{[]byte("k")}))

	ks.Thaw()
	require.Eventually(t, func() bool { return w.Stats().ExpiredKeys == 1 }, 2*time.Second, 5*time.Millisecond)
}
