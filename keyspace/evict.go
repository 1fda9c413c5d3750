package keyspace

import (
	"errors"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
)

// Policy is a maxmemory-policy.
type Policy uint8

// The maxmemory policies, as Redis names them.
const (
	NoEviction Policy = iota
	AllKeysLRU
	VolatileLRU
	AllKeysLFU
	VolatileLFU
	AllKeysRandom
	VolatileRandom
	VolatileTTL
)

var policyNames = [...]string{"noeviction", "allkeys-lru", "volatile-lru", "allkeys-lfu", "volatile-lfu", "allkeys-random", "volatile-random", "volatile-ttl"}

func (p Policy) String() string { return policyNames[p] }

// ParsePolicy returns the policy named s.
func ParsePolicy(s string) (Policy, error) {
	for i, n := range policyNames {
		if n == s {
			return Policy(i), nil
		}
	}
	return 0, errors.New("keyspace: unknown maxmemory-policy " + s)
}

// LFU reports whether p ranks keys by access frequency.
func (p Policy) LFU() bool { return p == AllKeysLFU || p == VolatileLFU }

// LRU reports whether p ranks keys by idle time.
func (p Policy) LRU() bool { return p == AllKeysLRU || p == VolatileLRU }

// Volatile reports whether p only evicts keys that have a deadline.
func (p Policy) Volatile() bool {
	return p == VolatileLRU || p == VolatileLFU || p == VolatileRandom || p == VolatileTTL
}

// EvictParams are the maxmemory settings.
type EvictParams struct {
	MaxMemory    int64 // bytes; 0: no limit
	Policy       Policy
	Samples      int // maxmemory-samples
	LFULogFactor int // lfu-log-factor
	LFUDecayTime int // lfu-decay-time, minutes
}

// evictor is the Keyspace's eviction state.
type evictor struct {
	params      atomic.Pointer[EvictParams] // nil: Redis's defaults, no limit
	evictedKeys atomic.Int64
	evictMu     sync.Mutex // one evictor at a time; guards pool and nextDB
	pool        [evictionPoolSize]poolEntry
	nextDB      int
}

// evictionPoolSize is Redis's EVPOOL_SIZE.
const evictionPoolSize = 16

// poolEntry is a candidate for eviction: a higher score is a better one.
type poolEntry struct {
	score uint64
	db    int
	key   string // "" with ok false: an empty slot
	ok    bool
}

// SetEvictParams installs the maxmemory settings. Safe at any time.
func (ks *Keyspace) SetEvictParams(p EvictParams) {
	if p.Samples <= 0 {
		p.Samples = 5
	}
	ks.params.Store(&p)
}

// EvictParams returns the maxmemory settings in force.
func (ks *Keyspace) EvictParams() EvictParams {
	if p := ks.params.Load(); p != nil {
		return *p
	}
	return EvictParams{Samples: 5, LFULogFactor: 10, LFUDecayTime: 1}
}

// UsedMemory is the accounted size of every key of every database: the
// "used memory" maxmemory is compared with (see doc.go, Memory).
func (ks *Keyspace) UsedMemory() int64 {
	var n int64
	for i := range ks.dbs {
		n += ks.db(i).used.Load()
	}
	return n
}

// DBUsedMemory is the accounted size of db's keys.
func (ks *Keyspace) DBUsedMemory(dbi int) int64 { return ks.db(dbi).used.Load() }

// OverLimit reports whether used memory exceeds maxmemory (never, without
// a limit). It costs an atomic load when there is no limit.
func (ks *Keyspace) OverLimit() bool {
	p := ks.params.Load()
	return p != nil && p.MaxMemory > 0 && ks.UsedMemory() > p.MaxMemory
}

// EvictResult is the outcome of Evict, as Redis's performEvictions.
type EvictResult uint8

// The outcomes of Evict.
const (
	EvictOK      EvictResult = iota // under the limit (or no limit)
	EvictRunning                    // still over, but keys were evicted and more can be
	EvictFail                       // over the limit and nothing (more) can be evicted
)

// Evict evicts keys under the maxmemory-policy until used memory is at or
// under maxmemory, or max keys were evicted (max <= 0: no bound). Callers
// reject commands that would grow memory when it returns EvictFail, as
// Redis does with -OOM. Concurrent callers queue: one evicts at a time.
func (ks *Keyspace) Evict(max int) EvictResult {
	p := ks.params.Load()
	if p == nil || p.MaxMemory <= 0 || ks.UsedMemory() <= p.MaxMemory {
		return EvictOK
	}
	if p.Policy == NoEviction {
		return EvictFail
	}
	ks.evictMu.Lock()
	defer ks.evictMu.Unlock()
	for n := 0; ks.UsedMemory() > p.MaxMemory; n++ {
		if max > 0 && n >= max {
			return EvictRunning
		}
		dbi, key, ok := ks.pickVictim(p)
		if !ok {
			return EvictFail
		}
		ks.evictKey(dbi, key, p)
	}
	return EvictOK
}

