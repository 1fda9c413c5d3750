package keyspace

import (
	"errors"
	"math"
	"math/bits"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/cespare/xxhash/v2"
)

// NumDBs is the number of logical databases, as in Redis's default config.
const NumDBs = 16

// Clock is the time source. Production code passes nil (real time); tests
// pass internal/clocktest.Fake.
type Clock interface{ Now() time.Time }

// Scheduler is told about every deadline that is set or changed, after the
// stripe lock is released. *expiry.Wheel implements it. A scheduler may be
// told about a key that has since been deleted or re-set: the keyspace
// re-checks the deadline itself (ExpireIfDue), so stale entries are harmless.
type Scheduler interface {
	Schedule(db int, key string, deadlineMs int64)
}

// Options configures New.
type Options struct {
	// Stripes is the number of lock stripes per database, a power of two.
	// Zero means DefaultStripes.
	Stripes int
	// Clock is the time source; nil means time.Now.
	Clock Clock
	// Scheduler receives deadlines; nil means none (lazy expiry only).
	Scheduler Scheduler
}

// DefaultStripes is the stripe count per database when Options.Stripes is 0.
// Many small stripes keep lock hold times and SCAN steps short.
const DefaultStripes = 1024

// Kind is the type of a stored value.
type Kind uint8

// The kinds of value a key can hold.
const (
	KindNone Kind = iota // the key does not exist
	KindString
	KindSet
	KindHash   // hash.go
	KindZSet   // a sorted set, zset.go
	KindList   // list.go
	KindStream // stream.go
)

// String returns the name TYPE replies with.
func (k Kind) String() string {
	switch k {
	case KindString:
		return "string"
	case KindSet:
		return "set"
	case KindHash:
		return "hash"
	case KindZSet:
		return "zset"
	case KindList:
		return "list"
	case KindStream:
		return "stream"
	}
	return "none"
}

// entry is one stored value, in 24 bytes, so that a map slot (key header
// and entry) is 40 bytes. ptr is the value, read through the accessors:
//
//   - bytes: a string, or a packed hash (hash.go), is ptr and the length n.
//     It is never modified after it is stored (commands that change a
//     string store a new slice), so readers may keep it after the stripe
//     lock is released. A value of 4 GiB or more (possible only with
//     proto-max-bulk-len raised that far) does not fit n: n is bigLen and
//     ptr points to a boxed slice header instead.
//   - setPtr, hashMapPtr, zsetPtr, listPtr: a set is a *set, a hash in
//     map form a *hashMap, a sorted set a *zset, a list a *list (objFlag
//     in tag), modified in place
//     under the write lock.
//
// tag packs the kind (low 3 bits), objFlag and the key's meta slot (the
// index of its access clock and size in stripe.meta, access.go) above
// them. ptr is an unsafe.Pointer, which the garbage collector traces like
// any pointer.
type entry struct {
	ptr      unsafe.Pointer
	n        uint32 // length of the bytes; bigLen: ptr is a *[]byte
	tag      uint32 // slot<<tagBits | objFlag | kind
	deadline int64  // absolute Unix ms; 0 means no expiry
}

const (
	kindMask = 1<<3 - 1
	objFlag  = 1 << 3 // ptr is a *set, *hashMap, *zset or *list, by kind
	tagBits  = 4
	maxSlot  = 1<<(32-tagBits) - 1 // meta slots per stripe: 268 million keys
	bigLen   = math.MaxUint32
)

// bytesEntry is an entry of kind k (a string or a packed hash) holding b.
func bytesEntry(k Kind, b []byte, deadline int64) entry {
	e := entry{tag: uint32(k), deadline: deadline}
	if uint64(len(b)) >= bigLen {
		box := new([]byte)
		*box = b
		e.ptr, e.n = unsafe.Pointer(box), bigLen
		return e
	}
	e.ptr, e.n = unsafe.Pointer(unsafe.SliceData(b)), uint32(len(b))
	return e
}

