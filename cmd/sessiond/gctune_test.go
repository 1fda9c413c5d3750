package main

import (
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"sessiond/config"
)

func TestGCPercentFor(t *testing.T) {
	const mb = 1 << 20
	require.Equal(t, 128, gcPercentFor(30, 50*mb, 64*mb), "small heap: the floor sets the headroom")
	require.Equal(t, 30, gcPercentFor(30, 500*mb, 64*mb), "large heap: gc-percent's 30% is more than the floor")
	require.Equal(t, 1000, gcPercentFor(30, 1*mb, 64*mb), "capped")
	require.Equal(t, 30, gcPercentFor(30, 50*mb, 0), "no floor")
	require.Equal(t, -1, gcPercentFor(-1, 50*mb, 64*mb), "GC off stays off")
	require.Equal(t, 30, gcPercentFor(30, 0, 64*mb), "no reading yet")
}

func TestGCTunerFollowsHeapAndConfig(t *testing.T) {
	cfg := config.New()
	var live int64 = 50 << 20
	var sets []int
	tu := &gcTuner{cfg: cfg, cur: -2, live: func() int64 { return live }, set: func(p int) int { sets = append(sets, p); return 0 }}
	tu.apply()
	tu.apply() // unchanged: not set again
	live = 1 << 30
	tu.apply()
	require.NoError(t, cfg.Set("gc-headroom-min", "0"))
	require.NoError(t, cfg.Set("gc-percent", "50"))
	tu.apply()
	tu.setLoading(true)
	tu.setLoading(false)
	require.Equal(t, []int{128, 30, 50, 100, 50}, sets)
}

func TestHeapDecayPurgesOnceAfterAQuietSpell(t *testing.T) {
	const mb = 1 << 20
	st := heapStats{cycles: 7, live: 400 * mb, idle: 60 * mb}
	purges := 0
	d := &heapDecay{read: func() heapStats { return st }, purge: func() { purges++; st.cycles++; st.idle = 0 }}
	t0 := time.Unix(1000, 0)
	d.tick(t0)
	d.tick(t0.Add(heapDecayAfter - time.Millisecond))
	require.Equal(t, 0, purges, "not quiet for long enough yet")
	st.cycles++ // a collection ran: the quiet spell starts again
	d.tick(t0.Add(heapDecayAfter))
	d.tick(t0.Add(2*heapDecayAfter - time.Millisecond))
	require.Equal(t, 0, purges, "the spell restarted at the last collection")
	d.tick(t0.Add(2 * heapDecayAfter))
	require.Equal(t, 1, purges, "quiet for heapDecayAfter with 60 MB idle over 400 MB live")
	st.idle = 60 * mb
	d.tick(t0.Add(3 * heapDecayAfter))
	d.tick(t0.Add(5 * heapDecayAfter))
	require.Equal(t, 1, purges, "once per spell: the purge's own collection does not start a new one")
	st.cycles++
	d.tick(t0.Add(6 * heapDecayAfter))
	st.idle = 20 * mb // under live/16 = 25 MB
	d.tick(t0.Add(8 * heapDecayAfter))
	require.Equal(t, 1, purges, "too little idle memory to be worth a collection")
	st.idle = 30 * mb
	d.tick(t0.Add(9 * heapDecayAfter))
	require.Equal(t, 2, purges, "a new spell after a collection, with idle over live/16")
}

func TestHeapDecayReadsTheRuntime(t *testing.T) {
	d := newHeapDecay()
	st := d.read()
	require.Positive(t, st.live+st.idle, "the runtime reports a heap")
	runtime.GC()
	require.Greater(t, d.read().cycles, st.cycles, "a collection counts")
}
