package expiry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/bits"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Clock is the time source. The real clock is used when Options.Clock is
// nil; sessiond passes the keyspace (keyspace.Keyspace.Now, which stands
// still while an EXEC or a script runs); tests inject
// internal/clocktest.Fake.
type Clock interface{ Now() time.Time }

// Store is what the wheel needs from the keyspace, which is the truth about
// every key's deadline.
//
// ExpireIfDue deletes key in db if its record's deadline (absolute Unix ms)
// has passed at nowMs, re-checking under the keyspace's stripe lock. It
// reports whether it deleted the key; if the key is live with a deadline,
// next is that deadline; next is 0 if the key is absent or has no deadline.
type Store interface {
	ExpireIfDue(db int, key string, nowMs int64) (deleted bool, next int64)
}

// Options configures a Wheel. Zero values select the defaults.
type Options struct {
	Tick      time.Duration // wheel resolution, a whole number of ms; default 10ms
	Slots     int           // slots per level, a power of two in [2, 1<<20]; default 1024
	BatchSize int           // max keys handed to Store per batch before yielding; default 256
	// Budget is the time one Advance may spend working (taking batches,
	// waiting for Store, filing results; time yielded to other goroutines
	// between batches does not count) before it leaves the remaining due
	// work for the next call and counts Stats.TimeCapReached.
	// Default 3/4 of Tick. (Addition to the original contract.)
	Budget time.Duration
	Clock  Clock        // default: real time
	Store  Store        // required
	Logger *slog.Logger // default: discard
}

// Defaults used for zero Options fields.
const (
	DefaultTick      = 10 * time.Millisecond
	DefaultSlots     = 1024
	DefaultBatchSize = 256
)

const (
	// dbCount is the number of databases; db numbers are 0..dbCount-1.
	dbCount = 1 << metaDBBits
	// placeChunk bounds how many entries Advance re-files (cascades) under
	// one hold of the wheel lock.
	placeChunk = 4096
	// keepCap bounds the capacity, in entries, of the buffers a drained
	// slot keeps for reuse (its first blocks).
	keepCap = keysPerBlock + entriesPerBlock
	// maxSpare bounds the number of drained slot buffers kept for reuse.
	maxSpare = 64
)

// Stats are the wheel's counters, for INFO.
type Stats struct {
	Scheduled          int64   // entries currently in the wheel (including stale ones)
	ExpiredKeys        int64   // keys deleted by the wheel
	StaleEntries       int64   // fired entries whose key was gone, persisted or re-scheduled
	TimeCapReached     int64   // Advance calls that hit the budget and left due work behind
	LastTickStaleRatio float64 // fraction stale in the last Advance that fired anything
}

// level is one level of the hierarchy: Slots slots, each covering
// Slots^index ticks, and a bitmap of the non-empty ones.
type level struct {
	slots []slot
	occ   []uint64 // bit i set iff slots[i] is non-empty
	n     int      // entries in this level
}

func (lv *level) mark(i uint64)   { lv.occ[i/64] |= 1 << (i % 64) }
func (lv *level) unmark(i uint64) { lv.occ[i/64] &^= 1 << (i % 64) }
func (lv *level) marked(i uint64) bool {
	return lv.occ[i/64]&(1<<(i%64)) != 0
}

// nextMarked returns the first non-empty slot index >= i.
func (lv *level) nextMarked(i uint64) (uint64, bool) {
	for w := i / 64; w < uint64(len(lv.occ)); w++ {
		word := lv.occ[w]
		if w == i/64 {
			word &^= 1<<(i%64) - 1
		}
		if word != 0 {
			return w*64 + uint64(bits.TrailingZeros64(word)), true
		}
	}
	return 0, false
}

// result is what Store said about one entry of a batch.
type result struct {
	deleted bool
	next    int64
}

// Wheel is a hierarchical timing wheel of key deadlines. It only proposes
// candidates; the Store decides. It is safe for concurrent use. See the
// package documentation for the design.
type Wheel struct {
	tickMs int64
	bits   uint   // log2(Slots)
	mask   uint64 // Slots-1
	slots  int
	batch  int
	budget time.Duration
	clock  Clock
	store  Store
	log    *slog.Logger
	now    func() time.Time // monotonic source for the budget; a hook for tests

	// adv serializes Advance calls. It is held across Store calls but is
	// never taken by Schedule, Reset or Stats.
	adv     sync.Mutex
	scratch []entry  // current batch, guarded by adv
	res     []result // Store's answers for scratch, guarded by adv

	// paused stops Run from advancing the wheel (SetActive).
	paused atomic.Bool

	mu     sync.Mutex // protects everything below
	cur    uint64     // last tick processed: every entry with tick <= cur has been moved to pend
	levels []*level   // allocated on first use
	late   slot       // entries scheduled with tick <= cur; fired by the next Advance
	pend   []slot     // FIFO of slots taken out of the wheel, still to be fired or re-filed
	pendAt cursor     // position in pend[0]
	pendN  int64      // entries in pend not yet popped
	spare  []slot     // drained slot buffers kept for reuse
	stats  Stats
}

