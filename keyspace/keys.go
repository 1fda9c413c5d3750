package keyspace

import (
	"math/rand/v2"
)

// Del deletes keys and returns how many existed.
func (ks *Keyspace) Del(dbi int, keys [][]byte) int {
	db := ks.db(dbi)
	now := ks.NowMs()
	n := 0
	if len(keys) == 1 {
		s := db.stripeFor(keys[0])
		s.mu.Lock()
		if e, ok := ks.getLocked(s, keys[0], now, true); ok {
			s.deleteLocked(string(keys[0]), e)
			n = 1
		}
		s.mu.Unlock()
		if n > 0 {
			ks.modified(dbi, string(keys[0]))
			ks.notify(dbi, EventGeneric, evDel, keys[0])
		}
		return n
	}
	l := lockKeys(db, keys)
	var deleted [][]byte // only these changed: watchers of the others stay clean, as in Redis
	for _, k := range keys {
		s := db.stripeFor(k)
		if e, ok := ks.getLocked(s, k, now, true); ok {
			s.deleteLocked(string(k), e)
			deleted = append(deleted, k)
			n++
		}
	}
	l.unlock()
	if n > 0 {
		ks.modifiedKeys(dbi, deleted)
	}
	for _, k := range deleted {
		ks.notify(dbi, EventGeneric, evDel, k)
	}
	return n
}

// lookup returns key's live entry under the read lock.
func (ks *Keyspace) lookup(dbi int, key []byte) (entry, bool) {
	db := ks.db(dbi)
	s := db.stripeFor(key)
	now := ks.NowMs()
	s.mu.RLock()
	e, ok := ks.peekLocked(s, key, now)
	s.mu.RUnlock()
	if !ok {
		ks.notifyMiss(dbi, key)
	}
	return e, ok
}

// Exists counts how many of keys exist (a key named twice counts twice).
func (ks *Keyspace) Exists(dbi int, keys [][]byte) int {
	n := 0
	for _, k := range keys {
		if _, ok := ks.lookup(dbi, k); ok {
			n++
		}
	}
	return n
}

// Type returns the kind of key's value, KindNone if absent.
func (ks *Keyspace) Type(dbi int, key []byte) Kind {
	e, ok := ks.lookup(dbi, key)
	if !ok {
		return KindNone
	}
	return e.kind()
}

// ExpireCond is the NX/XX/GT/LT condition of EXPIRE, a bit set (XX and
// GT may be combined).
type ExpireCond uint8

// The conditions of EXPIRE and friends.
const (
	ExpireNX ExpireCond = 1 << iota // only if the key has no deadline
	ExpireXX                        // only if the key has a deadline
	ExpireGT                        // only if the new deadline is later (no deadline counts as infinite)
	ExpireLT                        // only if the new deadline is earlier
)

// Expire sets key's deadline to the absolute Unix ms deadline, under cond.
// A deadline at or before now deletes the key. It reports whether the
// deadline was set (or the key deleted).
func (ks *Keyspace) Expire(dbi int, key []byte, deadline int64, cond ExpireCond) bool {
	db := ks.db(dbi)
	s := db.stripeFor(key)
	now := ks.NowMs()
	s.mu.Lock()
	e, ok := ks.getLocked(s, key, now, true)
	if !ok {
		s.mu.Unlock()
		return false
	}
	cur := e.deadline
	if (cond&ExpireNX != 0 && cur != 0) ||
		(cond&ExpireXX != 0 && cur == 0) ||
		(cond&ExpireGT != 0 && (cur == 0 || deadline <= cur)) ||
		(cond&ExpireLT != 0 && cur != 0 && deadline >= cur) {
		s.mu.Unlock()
		return false
	}
	k := string(key)
	if deadline <= now {
		s.deleteLocked(k, e)
		s.mu.Unlock()
		ks.modified(dbi, k)
		ks.notify(dbi, EventGeneric, evDel, key)
		return true
	}
	ne := e
	ne.deadline = deadline
	s.putLocked(k, e, true, ne)
	s.mu.Unlock()
	ks.written(dbi, k, cur, deadline)
	ks.notify(dbi, EventGeneric, evExpire, key)
	return true
}

// Deadline returns key's absolute deadline in Unix ms: -2 if the key does
// not exist, -1 if it has no deadline. now is the time it was read at.
func (ks *Keyspace) Deadline(dbi int, key []byte) (deadline, now int64) {
	db := ks.db(dbi)
	s := db.stripeFor(key)
	now = ks.NowMs()
	s.mu.RLock()
	e, ok := ks.peekLocked(s, key, now)
	s.mu.RUnlock()
	switch {
	case !ok:
		ks.notifyMiss(dbi, key)
		return -2, now
	case e.deadline == 0:
		return -1, now
	}
	return e.deadline, now
}

