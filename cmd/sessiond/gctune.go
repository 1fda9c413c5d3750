package main

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"time"

	"sessiond/config"
)

// A cache's heap is nearly all live data, so gc-percent is low (30): the
// heap may grow 30% over the live data before a collection. With a small
// dataset that is only a few megabytes, and a write-heavy load (every
// SETEX leaves its old value behind) then runs a collection several times a
// second, each marking the whole dataset: at 100,000 sessions and 200,000
// SETEX/s that was a third of the server's CPU (bench/README.md). So the
// collector is also allowed gc-headroom-min bytes of growth, whichever is
// larger; for datasets over gc-headroom-min*100/gc-percent (213 MB with
// the defaults) the floor changes nothing. gcTuner.run re-derives the
// percent from the live heap twice a second.

// loadGCPercent is the least GC percent while a snapshot loads. A load
// makes almost no garbage, so the percent hardly changes the peak heap,
// but at 30 the collector marks the growing heap again every 30% (4.3x
// the final heap in all): loading a 1M-session file written by Redis took
// 4.3 s at 30 and 3.0 s at 100 (peak RSS 472-496 MB and 499 MB).
const loadGCPercent = 100

// gcPercentFor is the GC percent giving a heap of live bytes at least
// minHeadroom bytes of growth, and never less than base (negative: off).
func gcPercentFor(base int, live, minHeadroom int64) int {
	if base < 0 || minHeadroom <= 0 || live <= 0 {
		return base
	}
	p := int(min(minHeadroom*100/live, 1000))
	return max(p, base)
}

type gcTuner struct {
	cfg  *config.Config
	set  func(int) int // debug.SetGCPercent
	live func() int64  // the live heap after the last collection

	mu  sync.Mutex // guards cur and loading (CONFIG SET, run and the load call apply)
	cur int
	// loading: a snapshot is loading (loadGCPercent applies).
	loading bool

	decay *heapDecay // returns idle heap pages after a quiet spell; nil: never
}

func newGCTuner(cfg *config.Config) *gcTuner {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	return &gcTuner{cfg: cfg, set: debug.SetGCPercent, cur: -2, decay: newHeapDecay(), live: func() int64 {
		metrics.Read(sample)
		if sample[0].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return int64(sample[0].Value.Uint64())
	}}
}

// apply sets the percent for the current live heap, when it changed.
func (t *gcTuner) apply() {
	t.mu.Lock()
	defer t.mu.Unlock()
	base := int(t.cfg.Int("gc-percent"))
	if t.loading && base >= 0 {
		base = max(base, loadGCPercent)
	}
	p := gcPercentFor(base, t.live(), t.cfg.Int("gc-headroom-min"))
	if p != t.cur {
		t.set(p)
		t.cur = p
	}
}

// percent is the GC percent last set.
func (t *gcTuner) percent() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.cur
}

// setLoading marks the start and end of the snapshot load.
func (t *gcTuner) setLoading(on bool) {
	t.mu.Lock()
	t.loading = on
	t.mu.Unlock()
	t.apply()
}

// run re-derives the percent from the live heap twice a second, and lets
// the heap decay (heapdecay.go).
func (t *gcTuner) run(ctx context.Context) {
	tk := time.NewTicker(500 * time.Millisecond)
	defer tk.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tk.C:
			t.apply()
			if t.decay != nil && t.percent() >= 0 { // gc-percent -1: no collections, forced ones included
				t.decay.tick(now)
			}
		}
	}
}
