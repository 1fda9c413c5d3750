package keyspace

import (
	"bytes"
	"errors"
)

// DUMP and RESTORE: one key's value out, as Walk hands values to a save,
// and a whole value in, as RESTORE stores it (cluster.c restoreCommand).

// ErrBusyKey is RESTORE's refusal to replace an existing key; the text is
// Redis's.
var ErrBusyKey = errors.New("BUSYKEY Target key name already exists.")

// Dump returns key's value as Walk would (references taken under the
// stripe lock, read after it is released: no value is written in place
// once stored), counting a read: a hit or a miss, and keymiss.
func (ks *Keyspace) Dump(dbi int, key []byte) (Item, bool) {
	s := ks.db(dbi).stripeFor(key)
	now := ks.NowMs()
	s.mu.RLock()
	e, ok := ks.getLocked(s, key, now, false)
	var it Item
	if ok {
		it = itemOf(string(key), e)
	}
	s.mu.RUnlock()
	ks.hit(ok)
	if !ok {
		ks.notifyMiss(dbi, key)
	}
	return it, ok
}

// Has reports whether key exists, as Redis's lookupKeyWrite sees it: it
// touches the key's access clock, counts no hit or miss and notifies
// nothing (RESTORE's BUSYKEY check).
func (ks *Keyspace) Has(dbi int, key []byte) bool {
	s := ks.db(dbi).stripeFor(key)
	s.mu.RLock()
	_, ok := ks.getLocked(s, key, ks.NowMs(), false)
	s.mu.RUnlock()
	return ok
}

// Value is a whole value of any kind, for Restore. Restore copies it.
type Value struct {
	Kind Kind
	Str  []byte // KindString
	// Elems: KindSet's distinct members, KindList's elements in order,
	// KindZSet's distinct members (Scores[i] is Elems[i]'s), KindHash's
	// field, value, field, value... with distinct fields.
	Elems  [][]byte
	Scores []float64
	Stream *StreamData // KindStream (ValidateStream must accept it)
}

// entry is v as a new entry with deadline, or false if v is empty.
func (v *Value) entry(deadline int64) (entry, bool) {
	switch v.Kind {
	case KindString:
		return bytesEntry(KindString, bytes.Clone(v.Str), deadline), true
	case KindSet:
		if len(v.Elems) > 0 {
			return setEntry(newSetOf(v.Elems), deadline), true
		}
	case KindHash:
		if h := newHashOf(v.Elems); h.len() > 0 {
			return hashEntry(h, entry{}, deadline), true
		}
	case KindZSet:
		if len(v.Elems) > 0 {
			return zsetEntry(newZSetOf(v.Elems, v.Scores), deadline), true
		}
	case KindList:
		if len(v.Elems) > 0 {
			return listEntry(newListOf(v.Elems), deadline), true
		}
	case KindStream:
		if v.Stream != nil {
			if st, err := newStreamOf(v.Stream); err == nil {
				return streamEntry(st, deadline), true
			}
		}
	}
	return entry{}, false
}

// RestoreArgs are RESTORE's options, resolved by the caller.
type RestoreArgs struct {
	Replace  bool  // replace an existing key (else ErrBusyKey)
	Deadline int64 // absolute Unix ms; 0 means none
	// IdleSecs (when >= 0 and the maxmemory policy is not LFU) sets the
	// key's LRU idle time; Freq (when >= 0 and the policy is LFU) its LFU
	// counter, 0..255. Otherwise the key is new, as any other.
	IdleSecs int64
	Freq     int
}

// Restore stores v at key, as RESTORE does. Without a.Replace an existing
// key is left and ErrBusyKey returned. A deadline already past stores
// nothing; a key it replaced is then deleted (a "del" event), as in Redis.
// An empty v stores nothing (RESTORE refuses it before this).
func (ks *Keyspace) Restore(dbi int, key []byte, v Value, a RestoreArgs) error {
	now := ks.NowMs()
	expired := a.Deadline != 0 && a.Deadline <= now
	e, ok := v.entry(a.Deadline)
	if !ok && !expired {
		return nil
	}
	db := ks.db(dbi)
	s := db.stripeFor(key)
	k := string(key)
	s.mu.Lock()
	old, had := ks.getLocked(s, key, now, true)
	if had && !a.Replace {
		s.mu.Unlock()
		return ErrBusyKey
	}
	if expired {
		if had {
			s.deleteLocked(k, old)
		}
		s.mu.Unlock()
		if had {
			ks.modified(dbi, k)
			ks.notify(dbi, EventGeneric, evDel, key)
		}
		return nil
	}
	s.putLocked(k, old, had, e)
	clock, set := ks.restoredClock(a, now)
	if !set && had {
		// Redis deletes the old key and adds a new one (dbDelete, dbAdd),
		// where an overwrite keeps the slot and so the LFU counter.
		clock, set = ks.newClock(), true
	}
	if set {
		s.setClockLocked(k, uint64(clock))
	}
	s.mu.Unlock()
	ks.written(dbi, k, 0, a.Deadline)
	ks.notifyNew(dbi, key)
	ks.notify(dbi, EventGeneric, "restore", key)
	return nil
}

// restoredClock is the access metadata RESTORE's IDLETIME or FREQ asks
// for under the current policy (Redis's objectSetLRUOrLFU), if any.
func (ks *Keyspace) restoredClock(a RestoreArgs, now int64) (uint32, bool) {
	lfu := false
	if p := ks.params.Load(); p != nil {
		lfu = p.Policy.LFU()
	}
	switch {
	case lfu && a.Freq >= 0:
		return lfuMinutes(now)<<8 | uint32(min(a.Freq, 255)), true
	case !lfu && a.IdleSecs >= 0:
		// As Redis: below zero, LRU_CLOCK_MAX (not 2^24) is added once,
		// and the 24-bit field keeps the low bits; lruIdleMs subtracts
		// LRU_CLOCK_MAX back, so an idle time past the clock's last wrap
		// reads as asked, not a second less.
		abs := int64(lruClock(now)) - a.IdleSecs*1000/lruResolutionMs
		if abs < 0 {
			abs += clockMask
		}
		return uint32(abs) & clockMask, true
	}
	return 0, false
}

// itemOf takes what Walk and Dump hand out of e under the stripe lock:
// references to its immutable parts, copies of the rest's headers.
func itemOf(k string, e entry) Item {
	it := Item{Key: k, Kind: e.kind(), Str: e.bytes(), Deadline: e.deadline}
	switch e.kind() {
	case KindSet:
		it.Members = make([]string, 0, e.setPtr().len())
		e.setPtr().each(func(m []byte) bool {
			it.Members = append(it.Members, string(m))
			return true
		})
	case KindHash:
		it.Str = nil
		it.packed, it.hashPairs = walkHash(e)
	}
	if z := e.zsetPtr(); z != nil {
		it.scored = make([]zentry, 0, z.len())
		z.each(0, z.len(), false, func(e zentry) bool {
			it.scored = append(it.scored, e)
			return true
		})
	}
	if st := e.streamPtr(); st != nil {
		it.stream = snapStream(st)
	}
	if l := e.listPtr(); l != nil {
		it.chunks, it.elems = make([][]byte, len(l.chunks)), l.len()
		for i, c := range l.chunks {
			it.chunks[i] = c.data()
		}
	}
	return it
}