// Persist removes key's deadline and reports whether it had one.
func (ks *Keyspace) Persist(dbi int, key []byte) bool {
	db := ks.db(dbi)
	s := db.stripeFor(key)
	now := ks.NowMs()
	s.mu.Lock()
	e, ok := ks.getLocked(s, key, now, true)
	if !ok || e.deadline == 0 {
		s.mu.Unlock()
		return false
	}
	ne := e
	ne.deadline = 0
	k := string(key)
	s.putLocked(k, e, true, ne)
	s.mu.Unlock()
	ks.modified(dbi, k)
	ks.notify(dbi, EventGeneric, "persist", key)
	return true
}

// Keys returns every live key of db matching the glob pattern.
func (ks *Keyspace) Keys(dbi int, pattern []byte) [][]byte {
	db := ks.db(dbi)
	now := ks.NowMs()
	all := isMatchAll(pattern)
	var out [][]byte
	for i := range db.stripes {
		s := &db.stripes[i]
		s.mu.RLock()
		for k, e := range s.m {
			if e.expiredAt(now) {
				continue
			}
			if all || Match(pattern, []byte(k)) {
				out = append(out, []byte(k))
			}
		}
		s.mu.RUnlock()
	}
	return out
}

// ScanArgs are the options of SCAN.
type ScanArgs struct {
	Match []byte // glob; nil matches all
	Count int    // hint: stripes are visited until at least Count keys were looked at
	Type  Kind   // KindNone for any; TypeFilter must be set for it to apply
	// TypeFilter enables the Type filter; an unknown type name filters out
	// everything, as in Redis.
	TypeFilter bool
}

// Scan returns keys of db from cursor onwards and the cursor to continue
// from (0 when the iteration is complete). The cursor is a stripe index: a
// key present for the whole iteration is returned exactly once, because
// its stripe is visited exactly once; keys added or removed meanwhile may or
// may not be returned, as Redis guarantees.
func (ks *Keyspace) Scan(dbi int, cursor uint64, a ScanArgs) (next uint64, keys [][]byte) {
	db := ks.db(dbi)
	now := ks.NowMs()
	count := max(a.Count, 1)
	seen := 0
	all := isMatchAll(a.Match)
	i := cursor
	for ; i < uint64(len(db.stripes)) && seen < count; i++ {
		s := &db.stripes[i]
		s.mu.RLock()
		for k, e := range s.m {
			seen++
			if e.expiredAt(now) {
				continue
			}
			if a.TypeFilter && e.kind() != a.Type {
				continue
			}
			if all || Match(a.Match, []byte(k)) {
				keys = append(keys, []byte(k))
			}
		}
		s.mu.RUnlock()
	}
	if i >= uint64(len(db.stripes)) {
		return 0, keys
	}
	return i, keys
}

// RandomKey returns a random live key of db, or false if it has none.
func (ks *Keyspace) RandomKey(dbi int) ([]byte, bool) {
	db := ks.db(dbi)
	now := ks.NowMs()
	n := len(db.stripes)
	start := rand.IntN(n)
	for j := range n {
		s := &db.stripes[(start+j)%n]
		s.mu.RLock()
		for k, e := range s.m { // map iteration starts at a random place
			if !e.expiredAt(now) {
				s.mu.RUnlock()
				return []byte(k), true
			}
		}
		s.mu.RUnlock()
	}
	return nil, false
}

// cloneEntry copies e so that the copy shares nothing mutable with it.
func cloneEntry(e entry) entry {
	if e.kind() == KindSet {
		c := setEntry(e.setPtr().clone(), e.deadline)
		c.setSlot(e.slot())
		return c
	}
	if e.kind() == KindHash {
		e = cloneHashEntry(e)
	}
	if e.kind() == KindZSet {
		c := zsetEntry(e.zsetPtr().clone(), e.deadline)
		c.setSlot(e.slot())
		return c
	}
	if e.kind() == KindList {
		c := listEntry(e.listPtr().clone(), e.deadline)
		c.setSlot(e.slot())
		return c
	}
	if e.kind() == KindStream {
		c := streamEntry(e.streamPtr().clone(), e.deadline)
		c.setSlot(e.slot())
		return c
	}
	return e
}

// Rename moves src to dst, keeping its deadline. With nx it does nothing
// and returns false if dst exists. It returns ErrNoSuchKey if src is absent.
func (ks *Keyspace) Rename(dbi int, src, dst []byte, nx bool) (bool, error) {
	db := ks.db(dbi)
	now := ks.NowMs()
	l := lockKeys(db, [][]byte{src, dst})
	ss, ds := db.stripeFor(src), db.stripeFor(dst)
	e, ok := ks.getLocked(ss, src, now, true)
	if !ok {
		l.unlock()
		return false, ErrNoSuchKey
	}
	de, dok := ks.getLocked(ds, dst, now, true)
	if string(src) == string(dst) {
		l.unlock()
		return !nx, nil
	}
	if nx && dok {
		l.unlock()
		return false, nil
	}
	clk := ss.metaLoad(e.slot()) & clockMask // the value keeps its idle time, as in Redis
	ss.deleteLocked(string(src), e)
	dk := string(dst)
	ds.putLocked(dk, de, dok, e)
	ds.setClockLocked(dk, clk)
	l.unlock()
	ks.modified(dbi, string(src))
	ks.written(dbi, dk, 0, e.deadline)
	ks.notifyNew(dbi, dst) // Redis deletes dst and adds it anew (db.c renameGenericCommand)
	ks.notify(dbi, EventGeneric, "rename_from", src)
	ks.notify(dbi, EventGeneric, "rename_to", dst)
	return true, nil
}

