package main

import (
	"testing"

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