// pickVictim chooses the next key to evict. ks.evictMu is held.
func (ks *Keyspace) pickVictim(p *EvictParams) (int, string, bool) {
	if p.Policy == AllKeysRandom || p.Policy == VolatileRandom {
		// As Redis, visit the databases round robin, one key from each.
		for range NumDBs {
			ks.nextDB = (ks.nextDB + 1) % NumDBs
			if ks.db(ks.nextDB).used.Load() == 0 {
				continue
			}
			var key string
			found := false
			ks.sample(ks.nextDB, p.Policy.Volatile(), 1, func(k string, _ entry, _ uint64) {
				key, found = k, true
			})
			if found {
				return ks.nextDB, key, true
			}
		}
		return 0, "", false
	}
	now := ks.NowMs()
	for {
		// As evict.c: sample every database into the pool, then take the
		// best candidate that still exists (the others are ghosts).
		sampled := 0
		for dbi := range NumDBs {
			if ks.db(dbi).used.Load() == 0 {
				continue
			}
			sampled += ks.sample(dbi, p.Policy.Volatile(), p.Samples, func(k string, e entry, meta uint64) {
				ks.poolInsert(poolEntry{score: p.score(e, meta, now), db: dbi, key: k, ok: true})
			})
		}
		if sampled == 0 {
			return 0, "", false
		}
		for k := evictionPoolSize - 1; k >= 0; k-- {
			c := ks.pool[k]
			if !c.ok {
				continue
			}
			ks.pool[k] = poolEntry{}
			if ks.candidate(c.db, c.key, p.Policy.Volatile()) {
				return c.db, c.key, true
			}
		}
	}
}

// score is evict.c's "idle": higher is evicted first.
func (p *EvictParams) score(e entry, meta uint64, now int64) uint64 {
	clock := uint32(meta & clockMask)
	switch {
	case p.Policy.LRU():
		return uint64(lruIdleMs(clock, now))
	case p.Policy.LFU():
		return 255 - uint64(p.lfuDecr(clock, now))
	}
	return math.MaxUint64 - uint64(e.deadline) // volatile-ttl: the sooner the better
}

// poolInsert is evictionPoolPopulate's insertion: the pool stays sorted by
// ascending score; when full, a candidate better than the worst replaces it.
func (ks *Keyspace) poolInsert(c poolEntry) {
	pool := &ks.pool
	for i := range pool { // already pooled (sampled again): keep one copy
		if pool[i].ok && pool[i].db == c.db && pool[i].key == c.key {
			pool[i].score = c.score
			return
		}
	}
	k := 0
	for k < evictionPoolSize && pool[k].ok && pool[k].score < c.score {
		k++
	}
	switch {
	case k == 0 && pool[evictionPoolSize-1].ok:
		return // worse than everything in a full pool
	case k < evictionPoolSize && !pool[k].ok:
		// an empty slot
	case !pool[evictionPoolSize-1].ok:
		copy(pool[k+1:], pool[k:evictionPoolSize-1]) // room on the right
	default:
		k-- // full: drop the worst, on the left
		copy(pool[:k], pool[1:k+1])
	}
	pool[k] = c
}

// sample calls fn with up to n keys of db (only keys with a deadline if
// volatile), visiting stripes from a random one on, each under its read
// lock. It returns how many keys it passed to fn.
func (ks *Keyspace) sample(dbi int, volatile bool, n int, fn func(key string, e entry, meta uint64)) int {
	db := ks.db(dbi)
	ns := len(db.stripes)
	start := rand.IntN(ns)
	got := 0
	for j := 0; j < ns && got < n; j++ {
		s := &db.stripes[(start+j)&int(db.mask)]
		s.mu.RLock()
		if len(s.m) == 0 || (volatile && s.expires == 0) {
			s.mu.RUnlock()
			continue
		}
		for k, e := range s.m { // starts at a random place
			if volatile && e.deadline == 0 {
				continue
			}
			fn(k, e, s.metaLoad(e.slot()))
			if got++; got >= n {
				break
			}
		}
		s.mu.RUnlock()
	}
	return got
}

// candidate reports whether key still exists in db (with a deadline if
// volatile), that is, is not a ghost of the pool.
func (ks *Keyspace) candidate(dbi int, key string, volatile bool) bool {
	s := ks.db(dbi).stripeFor([]byte(key))
	s.mu.RLock()
	e, ok := s.m[key]
	s.mu.RUnlock()
	return ok && (!volatile || e.deadline != 0)
}

// evictKey deletes key as evicted: counted in evicted_keys, watchers
// dirtied and an "evicted" event sent, as evict.c does.
func (ks *Keyspace) evictKey(dbi int, key string, p *EvictParams) {
	s := ks.db(dbi).stripeFor([]byte(key))
	s.mu.Lock()
	e, ok := s.m[key]
	if ok && (!p.Policy.Volatile() || e.deadline != 0) {
		s.deleteLocked(key, e)
	} else {
		ok = false
	}
	s.mu.Unlock()
	if !ok {
		return
	}
	ks.evictedKeys.Add(1)
	ks.modified(dbi, key)
	ks.notify(dbi, EventEvicted, "evicted", []byte(key))
}

// GoMemoryLimit is the Go runtime soft memory limit sessiond sets for a
// maxmemory (0: none). See doc.go, Memory: maxmemory bounds the accounted
// dataset; the heap also holds garbage awaiting collection (gc-percent)
// and buffers, so the runtime limit sits above it, as a backstop that
// makes the collector work harder before the process outgrows its budget,
// rather than at it, where the collector would run continuously.
func GoMemoryLimit(maxmemory int64) int64 {
	if maxmemory <= 0 {
		return math.MaxInt64
	}
	return maxmemory + max(maxmemory/2, 64<<20)
}
