package keyspace

import (
	"math/rand/v2"
	"slices"
	"sync/atomic"
)

// Per-key access metadata and memory accounting.
//
// A map value is not addressable, so a reader holding only the stripe's
// read lock cannot update a field of its entry. Instead every key owns a
// slot of stripe.meta, a uint64 that readers update with atomics under the
// read lock (as Redis updates robj.lru without a lock on its single
// thread): the low 24 bits are Redis's LRU clock or LFU counter, the high
// 40 bits the bytes the key was accounted at. entry.slot() (packed with the
// kind in entry.tag) is the index. Slots of deleted keys form a free
// list threaded through meta itself; slot 0 is never used, so a zero slot
// means "none".

const (
	clockBits  = 24
	clockMask  = 1<<clockBits - 1 // Redis's LRU_CLOCK_MAX
	sizeShift  = clockBits
	maxSize    = 1<<(64-sizeShift) - 1
	lfuInitVal = 5 // Redis's LFU_INIT_VAL: new keys get a few accesses' grace
	// lruResolutionMs is Redis's LRU_CLOCK_RESOLUTION.
	lruResolutionMs = 1000
)

// stripeMeta is the part of a stripe that eviction and OBJECT/MEMORY use.
// All of it is guarded by the stripe's lock, except that readers update
// the clock bits of meta[slot] atomically under the read lock.
type stripeMeta struct {
	meta  []uint64 // by entry.slot(): clock (low 24 bits) | accounted bytes << 24
	db    *DB      // owner: its byte counter and keyspace
	free  uint32   // head of the free list of meta slots; 0: none
	bytes int64    // accounted bytes of this stripe's keys
	_     [32]byte // a stripe is 128 bytes: its lock never shares a cache line
}

// allocSlotLocked returns an unused meta slot. s.mu must be held for writing.
func (s *stripe) allocSlotLocked() uint32 {
	if i := s.free; i != 0 {
		s.free = uint32(s.meta[i])
		return i
	}
	if len(s.meta) == 0 {
		s.meta = append(s.meta, 0) // slot 0 means "none"
	}
	if len(s.meta) > maxSlot {
		panic("keyspace: too many keys in one stripe")
	}
	s.meta = append(s.meta, 0)
	return uint32(len(s.meta) - 1)
}

// account adds delta bytes to the stripe's and its database's totals.
func (s *stripe) account(delta int64) {
	if delta != 0 {
		s.bytes += delta
		s.db.used.Add(delta)
	}
}

// metaPutLocked gives e (about to be stored under key) its slot and
// accounts its size. An overwritten key keeps its slot, hence its access
// clock: the write that overwrote it touched it already (getLocked), and in
// LFU mode Redis carries the counter over too (dbSetValue). A new key
// starts at the current LRU clock, or at LFU_INIT_VAL.
func (s *stripe) metaPutLocked(key string, old entry, hadOld bool, e entry) entry {
	size := min(entrySize(key, &e), maxSize)
	if hadOld && old.slot() != 0 {
		i := old.slot()
		e.setSlot(i)
		v := s.meta[i]
		s.account(size - int64(v>>sizeShift))
		s.meta[i] = v&clockMask | uint64(size)<<sizeShift
		return e
	}
	i := s.allocSlotLocked()
	e.setSlot(i)
	s.meta[i] = uint64(s.db.ks.newClock()) | uint64(size)<<sizeShift
	s.account(size)
	return e
}

// resizedLocked re-accounts key, whose value e was changed in place (a set
// gained or lost members). s.mu must be held for writing.
func (s *stripe) resizedLocked(key string, e entry) {
	i := e.slot()
	if i == 0 {
		return
	}
	size := min(entrySize(key, &e), maxSize)
	v := s.meta[i]
	s.account(size - int64(v>>sizeShift))
	s.meta[i] = v&clockMask | uint64(size)<<sizeShift
}

// metaFreeLocked releases a deleted key's slot and its accounted bytes.
func (s *stripe) metaFreeLocked(slot uint32) {
	if slot == 0 {
		return
	}
	s.account(-int64(s.meta[slot] >> sizeShift))
	s.meta[slot] = uint64(s.free)
	s.free = slot
}

// metaResetLocked forgets every slot (FLUSHDB dropped the map).
func (s *stripe) metaResetLocked() {
	s.account(-s.bytes)
	s.meta, s.free = nil, 0
}

// metaLoad reads slot's metadata. s.mu must be held (for reading at least).
func (s *stripe) metaLoad(slot uint32) uint64 {
	if slot == 0 || int(slot) >= len(s.meta) {
		return 0
	}
	return atomic.LoadUint64(&s.meta[slot])
}

// touchLocked records an access to the key in slot at nowMs, under the
// read or the write lock: Redis's updateLFU, or the LRU clock. Concurrent
// readers may race to store; each store is atomic and carries the same
// size bits, so the last one wins, as in Redis's racy robj.lru update.
func (s *stripe) touchLocked(slot uint32, nowMs int64) {
	if slot == 0 {
		return
	}
	p := &s.meta[slot]
	v := atomic.LoadUint64(p)
	var c uint32
	if ev := s.db.ks.params.Load(); ev != nil && ev.Policy.LFU() {
		c = ev.lfuTouch(uint32(v&clockMask), nowMs)
	} else {
		c = lruClock(nowMs)
	}
	if nv := v&^clockMask | uint64(c); nv != v {
		atomic.StoreUint64(p, nv)
	}
}

