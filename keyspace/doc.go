// Package keyspace is the in-memory store behind sessiond: 16 databases of
// binary-safe keys, each holding a string, a set of strings or a hash (see
// hash.go for its two forms), with an
// optional absolute deadline in Unix milliseconds.
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
// scheduler, watchers, logging) while a stripe lock is held.
//
// Databases are reached through atomic pointers so that SWAPDB exchanges
// two of them in one step.
//
// # Expiry
//
// The keyspace is the single source of truth for expiry. Every access reads
// the clock once and treats a record whose deadline has passed as absent
// (entry.expiredAt is the only expiry predicate; as in Redis a key expires
// strictly after its deadline). Writers delete such records on the spot;
// readers leave them to the expiry wheel, which proposes keys through
// ExpireIfDue; that re-checks the deadline under the stripe lock, so a
// stale proposal is harmless. Every deadline set is passed to the Scheduler
// after the stripe lock is released.
//
// # Ownership
//
// Values passed in are copied; nothing keeps a slice that aliases a
// network read buffer. A stored string is never modified (APPEND, SETRANGE
// and INCR store a new slice; a small hash, packed in the same field, is
// rebuilt on every write too), so a slice returned by Get, or taken by Walk
// for a snapshot, stays valid after the lock is released and must not be
// modified. Sets are modified in place under the write lock and are copied
// out.
//
// # Invariants
//
//   - a key lives in the stripe its hash selects;
//   - no set or hash is stored empty: removing the last member or field
//     removes the key;
//   - a zero deadline means the key never expires;
//   - stripe.expires counts the entries of its map that have a deadline.
package keyspace
