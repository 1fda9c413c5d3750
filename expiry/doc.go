// Package expiry reclaims expired keys on a deadline: a hierarchical timing
// wheel of key deadlines, driven by one goroutine, that hands due keys to
// the keyspace in bounded batches.
//
// # The keyspace is the truth
//
// The wheel only proposes. An entry says "key k in db d may expire at tick
// t"; when t comes the wheel calls Store.ExpireIfDue(d, k, now), and the
// keyspace re-checks the record's deadline under its stripe lock with its
// one expiry predicate (expired once now > deadline) and deletes the key or
// not. Entries are never searched for or removed when a key is refreshed,
// renamed or deleted: the old entry goes stale and is recognised as such
// when it fires. Reads never depend on the wheel (the keyspace expires
// lazily on access); the wheel bounds how long an expired key keeps its
// memory.
//
// # Ticks
//
// Time is cut into ticks of Options.Tick (a whole number of milliseconds,
// 10 ms by default); tick i starts at Unix millisecond i*Tick. An entry with
// deadline D fires at tick D/Tick+1, the first boundary strictly after D, so
// that the keyspace agrees it is due whenever the wheel fires it. cur is
// the last tick processed: Advance(now) processes every tick up to
// now/Tick. A key is therefore reclaimed between 0 and 1 tick after its
// deadline, plus the time Run takes to wake up (Run sleeps until each tick
// boundary by Clock, not on a free-running ticker) and to work through the
// due batch.
//
// A Schedule whose tick is already processed (a deadline in the past, or
// the clock stepped back) goes to a "late" list that the next Advance fires
// whatever its time argument.
//
// # Levels
//
// Each level has Slots slots (a power of two, 2^b); a slot of level l covers
// 2^(b*l) ticks, so with the defaults (1024 slots of 10 ms) level 0 spans
// 10.24 s, level 1 2.9 h, level 2 124 days, level 3 348 years. Levels are
// allocated on first use; there are enough of them for any deadline (ticks
// have at most 60 bits), so there are no rounds and no clamping in practice.
//
// An entry with tick t goes to the lowest level l at which t and cur agree
// on every base-2^b digit above l (l is the highest differing bit of t^cur,
// divided by b), in the slot numbered by t's digit at l. That digit is
// greater than cur's, so the slot lies ahead in cur's current block. When
// cur reaches the start of a level-l slot (l >= 1) the slot is cascaded:
// its entries are re-filed relative to the new cur, to a lower level or
// straight to firing. When cur reaches a level-0 slot it fires. So an entry
// is moved at most once per level between its Schedule and its tick, and no
// slot is ever scanned for entries that are not due: level-0 slots hold a
// single tick, and higher-level slots are touched only to be emptied.
//
// Worked example (Tick 10 ms, Slots 1024, cur = tick 1000, time 10.000 s):
//
//	deadline 10.004 s -> tick 1001 -> 1001^1000 < 1024  -> level 0, slot 1001; fires at 10.010 s
//	deadline 10.555 s -> tick 1056 -> top differing bit 10 -> level 1, slot 1056>>10 = 1;
//	                     cascaded at tick 1024 (10.24 s) into level 0, slot 1056&1023 = 32;
//	                     fires at tick 1056 (10.56 s)
//	deadline +30 min  -> level 1 (level 2 across a 2.9 h boundary); cascaded into level 0
//	                     at the start of its 10.24 s block, then fired
//
// Advance does not walk empty ticks: a bitmap of non-empty slots per level
// gives the next tick at which a slot fires or cascades, and cur jumps
// there. A forward clock jump of days costs in proportion to the occupied
// slots passed, not the ticks.
//
// # Advance, batches and the time budget
//
// Due entries are taken out of the wheel (a slot is moved whole, O(1)) onto
// a FIFO of pending slots and handed to Store at most BatchSize at a time.
// The wheel's lock (which Schedule takes) is held only to take a batch and
// to file the results, never across Store calls; each Store call takes one
// stripe lock, so no stripe lock is held across a batch either. Between
// batches Advance calls runtime.Gosched, so under load the expiry goroutine
// shares its processor with request goroutines. Re-filing cascaded entries
// is also chunked (4096 per lock hold), so even a cascade of a million keys
// never blocks Schedule for long. Advance calls are serialized by a second
// mutex that Schedule never takes.
//
// If the work of one Advance (taking batches, Store calls, filing results;
// not the time yielded between batches) reaches Options.Budget, 3/4 of a
// tick by default, and due work remains, it stops, counts
// Stats.TimeCapReached and leaves the rest, in deadline order, for the next
// tick. The budget caps the expiry goroutine's share of one core while it is
// behind; it does not govern request latency, which the batches do: a
// request that becomes runnable on the expiry goroutine's processor waits at
// most one batch (256 keys, on the order of 100 us) or is stolen by the
// other processor. The budget must stay well above the steady cost of the
// worst storm to be absorbed: a keyspace-like Store costs roughly 150-500
// ns per key (more when the keyspace is large and cache-cold), so 1M keys
// expiring within one second need 15-50% of a core, and 3/4 of a tick
// leaves headroom while always leaving a quarter of each tick to requests.
//
// # When an entry fires
//
//   - Store deleted the key: counted in Stats.ExpiredKeys.
//   - The key is absent or has no deadline (deleted, renamed, persisted,
//     flushed): the entry is stale and dropped.
//   - The key's deadline is later than the entry's tick (refreshed): stale
//     and dropped, because the keyspace scheduled the new deadline itself.
//   - The key's deadline is at or before the entry's tick but Store says it
//     is not due (the clock went backward since): the entry is re-filed at
//     cur+1 and tried again, never dropped.
//
// Stale entries count in Stats.StaleEntries and LastTickStaleRatio. An
// entry is handed to Store once per firing and fires once; a backward clock
// jump fires nothing new and loses nothing.
//
// # What the keyspace must do
//
//   - Call Schedule for every deadline it sets or changes (SET EX/PX/EXAT,
//     EXPIRE and friends, GETEX, SETEX, RENAME and MOVE for the new name or
//     database, RESTORE, snapshot load, and every key of both databases on
//     SWAPDB), after releasing its stripe lock. The wheel keeps every entry,
//     so concurrent schedules may arrive in any order. It need not schedule
//     when a deadline is unchanged (SET KEEPTTL): the existing entry stands.
//   - Pass its own map key string, so the wheel shares the key's bytes.
//   - Implement ExpireIfDue with the same predicate as lazy expiry.
//   - Nothing on FLUSHDB or FLUSHALL: the flushed keys' entries go stale and
//     are dropped at their ticks (ResetDB is a no-op). Reset frees that
//     memory at once; if FLUSHALL calls it, it must do so before clearing
//     the stripes, so that a key set after the flush has its entry
//     scheduled after the Reset.
//   - Count expired_keys itself (in ExpireIfDue and lazy expiry) and not add
//     Stats.ExpiredKeys to it: every wheel deletion goes through
//     ExpireIfDue.
//
// # Memory
//
// A slot stores entries in two forms. Consecutive entries of a slot with
// the same (tick, db) - the common case, as sessions get the same TTL over
// and over, and within a level-0 slot every entry has the same tick - are
// run-length encoded: the key string header (16 bytes) in one list plus one
// 16-byte run header per group. Other entries carry their own packed
// tick<<4|db word: 24 bytes. Both lists are append-only lists of 8 KiB
// blocks (511 keys or 341 entries: with the 8-byte header Go adds to
// pointer-carrying objects over 512 bytes, exactly one size class), so a
// slot that grows to a million entries is never copied and wastes less than
// one block. Measured on 1M entries (BenchmarkMemoryPerEntry, heap after GC,
// everything included): 16.2 B/entry for a fixed TTL, 16.6 B/entry for a
// storm of 1M keys due within one second, 24.2-24.4 B/entry when every
// neighbour differs (alternating databases, or TTLs with minutes of random
// jitter). Key bytes are not counted: they belong to the keyspace. Each
// level in use costs Slots*88 bytes of slot headers plus a bitmap (88 KiB
// with the defaults); two or three levels are typical.
//
// When a slot is drained its first blocks are cleared (so that they do not
// pin deleted keys' bytes) and kept for reuse, up to 64 slots' worth; the
// other blocks of a big slot, as a storm leaves, are dropped so that their
// memory returns.
//
// Refreshing a TTL adds an entry and the old one stays until its own tick,
// so a sliding-expiration session refreshed every r seconds with a TTL of T
// costs about T/r entries. A keyspace that wants one entry per key can stop
// scheduling extensions only together with a wheel that re-files stale
// entries at the later deadline; that would be a change of this contract.
package expiry