// newClock is the access metadata of a key created now.
func (ks *Keyspace) newClock() uint32 {
	now := ks.NowMs()
	if ev := ks.params.Load(); ev != nil && ev.Policy.LFU() {
		return lfuMinutes(now)<<8 | lfuInitVal
	}
	return lruClock(now)
}

// lruClock is Redis's getLRUClock: seconds, wrapping at 24 bits.
func lruClock(nowMs int64) uint32 { return uint32(nowMs/lruResolutionMs) & clockMask }

// lruIdleMs is Redis's estimateObjectIdleTime: the clock wraps once.
func lruIdleMs(clock uint32, nowMs int64) int64 {
	c := lruClock(nowMs)
	if c >= clock {
		return int64(c-clock) * lruResolutionMs
	}
	return int64(c+(clockMask-clock)) * lruResolutionMs
}

// lfuMinutes is Redis's LFUGetTimeInMinutes: 16 bits of Unix minutes.
func lfuMinutes(nowMs int64) uint32 { return uint32(nowMs/60000) & 65535 }

// lfuDecr is Redis's LFUDecrAndReturn: the counter of clock (16 bits of
// last-decrement minutes, 8 bits of logarithmic counter), decayed by one
// per lfu-decay-time minutes elapsed.
func (p *EvictParams) lfuDecr(clock uint32, nowMs int64) uint32 {
	ldt, counter := clock>>8, clock&255
	now := lfuMinutes(nowMs)
	elapsed := now - ldt
	if now < ldt {
		elapsed = 65535 - ldt + now
	}
	if p.LFUDecayTime > 0 {
		periods := elapsed / uint32(p.LFUDecayTime)
		if periods > counter {
			return 0
		}
		counter -= periods
	}
	return counter
}

// lfuTouch is Redis's updateLFU: decay, then a logarithmic increment.
func (p *EvictParams) lfuTouch(clock uint32, nowMs int64) uint32 {
	counter := p.lfuDecr(clock, nowMs)
	if counter < 255 {
		base := float64(counter) - lfuInitVal
		if base < 0 {
			base = 0
		}
		if rand.Float64() < 1/(base*float64(p.LFULogFactor)+1) {
			counter++
		}
	}
	return lfuMinutes(nowMs)<<8 | counter
}

// Memory estimates. They count what the Go heap holds for a key, with
// allocations rounded up to the runtime's size classes.
const (
	// mapSlotBytes is one map[string]entry slot (16-byte string header,
	// 24-byte entry) plus its control byte, at a load of 0.7: a Go map
	// doubles at 7/8 full, so its load runs between 7/16 and 7/8.
	mapSlotBytes = (16 + 24 + 1) * 10 / 7
	// metaSlotBytes is the key's stripe.meta slot, with append's slack.
	metaSlotBytes = 12
	// setStructBytes is a *set's allocation (32 bytes, a size class).
	setStructBytes = 32
	// bigSetStructBytes is a map-form set's *bigSet.
	bigSetStructBytes = 16
	// hashMapStructBytes is a *hashMap's allocation.
	hashMapStructBytes = 8
	// setMapBase is an empty map's header and first group.
	setMapBase = 48 + 8 + 8*16
	// setMapSlot is one map[string]struct{} slot at 7/8 load.
	setMapSlot = (16+1)*8/7 + 1
)

// sizeClasses are the Go runtime's small-object size classes
// (internal/runtime/gc.SizeClassToSize, Go 1.26).
var sizeClasses = [...]uint16{0, 8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 256, 288, 320, 352, 384, 416, 448, 480, 512, 576, 640, 704, 768, 896, 1024, 1152, 1280, 1408, 1536, 1792, 2048, 2304, 2688, 3072, 3200, 3456, 4096, 4864, 5376, 6144, 6528, 6784, 6912, 8192, 9472, 9728, 10240, 10880, 12288, 13568, 14336, 16384, 18432, 19072, 20480, 21760, 24576, 27264, 28672, 32768}

// smallClass is sizeClasses's answer for sizes up to 1024 bytes, by
// (n+7)/8, as the runtime's own size_to_class8: every write accounts its
// key and value, and the binary search was 1.5% of the server's CPU for
// SETEX at pipeline 16 (perf; 1.7% with allocSize itself).
var smallClass = func() (t [1024/8 + 1]uint16) {
	for i := range t {
		j, _ := slices.BinarySearch(sizeClasses[:], uint16(i*8))
		t[i] = sizeClasses[j]
	}
	return t
}()

// allocSize is the heap bytes an allocation of n bytes takes.
func allocSize(n int) int64 {
	switch {
	case n <= 0:
		return 0
	case n <= 1024:
		return int64(smallClass[(n+7)>>3])
	case n <= 32768:
		i, _ := slices.BinarySearch(sizeClasses[:], uint16(n))
		return int64(sizeClasses[i])
	}
	return (int64(n) + 8191) &^ 8191 // large objects take whole 8 KiB pages
}

// entrySize is the bytes key and its value e are accounted at: what
// MEMORY USAGE reports and eviction frees.
func entrySize(key string, e *entry) int64 {
	return mapSlotBytes + metaSlotBytes + allocSize(len(key)) + valueInfo(e, false).Bytes
}

// setClockLocked sets key's access metadata (a renamed or moved value
// keeps its own). s.mu must be held for writing.
func (s *stripe) setClockLocked(key string, clock uint64) {
	if e, ok := s.m[key]; ok && e.slot() != 0 {
		s.meta[e.slot()] = s.meta[e.slot()]&^clockMask | clock&clockMask
	}
}