// New returns a wheel configured by opts.
func New(opts Options) (*Wheel, error) {
	if opts.Store == nil {
		return nil, errors.New("expiry: Options.Store is required")
	}
	if opts.Tick == 0 {
		opts.Tick = DefaultTick
	}
	if opts.Tick < time.Millisecond || opts.Tick%time.Millisecond != 0 {
		return nil, fmt.Errorf("expiry: Tick %v is not a positive whole number of milliseconds", opts.Tick)
	}
	if opts.Slots == 0 {
		opts.Slots = DefaultSlots
	}
	if opts.Slots < 2 || opts.Slots > 1<<20 || opts.Slots&(opts.Slots-1) != 0 {
		return nil, fmt.Errorf("expiry: Slots %d is not a power of two in [2, %d]", opts.Slots, 1<<20)
	}
	if opts.BatchSize == 0 {
		opts.BatchSize = DefaultBatchSize
	}
	if opts.BatchSize < 0 || opts.BatchSize > 1<<20 {
		return nil, fmt.Errorf("expiry: BatchSize %d is not in [1, %d]", opts.BatchSize, 1<<20)
	}
	if opts.Budget == 0 {
		opts.Budget = opts.Tick * 3 / 4
	}
	if opts.Budget < 0 {
		return nil, fmt.Errorf("expiry: Budget %v is negative", opts.Budget)
	}
	if opts.Clock == nil {
		opts.Clock = realClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	b := uint(bits.TrailingZeros(uint(opts.Slots)))
	w := &Wheel{
		tickMs:  opts.Tick.Milliseconds(),
		bits:    b,
		mask:    uint64(opts.Slots - 1),
		slots:   opts.Slots,
		batch:   opts.BatchSize,
		budget:  opts.Budget,
		clock:   opts.Clock,
		store:   opts.Store,
		log:     opts.Logger,
		now:     time.Now,
		scratch: make([]entry, 0, opts.BatchSize),
		res:     make([]result, opts.BatchSize),
		// Ticks have at most 60 significant bits (maxTick), so the highest
		// differing bit between a tick and cur is at most bit 59.
		levels: make([]*level, 59/b+1),
	}
	w.cur = w.tickIndex(w.clock.Now().UnixMilli())
	return w, nil
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

// tickIndex returns the index of the tick interval containing ms: the last
// tick boundary at or before ms. It is kept below maxTick so that cur+1 is
// always a valid tick.
func (w *Wheel) tickIndex(ms int64) uint64 {
	if ms < 0 {
		return 0
	}
	return min(uint64(ms/w.tickMs), maxTick-1)
}

// tickOf returns the tick at which an entry with deadline ms fires: the
// first tick boundary strictly after the deadline, because a key is expired
// only once now > deadline.
func (w *Wheel) tickOf(ms int64) uint64 {
	if ms < 0 {
		return 0
	}
	return min(uint64(ms/w.tickMs)+1, maxTick)
}

// Schedule records that key in db (0..15) may expire at deadlineMs
// (absolute Unix ms). It is O(1) and safe for concurrent use. Scheduling a
// key again does not remove its earlier entry; that one becomes stale and is
// dropped when it fires. A deadline whose tick has already been processed
// fires on the next Advance. key should be the keyspace's own map key so
// that the wheel shares its bytes. Schedule panics if db is out of range.
func (w *Wheel) Schedule(db int, key string, deadlineMs int64) {
	if db < 0 || db >= dbCount {
		panic(fmt.Sprintf("expiry: db %d out of range [0, %d)", db, dbCount))
	}
	t := w.tickOf(deadlineMs)
	w.mu.Lock()
	w.insert(key, meta(t, db))
	w.mu.Unlock()
}

// insert files an entry: into late if its tick has been processed already,
// else into the wheel. w.mu must be held.
func (w *Wheel) insert(key string, m uint64) {
	w.stats.Scheduled++
	if metaTick(m) <= w.cur {
		w.late.add(key, m)
		return
	}
	w.place(key, m)
}

// place files an entry whose tick t is after cur. It goes to the lowest
// level l at which t and cur share every digit above l, in the slot of t's
// digit at l; that digit is necessarily greater than cur's, so the slot is
// reached (fired at level 0, cascaded down at higher levels) exactly when
// cur arrives at the start of its range. w.mu must be held; the caller
// accounts for stats.Scheduled.
func (w *Wheel) place(key string, m uint64) {
	t := metaTick(m)
	l := uint(bits.Len64(t^w.cur)-1) / w.bits
	lv := w.levels[l]
	if lv == nil {
		lv = &level{slots: make([]slot, w.slots), occ: make([]uint64, (w.slots+63)/64)}
		w.levels[l] = lv
	}
	i := (t >> (l * w.bits)) & w.mask
	s := &lv.slots[i]
	if s.empty() {
		lv.mark(i)
		if s.capacity() == 0 && len(w.spare) > 0 {
			*s = w.spare[len(w.spare)-1]
			w.spare[len(w.spare)-1] = slot{}
			w.spare = w.spare[:len(w.spare)-1]
		}
	}
	s.add(key, m)
	lv.n++
}

// nextEvent returns the first tick after cur at which something happens: a
// level-0 slot fires or a higher-level slot is cascaded. ok is false if the
// wheel (not counting pend and late) is empty. w.mu must be held.
func (w *Wheel) nextEvent() (tick uint64, ok bool) {
	for l, lv := range w.levels {
		if lv == nil || lv.n == 0 {
			continue
		}
		shift := uint(l) * w.bits
		digit := (w.cur >> shift) & w.mask
		j, found := lv.nextMarked(digit + 1)
		if !found {
			continue // cannot happen: every entry of level l has a digit > cur's
		}
		// Start of slot j in cur's block at this level. Shifts of 64 or more
		// yield 0 in Go, which is right for the top level.
		e := (w.cur>>(shift+w.bits))<<(shift+w.bits) | j<<shift
		if !ok || e < tick {
			tick, ok = e, true
		}
	}
	return tick, ok
}

// step moves cur to the next event if it is at or before target, taking the
// slots that fire or cascade there out of the wheel into pend, and reports
// whether it did. Otherwise it moves cur to target (if that is later) and
// reports false. pend must be empty. w.mu must be held.
func (w *Wheel) step(target uint64) bool {
	if w.cur >= target {
		return false
	}
	e, ok := w.nextEvent()
	if !ok || e > target {
		w.cur = target
		return false
	}
	w.cur = e
	for l := len(w.levels) - 1; l >= 0; l-- {
		lv := w.levels[l]
		if lv == nil || lv.n == 0 {
			continue
		}
		shift := uint(l) * w.bits
		if e&(1<<shift-1) != 0 {
			continue // e is not a boundary of this level's slots
		}
		if i := (e >> shift) & w.mask; lv.marked(i) {
			s := lv.slots[i]
			lv.slots[i] = slot{}
			lv.unmark(i)
			lv.n -= s.len()
			w.pend = append(w.pend, s)
			w.pendN += int64(s.len())
		}
	}
	return true
}

// pop takes the next entry out of pend (refilling pend from late when it
// runs dry). w.mu must be held.
func (w *Wheel) pop() (key string, m uint64, ok bool) {
	for {
		if len(w.pend) == 0 {
			if w.late.empty() {
				return "", 0, false
			}
			w.pend = append(w.pend, w.late)
			w.pendN += int64(w.late.len())
			w.late = slot{}
			w.pendAt = cursor{}
		}
		if key, m, ok = w.pendAt.next(&w.pend[0]); ok {
			w.pendN--
			w.stats.Scheduled--
			return key, m, true
		}
		w.recycle(w.pend[0])
		w.pend[0] = slot{}
		w.pend = w.pend[1:]
		w.pendAt = cursor{}
	}
}

// recycle keeps a drained slot's first blocks for reuse; the rest of a big
// slot (as a storm leaves) is dropped so that its memory returns. w.mu must
// be held.
func (w *Wheel) recycle(s slot) {
	if len(w.spare) >= maxSpare {
		return
	}
	s.reset()
	if cap(s.runs) > keepCap {
		s.runs = nil
	}
	if s.capacity() == 0 {
		return
	}
	w.spare = append(w.spare, s)
}

// hasWork reports whether entries are due at or before target. w.mu must be
// held.
func (w *Wheel) hasWork(target uint64) bool {
	if w.pendN > 0 || !w.late.empty() {
		return true
	}
	if w.cur >= target {
		return false
	}
	e, ok := w.nextEvent()
	return ok && e <= target
}

// Advance processes every entry whose tick is at or before nowMs: entries
// whose deadline is before the last tick boundary at or before nowMs, plus
// entries scheduled with a deadline already processed. It calls Store in
// batches of at most BatchSize keys without holding the wheel's lock and
// yields the processor between batches. Once its work (not counting the
// yields) exceeds the budget it stops, leaving the rest for the next call,
// and counts TimeCapReached. It returns how many keys Store deleted. Calls
// are serialized.
//
// A nowMs earlier than a previous call's (the clock moved backward) fires
// nothing new; entries already due are still handed to Store with nowMs, and
// any that Store reports as not yet due are re-filed, never dropped.
func (w *Wheel) Advance(nowMs int64) int {
	w.adv.Lock()
	defer w.adv.Unlock()
	target := w.tickIndex(nowMs)
	deleted, fired, stale := 0, 0, 0
	var spent time.Duration // time spent working, not counting yields

	w.mu.Lock()
	for {
		t := w.now()
		batch := w.scratch[:0]
		placed := 0
		for len(batch) < w.batch && placed < placeChunk {
			key, m, ok := w.pop()
			if !ok {
				if w.step(target) {
					continue
				}
				break
			}
			if metaTick(m) <= w.cur {
				batch = append(batch, entry{key: key, meta: m})
				continue
			}
			w.stats.Scheduled++ // pop counted it out; it stays in the wheel
			w.place(key, m)
			placed++
		}
		if len(batch) == 0 && placed == 0 {
			break // nothing due at or before target
		}
		w.mu.Unlock()

		res := w.res[:len(batch)]
		for i, e := range batch {
			res[i].deleted, res[i].next = w.store.ExpireIfDue(metaDB(e.meta), e.key, nowMs)
		}
		spent += w.now().Sub(t)
		runtime.Gosched()

		w.mu.Lock()
		t = w.now()
		for i, e := range batch {
			fired++
			if res[i].deleted {
				deleted++
				continue
			}
			stale++
			// next later than this entry's own tick: the key's deadline was
			// extended, and the keyspace does not schedule extensions (it
			// relies on this entry), so re-file it at the new deadline. next
			// at or before this entry's tick: the entry is the key's real
			// deadline but Store says it is not due yet (the clock moved
			// backward), so keep it for the next tick. next 0: the key is
			// gone or persistent; drop the entry.
			switch {
			case res[i].next == 0:
			case w.tickOf(res[i].next) <= metaTick(e.meta):
				w.insert(e.key, meta(w.cur+1, metaDB(e.meta)))
			default:
				w.insert(e.key, meta(w.tickOf(res[i].next), metaDB(e.meta)))
			}
		}
		clear(batch) // do not keep deleted keys' bytes alive
		spent += w.now().Sub(t)
		if spent >= w.budget && w.hasWork(target) {
			w.stats.TimeCapReached++
			w.log.Debug("expiry: tick budget reached, leaving work for the next tick",
				"budget", w.budget, "pending", w.pendN)
			break
		}
	}
	w.stats.ExpiredKeys += int64(deleted)
	w.stats.StaleEntries += int64(stale)
	if fired > 0 {
		w.stats.LastTickStaleRatio = float64(stale) / float64(fired)
	}
	w.mu.Unlock()
	return deleted
}

// Run calls Advance with Clock's time at every tick boundary until ctx is
// done, unless SetActive turned it off. It is the wheel's only goroutine.
func (w *Wheel) Run(ctx context.Context) {
	t := time.NewTimer(w.untilNextTick())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !w.paused.Load() {
			w.Advance(w.clock.Now().UnixMilli())
		}
		t.Reset(w.untilNextTick())
	}
}

// SetActive turns Run's expiring of keys on or off, as Redis's DEBUG
// SET-ACTIVE-EXPIRE turns its active expire cycle: while off, Run does
// not advance the wheel, so an expired key keeps its memory until it is
// read (the keyspace expires keys lazily) or expiring is turned back on.
// Entries are kept, and the first tick after that fires the ones due
// meanwhile. Advance itself is not affected.
func (w *Wheel) SetActive(on bool) { w.paused.Store(!on) }

// untilNextTick returns the time from now to the next tick boundary by
// Clock, so that Run fires just after each boundary rather than up to a
// tick late.
func (w *Wheel) untilNextTick() time.Duration {
	now := w.clock.Now().UnixMilli()
	rem := now % w.tickMs
	if rem < 0 {
		rem += w.tickMs
	}
	return time.Duration(w.tickMs-rem) * time.Millisecond
}

// Reset drops every entry and releases the wheel's memory. It is optional on
// FLUSHALL (the flushed keys' entries would go stale anyway); a keyspace
// that calls it must do so before it clears its stripes, so that an entry
// for a key set after the flush is scheduled after the Reset and survives.
func (w *Wheel) Reset() {
	w.mu.Lock()
	defer w.mu.Unlock()
	clear(w.levels)
	w.late = slot{}
	w.pend = nil
	w.pendAt = cursor{}
	w.pendN = 0
	w.spare = nil
	w.stats.Scheduled = 0
}

// ResetDB is a no-op, kept for FLUSHDB symmetry: the entries of a flushed
// database stay in the wheel until their tick and are then dropped as stale
// (Store reports the keys absent). Keys set in db after the flush schedule
// their own entries.
func (w *Wheel) ResetDB(db int) {}

// Stats returns a snapshot of the wheel's counters.
func (w *Wheel) Stats() Stats {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stats
}
