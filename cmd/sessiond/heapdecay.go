package main

import (
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// Go's scavenger keeps the heap's freed pages resident up to about 10%
// over the heap goal, that is live x (1 + gc-percent/100) x 1.1: after a
// burst of writes ends (a bulk load, a traffic peak) a cache keeps its
// peak RSS indefinitely. Redis's jemalloc returns such dirty pages to the
// system over dirty_decay_ms (10 s) in its background thread. heapDecay
// does the same at the heap's scale: once no collection has run for
// heapDecayAfter, the allocation rate is low enough that the headroom is
// not about to be used, and if the heap holds more than heapDecayMin (or a
// sixteenth of the live data) that is not live, it collects and returns
// all free pages once (debug.FreeOSMemory, a forced collection: about as
// much CPU as one regular collection), then waits for the next collection
// before it may do so again. Under a steady write load collections keep
// running and it never fires, so it costs nothing there.
const (
	heapDecayAfter = 10 * time.Second
	heapDecayMin   = 16 << 20
)

// heapStats is what heapDecay reads from the runtime.
type heapStats struct {
	cycles uint64 // completed GC cycles
	live   int64  // live heap after the last collection
	idle   int64  // resident heap bytes that are not live: garbage and free pages
}

type heapDecay struct {
	read  func() heapStats
	purge func() // debug.FreeOSMemory

	cycles uint64    // cycle count at the last change
	since  time.Time // when cycles last changed
	done   bool      // purged since the last change
}

func newHeapDecay() *heapDecay {
	s := []metrics.Sample{
		{Name: "/gc/cycles/total:gc-cycles"},
		{Name: "/gc/heap/live:bytes"},
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/heap/free:bytes"},
	}
	u := func(i int) uint64 {
		if s[i].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return s[i].Value.Uint64()
	}
	return &heapDecay{purge: debug.FreeOSMemory, read: func() heapStats {
		metrics.Read(s)
		live := int64(u(1))
		return heapStats{cycles: u(0), live: live, idle: int64(u(2)) - live + int64(u(3))}
	}}
}

// tick is called periodically with the current time; it purges at most
// once per quiet period.
func (d *heapDecay) tick(now time.Time) {
	st := d.read()
	if st.cycles != d.cycles || d.since.IsZero() {
		d.cycles, d.since, d.done = st.cycles, now, false
		return
	}
	if d.done || now.Sub(d.since) < heapDecayAfter || st.idle < max(heapDecayMin, st.live/16) {
		return
	}
	d.purge()
	d.done = true
	d.cycles = d.read().cycles // the purge's own collection is not a new burst
}