// setEntry is a set entry holding s.
func setEntry(s *set, deadline int64) entry {
	return entry{ptr: unsafe.Pointer(s), tag: uint32(KindSet) | objFlag, deadline: deadline}
}

// hashMapEntry is a hash entry holding h, a hash in map form (hash.go).
func hashMapEntry(h *hashMap, deadline int64) entry {
	return entry{ptr: unsafe.Pointer(h), tag: uint32(KindHash) | objFlag, deadline: deadline}
}

// zsetEntry is a sorted-set entry holding z.
func zsetEntry(z *zset, deadline int64) entry {
	return entry{ptr: unsafe.Pointer(z), tag: uint32(KindZSet) | objFlag, deadline: deadline}
}

// listEntry is a list entry holding l.
func listEntry(l *list, deadline int64) entry {
	return entry{ptr: unsafe.Pointer(l), tag: uint32(KindList) | objFlag, deadline: deadline}
}

// streamEntry is a stream entry holding st.
func streamEntry(st *stream, deadline int64) entry {
	return entry{ptr: unsafe.Pointer(st), tag: uint32(KindStream) | objFlag, deadline: deadline}
}

// streamPtr is the stream; nil for any other entry.
func (e entry) streamPtr() *stream {
	if e.tag&(objFlag|kindMask) != objFlag|uint32(KindStream) {
		return nil
	}
	return (*stream)(e.ptr)
}

func (e entry) kind() Kind { return Kind(e.tag & kindMask) }

// bytes is the string or packed hash; nil for a set.
func (e entry) bytes() []byte {
	switch {
	case e.tag&objFlag != 0:
		return nil
	case e.n == bigLen:
		return *(*[]byte)(e.ptr)
	}
	return unsafe.Slice((*byte)(e.ptr), e.n)
}

// setPtr is the set; nil for any other entry.
func (e entry) setPtr() *set {
	if e.tag&(objFlag|kindMask) != objFlag|uint32(KindSet) {
		return nil
	}
	return (*set)(e.ptr)
}

// hashMapPtr is the hash in map form; nil for any other entry.
func (e entry) hashMapPtr() *hashMap {
	if e.tag&(objFlag|kindMask) != objFlag|uint32(KindHash) {
		return nil
	}
	return (*hashMap)(e.ptr)
}

// zsetPtr is the sorted set; nil for any other entry.
func (e entry) zsetPtr() *zset {
	if e.tag&(objFlag|kindMask) != objFlag|uint32(KindZSet) {
		return nil
	}
	return (*zset)(e.ptr)
}

// listPtr is the list; nil for any other entry.
func (e entry) listPtr() *list {
	if e.tag&(objFlag|kindMask) != objFlag|uint32(KindList) {
		return nil
	}
	return (*list)(e.ptr)
}