// Copy copies src in srcDB to dst in dstDB with its deadline. Without
// replace it does nothing if dst exists. It reports whether it copied.
func (ks *Keyspace) Copy(srcDB int, src []byte, dstDB int, dst []byte, replace bool) bool {
	sdb, ddb := ks.db(srcDB), ks.db(dstDB)
	now := ks.NowMs()
	l := lockStripes([]stripeRef{{sdb, sdb.stripeIndex(src)}, {ddb, ddb.stripeIndex(dst)}})
	ss, ds := sdb.stripeFor(src), ddb.stripeFor(dst)
	e, ok := ks.getLocked(ss, src, now, true)
	if !ok {
		l.unlock()
		ks.notifyMiss(srcDB, src) // COPY reads its source (lookupKeyRead)
		return false
	}
	de, dok := ks.getLocked(ds, dst, now, true)
	if dok && !replace {
		l.unlock()
		return false
	}
	dk := string(dst)
	ds.putLocked(dk, de, dok, cloneEntry(e))
	l.unlock()
	ks.written(dstDB, dk, 0, e.deadline)
	ks.notifyNew(dstDB, dst)
	ks.notify(dstDB, EventGeneric, "copy_to", dst)
	return true
}

// Move moves key from srcDB to dstDB if it exists there and not in dstDB.
func (ks *Keyspace) Move(srcDB int, key []byte, dstDB int) bool {
	sdb, ddb := ks.db(srcDB), ks.db(dstDB)
	now := ks.NowMs()
	l := lockStripes([]stripeRef{{sdb, sdb.stripeIndex(key)}, {ddb, ddb.stripeIndex(key)}})
	ss, ds := sdb.stripeFor(key), ddb.stripeFor(key)
	e, ok := ks.getLocked(ss, key, now, true)
	if !ok {
		l.unlock()
		return false
	}
	if _, dok := ks.getLocked(ds, key, now, true); dok {
		l.unlock()
		return false
	}
	k := string(key)
	clk := ss.metaLoad(e.slot()) & clockMask
	ss.deleteLocked(k, e)
	ds.putLocked(k, entry{}, false, e)
	ds.setClockLocked(k, clk)
	l.unlock()
	ks.modified(srcDB, k)
	ks.written(dstDB, k, 0, e.deadline)
	ks.notifyNew(dstDB, key)
	ks.notify(srcDB, EventGeneric, "move_from", key)
	ks.notify(dstDB, EventGeneric, "move_to", key)
	return true
}

// Elements returns the elements of key's list, set or sorted set in the
// order SORT loads them: the list's, the set's iteration order (SMEMBERS's),
// the sorted set's by score. The key is looked up as a read (a hit, or a
// miss and "keymiss"); an absent key gives KindNone, another kind
// ErrWrongType. A packed sorted set gets its member index, as Redis's SORT
// converts a listpack sorted set to a skiplist for good (OBJECT ENCODING
// says so afterwards). List and sorted-set elements share stored bytes,
// which are never modified; set members, which a packed set moves in
// place, are copies. The slice itself is the caller's.
func (ks *Keyspace) Elements(dbi int, key []byte) (Kind, [][]byte, error) {
	db := ks.db(dbi)
	s := db.stripeFor(key)
	now := ks.NowMs()
	for write := false; ; write = true {
		kind, out, ok, retry := ks.elementsLocked(s, key, now, write)
		if retry {
			continue // a packed sorted set: again with the write lock, to index it
		}
		ks.hit(ok)
		switch {
		case !ok:
			ks.notifyMiss(dbi, key)
			return KindNone, nil, nil
		case kind != KindList && kind != KindSet && kind != KindZSet:
			return kind, nil, ErrWrongType
		}
		return kind, out, nil
	}
}

// elementsLocked is Elements under s's lock (the write lock if write). It
// asks for a retry with the write lock when it finds a packed sorted set
// under the read lock.
func (ks *Keyspace) elementsLocked(s *stripe, key []byte, now int64, write bool) (kind Kind, out [][]byte, ok, retry bool) {
	if write {
		s.mu.Lock()
		defer s.mu.Unlock()
	} else {
		s.mu.RLock()
		defer s.mu.RUnlock()
	}
	e, ok := ks.getLocked(s, key, now, false)
	if !ok {
		return KindNone, nil, false, false
	}
	switch e.kind() {
	case KindList:
		l := e.listPtr()
		out = l.elements(0, l.len())
	case KindSet:
		out = e.setPtr().members()
	case KindZSet:
		z := e.zsetPtr()
		if !z.big() {
			if !write {
				return 0, nil, false, true
			}
			z.indexAll()
			s.resizedLocked(string(key), e)
		}
		out = make([][]byte, 0, z.len())
		z.each(0, z.len(), false, func(m zentry) bool { out = append(out, view(m.member)); return true })
	}
	return e.kind(), out, true, false
}
