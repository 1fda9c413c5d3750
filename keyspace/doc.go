// Package keyspace is the in-memory store behind sessiond: 16 databases of
// binary-safe keys, each holding a string, a set of strings, a hash (see
// hash.go for its two forms), a sorted set (zset.go), a list (list.go) or
// a stream (stream.go), with an optional absolute deadline in Unix
// milliseconds.
//
// # Concurrency
//
// Each database is a fixed, power-of-two array of stripes. A key's stripe
// is xxhash.Sum64(key) & (stripes-1); each stripe owns a Go map and the
// sync.RWMutex that guards it. Read-only operations take the read lock;
// read-modify-write operations (SET NX/GET, INCR, GETDEL, SADD, SPOP,
// SMOVE, RENAME...) hold the write lock for the whole operation, never a
// check under one hold and a write under another. A multi-key operation
// takes the stripe locks it needs in ascending (database id, stripe) order,
// so two of them can never deadlock. Nothing calls out of the package (the
// scheduler, watchers, logging) while a stripe lock is held, with one
// exception: ViewMembers's callback, which SMEMBERS uses to append a set's
// members to a reply buffer under the read lock, and which must do no more.
//
// Databases are reached through atomic pointers so that SWAPDB exchanges
// two of them in one step.
//
// # Expiry
//
// The keyspace is the single source of truth for expiry. Every access reads
// the clock once, or, for SET, takes the command's time from the caller
// (SetArgs.Now: the front end's reading as the command began, or a fresh
// one if it waited; NowMsAt), and treats a record whose deadline has passed
// as absent (entry.expiredAt is the only expiry predicate; as in Redis a
// key expires strictly after its deadline). While an EXEC or a script runs
// the time is frozen at its start (Freeze): every reading is that time, the
// expiry wheel's too when it runs on Now, as sessiond runs it. Writers
// delete expired records on the spot; readers leave them to the expiry
// wheel, which proposes keys through ExpireIfDue; that re-checks the
// deadline under the stripe lock, so a stale proposal is harmless. Every
// deadline set is passed to the Scheduler after the stripe lock is
// released.
//
// # Events
//
// Operations report Redis's keyspace events (set, expire, del, sadd, new,
// expired, keymiss...) to the installed Notifier (notify.go), with Redis's
// names and order, after their locks are released; events.go describes the
// one exception (lazy expiry). The wheel's reclamation reports "expired"
// from ExpireIfDue, so a subscriber hears of an expiry within the wheel's
// deadline even if no client touches the key.
//
// # Ownership
//
// Values passed in are copied; nothing keeps a slice that aliases a
// network read buffer. A stored string is never modified (APPEND, SETRANGE
// and INCR store a new slice; a small hash, packed the same way, is
// rebuilt on every write too), so a slice returned by Get, or taken by Walk
// for a snapshot, stays valid after the lock is released and must not be
// modified. Sets and sorted sets are modified in place under the write
// lock and are copied out (sets also read in place, under the read lock,
// by ViewMembers). A list is modified in place too, but the bytes of its
// chunks never are (list.go): elements returned by LRANGE or a pop, and
// the chunks a snapshot takes, are shared like strings. A stream is
// modified in place too; its chunks' entry bytes are only appended to,
// and their flags replaced rather than modified (stream.go), so a
// snapshot copies the chunk headers and the consumer groups under the
// lock and reads the entries after it.
//
// # Blocked clients
//
// BLPOP and the other blocking commands register their keys (Block,
// block.go) and wait for a write to one of them: modified, the hook WATCH
// uses, wakes the first client blocked on the key, and a client served
// wakes the next, so clients are served in the order they blocked.
//
// # Entry layout
//
// A map slot is the key's 16-byte string header and a 24-byte entry (the
// dominant per-key cost after the value itself): one unsafe.Pointer to the
// value (a string's or packed hash's bytes, or a *set, *hashMap, *zset
// or *list), a uint32 length, a uint32 tag packing the kind, whether the
// pointer is one of those objects and the meta slot index, and the int64
// deadline. Only the accessors in keyspace.go (kind, bytes, setPtr,
// hashMapPtr, zsetPtr, listPtr, slot) read those fields. A string of 4 GiB or more
// (possible only with proto-max-bulk-len raised that far) keeps its slice
// header boxed behind the pointer. Stored bytes are allocated at their
// length, so the length alone gives their size class for the accounting.
//
// # Memory and eviction
//
// "Used memory", the figure maxmemory bounds (INFO used_memory_dataset,
// MEMORY STATS dataset.bytes plus the map overhead), is an accounted byte
// count, as Redis's zmalloc counter is, not a heap measurement: every
// write recomputes the key's size (entrySize: key and value rounded up to
// Go's size classes, the map slot, the metadata slot; sets by encoding),
// stores it in the key's meta slot and adds the difference to its
// stripe's and its database's counters. So the figure is exact with
// respect to the estimate, costs no stop-the-world and no sampling, a
// delete subtracts exactly what was added, and MEMORY USAGE agrees with
// it. In-place changes (SADD to an existing set) must call resizedLocked;
// a kind that forgets only under-counts that key until it is rewritten.
//
// Before each command the front end calls Evict when the sum of the
// database counters exceeds maxmemory. Eviction follows Redis's evict.c:
// maxmemory-samples keys per database go into a 16-entry pool ordered by
// idle time (LRU), 255 minus the decayed counter (LFU) or nearness of the
// deadline (volatile-ttl), and the best one that still exists is deleted;
// the random policies take one random key per database in turn.
//
// The Go heap holds more than the dataset: garbage not yet collected (up
// to gc-percent of live data), connection buffers, the stripes. maxmemory
// therefore also sets the runtime's soft memory limit, but above it
// (GoMemoryLimit: maxmemory + max(maxmemory/2, 64 MiB)): a limit at
// maxmemory itself would make the collector run continuously once eviction
// holds the dataset there. Expect the heap at about maxmemory x (1 +
// gc-percent/100) plus a few MiB, and size maxmemory from the RSS budget.
//
// # Access metadata
//
// Each key's LRU clock (seconds, 24 bits) or LFU counter (16 bits of
// minutes, 8 bits of logarithmic count; lfu-log-factor, lfu-decay-time)
// lives in stripe.meta[entry.slot()], because map values cannot be updated
// in place under a read lock. Reads update it with atomics under the read
// lock (no write lock, no allocation); lookups Redis makes without
// touching (EXISTS, TYPE, TTL, OBJECT, MEMORY USAGE) do not update it.
//
// # Invariants
//
//   - a key lives in the stripe its hash selects;
//   - no set, hash, sorted set or list is stored empty: removing the last
//     member, field or element removes the key (a stream may be empty, as
//     in Redis);
//   - a zero deadline means the key never expires;
//   - stripe.expires counts the entries of its map that have a deadline,
//     and stripe.deadlines sums those deadlines (each capped, for avg_ttl);
//   - every entry in a map owns a distinct nonzero meta slot; stripe.bytes
//     is the sum of the sizes in its slots, DB.used the sum over stripes.
package keyspace