// view is s's bytes, read-only, without a copy; never nil (an empty
// member is an empty bulk string, not a null).
func view(s string) []byte {
	if len(s) == 0 {
		return []byte{}
	}
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

// slot is the key's index in stripe.meta; 0 means none (not yet stored).
func (e entry) slot() uint32 { return e.tag >> tagBits }

func (e *entry) setSlot(i uint32) { e.tag = e.tag&(1<<tagBits-1) | i<<tagBits }

// expiredAt reports whether e is expired at nowMs. It is the only expiry
// predicate in the program. As in Redis (db.c keyIsExpired) a key is
// expired strictly after its deadline.
func (e *entry) expiredAt(nowMs int64) bool {
	return e.deadline != 0 && nowMs > e.deadline
}

// stripe is one lock domain of a database.
type stripe struct {
	mu      sync.RWMutex // protects m, expires and deadlines
	m       map[string]entry
	expires int // entries in m with a deadline
	// deadlines is the sum of those deadlines (Unix ms, each at most
	// maxAvgDeadline), for INFO's avg_ttl (AvgTTL).
	deadlines int64
	stripeMeta
}

// DB is one of the 16 logical databases.
type DB struct {
	id      uint64 // unique, orders lock acquisition across databases
	stripes []stripe
	mask    uint64
	ks      *Keyspace
	used    atomic.Int64 // accounted bytes of the keys (access.go)
}

// Keyspace holds the 16 databases.
type Keyspace struct {
	dbs     [NumDBs]atomic.Pointer[DB]
	nstripe int
	clock   Clock
	// frozen is, while nonzero, the bitwise complement of the time NowMs
	// reports (Freeze; complemented so that a test clock at the epoch, 0,
	// can be frozen too). Beside the read-mostly fields: every NowMs
	// loads it.
	frozen atomic.Int64
	sched  Scheduler
	nextID atomic.Uint64
	// stream-node-max-bytes and -entries (stream.go).
	streamNodeBytes, streamNodeEntries atomic.Int64
	watch                              watchRegistry
	// blocked holds the clients blocked on keys (block.go).
	blocked blockRegistry
	// notifier receives keyspace events (notify.go); nil pointer: none.
	notifier atomic.Pointer[Notifier]

	dirty       atomic.Int64 // writes since start (rdb_changes_since_last_save)
	expiredKeys atomic.Int64 // keys removed because their deadline passed
	keyHits     atomic.Int64
	keyMisses   atomic.Int64
	evictor     // maxmemory and eviction (evict.go)
}

// New returns an empty keyspace.
func New(opts Options) (*Keyspace, error) {
	n := opts.Stripes
	if n == 0 {
		n = DefaultStripes
	}
	if n < 1 || bits.OnesCount(uint(n)) != 1 {
		return nil, errors.New("keyspace: stripes must be a power of two")
	}
	ks := &Keyspace{nstripe: n, clock: opts.Clock, sched: opts.Scheduler}
	ks.SetStreamNodeLimits(4096, 100) // Redis's defaults
	for i := range ks.dbs {
		ks.dbs[i].Store(ks.newDB())
	}
	ks.watch.init()
	return ks, nil
}

// SetScheduler sets the scheduler. It must be called before the keyspace is
// shared between goroutines (the wheel and the keyspace refer to each other).
func (ks *Keyspace) SetScheduler(s Scheduler) { ks.sched = s }

func (ks *Keyspace) newDB() *DB {
	db := &DB{id: ks.nextID.Add(1), stripes: make([]stripe, ks.nstripe), mask: uint64(ks.nstripe - 1), ks: ks}
	for i := range db.stripes {
		db.stripes[i].m = make(map[string]entry)
		db.stripes[i].db = db
	}
	return db
}

// NowMs is the keyspace's current time in Unix milliseconds: the frozen
// time while an EXEC or a script runs (Freeze), else the clock's.
func (ks *Keyspace) NowMs() int64 {
	if f := ks.frozen.Load(); f != 0 {
		return ^f
	}
	if ks.clock == nil {
		return wallMs()
	}
	return ks.clock.Now().UnixMilli()
}

// NowMsAt is NowMs for a command that read the real time t as it began:
// t itself, unless a clock was injected (tests), whose time it returns.
// One reading then serves the front end's bookkeeping, relative TTLs and
// SET's expiry check (Redis 7.2's commandTimeSnapshot covers every key
// lookup of a command); the wall clock costs 55 ns a read on the VMs
// measured (bench/README.md). A command judged by a time read before it
// took its stripe's lock may see a key as live that another client, which
// started later, already saw expire: a window of microseconds, which one
// reading per access had too (from the reading to the lock).
func (ks *Keyspace) NowMsAt(t time.Time) int64 {
	if f := ks.frozen.Load(); f != 0 {
		return ^f
	}
	if ks.clock == nil {
		return t.UnixMilli()
	}
	return ks.clock.Now().UnixMilli()
}

// Freeze stops the keyspace's time at nowMs until Thaw: every access judges
// expiry, and counts relative TTLs, at nowMs, and the expiry wheel (on
// Now) deletes no key that is live at nowMs. The front end freezes the
// time for the length of an EXEC or a script, which run with every other
// command held off, as Redis 7.2 does (commandTimeSnapshot, taken once per
// execution unit): a key a transaction or a script saw live stays live
// until it ends. Redis 7.0 judges expiry the same way (call() caches the
// time for nested calls; a script uses its start, scriptTimeSnapshot) but
// reads the clock for relative TTLs, and judges a script inside an EXEC at
// the script's own start rather than the EXEC's.
func (ks *Keyspace) Freeze(nowMs int64) { ks.frozen.Store(^nowMs) }

// Thaw lets the keyspace's time run again after Freeze.
func (ks *Keyspace) Thaw() { ks.frozen.Store(0) }

// ClockNow is the clock's time, which Freeze does not stop: time.Now, or
// the injected clock's. The server stamps with it what Redis stamps with
// time(NULL), such as the latency monitor's samples.
func (ks *Keyspace) ClockNow() time.Time {
	if ks.clock == nil {
		return time.Now()
	}
	return ks.clock.Now()
}

// Now is NowMs as a time.Time. It is the expiry wheel's clock, so that the
// wheel stands still while the time is frozen rather than proposing, tick
// after tick, keys that are live at the frozen time.
func (ks *Keyspace) Now() time.Time { return time.UnixMilli(ks.NowMs()) }

func (ks *Keyspace) db(i int) *DB { return ks.dbs[i].Load() }

func (db *DB) stripeIndex(key []byte) int { return int(xxhash.Sum64(key) & db.mask) }

func (db *DB) stripeFor(key []byte) *stripe { return &db.stripes[db.stripeIndex(key)] }

// live reports whether key is in db and not expired at now.
func (db *DB) live(key string, now int64) bool {
	s := db.stripeFor([]byte(key))
	s.mu.RLock()
	e, ok := s.m[key]
	s.mu.RUnlock()
	return ok && !e.expiredAt(now)
}

// getLocked returns key's live entry. An expired entry is deleted (the
// caller must hold the write lock for that; with only the read lock it is
// reported absent and left for the wheel or a writer). s.mu must be held.
func (ks *Keyspace) getLocked(s *stripe, key []byte, now int64, write bool) (entry, bool) {
	e, ok := s.m[string(key)]
	if !ok {
		return entry{}, false
	}
	if e.expiredAt(now) {
		if write {
			s.deleteLocked(string(key), e)
			ks.expiredKeys.Add(1)
			ks.expiredLocked(s, key)
		}
		return entry{}, false
	}
	s.touchLocked(e.slot(), now)
	return e, true
}

// peekLocked is getLocked without the access-clock update, for the
// lookups Redis makes with LOOKUP_NOTOUCH (EXISTS, TYPE, TTL, OBJECT).
func (ks *Keyspace) peekLocked(s *stripe, key []byte, now int64) (entry, bool) {
	e, ok := s.m[string(key)]
	if !ok || e.expiredAt(now) {
		return entry{}, false
	}
	return e, true
}

// putLocked stores e under key. s.mu must be held for writing.
func (s *stripe) putLocked(key string, old entry, hadOld bool, e entry) {
	if hadOld && old.deadline != 0 {
		s.expires--
		s.deadlines -= min(old.deadline, maxAvgDeadline)
	}
	if e.deadline != 0 {
		s.expires++
		s.deadlines += min(e.deadline, maxAvgDeadline)
	}
	s.m[key] = s.metaPutLocked(key, old, hadOld, e)
}

// deleteLocked removes key, whose current entry is e. s.mu must be held for writing.
func (s *stripe) deleteLocked(key string, e entry) {
	if e.deadline != 0 {
		s.expires--
		s.deadlines -= min(e.deadline, maxAvgDeadline)
	}
	s.metaFreeLocked(e.slot())
	delete(s.m, key)
}

// schedule tells the scheduler about a deadline. Never call it with a stripe lock held.
func (ks *Keyspace) schedule(db int, key string, deadline int64) {
	if deadline != 0 && ks.sched != nil {
		ks.sched.Schedule(db, key, deadline)
	}
}

// locked is a set of stripes held for writing, in ascending order.
type locked struct {
	stripes []*stripe
}

type stripeRef struct {
	db  *DB
	idx int
}

// lockStripes write-locks the stripes of keys (which may live in different
// databases) in ascending (database id, stripe index) order, so that two
// multi-key operations can never deadlock.
func lockStripes(refs []stripeRef) locked {
	slices.SortFunc(refs, func(a, b stripeRef) int {
		if a.db.id != b.db.id {
			if a.db.id < b.db.id {
				return -1
			}
			return 1
		}
		return a.idx - b.idx
	})
	refs = slices.CompactFunc(refs, func(a, b stripeRef) bool { return a.db == b.db && a.idx == b.idx })
	l := locked{stripes: make([]*stripe, len(refs))}
	for i, r := range refs {
		s := &r.db.stripes[r.idx]
		s.mu.Lock()
		l.stripes[i] = s
	}
	return l
}

func (l locked) unlock() {
	for i := len(l.stripes) - 1; i >= 0; i-- {
		l.stripes[i].mu.Unlock()
	}
}

// lockKeys write-locks the stripes of keys in db.
func lockKeys(db *DB, keys [][]byte) locked {
	refs := make([]stripeRef, len(keys))
	for i, k := range keys {
		refs[i] = stripeRef{db, db.stripeIndex(k)}
	}
	return lockStripes(refs)
}

// ExpireIfDue deletes key in db if its deadline has passed at nowMs, under
// the stripe lock. It reports whether it deleted the key and, if the key is
// live with a deadline, that deadline, so that the caller can re-schedule a
// stale entry. While the time is frozen (Freeze) it judges at the frozen
// time if that is earlier. It implements expiry.Store.
func (ks *Keyspace) ExpireIfDue(dbi int, key string, nowMs int64) (deleted bool, next int64) {
	if f := ks.frozen.Load(); f != 0 && ^f < nowMs {
		nowMs = ^f // live then: the wheel re-files it for its next tick
	}
	db := ks.db(dbi)
	s := db.stripeFor([]byte(key))
	s.mu.Lock()
	e, ok := s.m[key]
	switch {
	case !ok:
	case e.expiredAt(nowMs):
		s.deleteLocked(key, e)
		deleted = true
	default:
		next = e.deadline
	}
	s.mu.Unlock()
	if deleted {
		ks.expiredKeys.Add(1)
		ks.expired(dbi, key)
		ks.notify(dbi, EventExpired, evExpired, []byte(key))
	}
	return deleted, next
}

// Stats are counters for INFO.
type Stats struct {
	ExpiredKeys int64
	EvictedKeys int64
	KeyHits     int64
	KeyMisses   int64
}

// Stats returns the keyspace's counters.
func (ks *Keyspace) Stats() Stats {
	return Stats{ExpiredKeys: ks.expiredKeys.Load(), EvictedKeys: ks.evictedKeys.Load(), KeyHits: ks.keyHits.Load(), KeyMisses: ks.keyMisses.Load()}
}

// ResetStats zeroes the counters (CONFIG RESETSTAT).
func (ks *Keyspace) ResetStats() {
	ks.expiredKeys.Store(0)
	ks.evictedKeys.Store(0)
	ks.keyHits.Store(0)
	ks.keyMisses.Store(0)
}

func (ks *Keyspace) hit(ok bool) {
	if ok {
		ks.keyHits.Add(1)
	} else {
		ks.keyMisses.Add(1)
	}
}

// Size returns the number of keys in db and how many have a deadline. Like
// Redis's DBSIZE it may count expired keys that are not yet reclaimed.
func (ks *Keyspace) Size(dbi int) (keys, expires int) {
	db := ks.db(dbi)
	for i := range db.stripes {
		s := &db.stripes[i]
		s.mu.RLock()
		keys += len(s.m)
		expires += s.expires
		s.mu.RUnlock()
	}
	return keys, expires
}

// AvgTTL is the mean time to live, in milliseconds, of db's keys that have
// a deadline, 0 if none has (INFO's avg_ttl). Redis estimates it from the
// keys its expiry cycle samples, as a running average; this is the mean
// over every such key, from the sum of deadlines each stripe keeps (each
// capped at maxAvgDeadline). A key past its deadline but not yet reclaimed
// counts with its (small) negative TTL; Redis samples only live ones.
func (ks *Keyspace) AvgTTL(dbi int) int64 {
	db := ks.db(dbi)
	now := ks.NowMs()
	var n int64
	var ttls float64 // summed in floating point: 1,024 stripes' sums may overflow an int64
	for i := range db.stripes {
		s := &db.stripes[i]
		s.mu.RLock()
		n += int64(s.expires)
		ttls += float64(s.deadlines - int64(s.expires)*now)
		s.mu.RUnlock()
	}
	if n == 0 {
		return 0
	}
	return max(int64(ttls/float64(n)), 0)
}

// maxAvgDeadline caps a deadline's part in a stripe's sum of deadlines
// (about the year 3084), so that a few keys given deadlines near the end of
// int64 (PEXPIREAT accepts them) cannot overflow the TTLs AvgTTL sums:
// with the cap a stripe's TTLs stay in range up to about 280,000 keys with
// such deadlines. The running sum itself may wrap; it wraps back as keys go.
const maxAvgDeadline = 1 << 45

// Flush empties db (FLUSHDB). The old maps are dropped, not cleared, so the
// garbage collector reclaims them off the request path.
func (ks *Keyspace) Flush(dbi int) {
	db := ks.db(dbi)
	old := make([]map[string]entry, len(db.stripes)) // no longer shared: read without locks
	for i := range db.stripes {
		s := &db.stripes[i]
		s.mu.Lock()
		old[i] = s.m
		s.m = make(map[string]entry)
		s.expires, s.deadlines = 0, 0
		s.metaResetLocked()
		s.mu.Unlock()
	}
	now := ks.NowMs()
	ks.modifiedDB(dbi, func(key string) bool {
		e, ok := old[db.stripeIndex([]byte(key))][key]
		return ok && !e.expiredAt(now)
	})
}

// FlushAll empties every database.
func (ks *Keyspace) FlushAll() {
	for i := range NumDBs {
		ks.Flush(i)
	}
}

// Swap exchanges databases a and b (SWAPDB). Keys with deadlines are
// re-scheduled under their new database number; entries the scheduler
// holds under the old numbers become stale.
func (ks *Keyspace) Swap(a, b int) {
	if a == b {
		return
	}
	da, db := ks.db(a), ks.db(b)
	ks.dbs[a].Store(db)
	ks.dbs[b].Store(da)
	// A watched key changed if it is live on either side of the swap.
	now := ks.NowMs()
	either := func(key string) bool { return da.live(key, now) || db.live(key, now) }
	ks.modifiedDB(a, either)
	ks.modifiedDB(b, either)
	ks.rescheduleDB(a)
	ks.rescheduleDB(b)
}

func (ks *Keyspace) rescheduleDB(dbi int) {
	if ks.sched == nil {
		return
	}
	db := ks.db(dbi)
	var batch []struct {
		key string
		d   int64
	}
	for i := range db.stripes {
		s := &db.stripes[i]
		batch = batch[:0]
		s.mu.RLock()
		for k, e := range s.m {
			if e.deadline != 0 {
				batch = append(batch, struct {
					key string
					d   int64
				}{k, e.deadline})
			}
		}
		s.mu.RUnlock()
		for _, x := range batch {
			ks.sched.Schedule(dbi, x.key, x.d)
		}
	}
}
