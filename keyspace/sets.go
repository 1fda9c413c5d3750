package keyspace

import (
	"bytes"
	"math/rand/v2"
)

// updateSet runs fn on key's live set (nil if absent) under the write lock.
// fn returns the set to store; an empty or nil set deletes the key, since no
// set is ever stored empty. A change reports "new" if it created the key,
// then event (class s), then "del" if it emptied the set.
func (ks *Keyspace) updateSet(dbi int, key []byte, event string, fn func(set *set) (*set, bool)) error {
	db := ks.db(dbi)
	s := db.stripeFor(key)
	now := ks.NowMs()
	s.mu.Lock()
	e, ok := ks.getLocked(s, key, now, true)
	if ok && e.kind() != KindSet {
		s.mu.Unlock()
		return ErrWrongType
	}
	set, changed := fn(e.setPtr())
	if !changed {
		s.mu.Unlock()
		return nil
	}
	k := string(key)
	deleted := set.empty() && ok
	switch {
	case deleted:
		s.deleteLocked(k, e)
	case !set.empty() && !ok:
		s.putLocked(k, e, false, setEntry(set, 0))
	default:
		s.resizedLocked(k, e) // changed in place
	}
	s.mu.Unlock()
	ks.modified(dbi, k)
	if !ok {
		ks.notifyNew(dbi, key)
	}
	ks.notify(dbi, EventSet, event, key)
	if deleted {
		ks.notify(dbi, EventGeneric, evDel, key)
	}
	return nil
}

// SAdd adds members to key's set and returns how many were new.
func (ks *Keyspace) SAdd(dbi int, key []byte, members [][]byte) (int, error) {
	n := 0
	err := ks.updateSet(dbi, key, "sadd", func(s *set) (*set, bool) {
		if s == nil {
			s = &set{}
			// Only a new set: growing an existing one before knowing
			// whether any member is new would change its size in an SADD
			// that reports no change, which the accounting never sees.
			s.reserve(members)
		}
		for _, m := range members {
			if s.add(m) {
				n++
			}
		}
		return s, n > 0
	})
	return n, err
}

// SRem removes members from key's set and returns how many were there.
func (ks *Keyspace) SRem(dbi int, key []byte, members [][]byte) (int, error) {
	n := 0
	err := ks.updateSet(dbi, key, "srem", func(s *set) (*set, bool) {
		for _, m := range members {
			if s != nil && s.remove(m) {
				n++
			}
		}
		return s, n > 0
	})
	return n, err
}

// viewSet runs fn on key's live set (nil if absent) under the read lock.
func (ks *Keyspace) viewSet(dbi int, key []byte, fn func(set *set)) error {
	db := ks.db(dbi)
	s := db.stripeFor(key)
	now := ks.NowMs()
	s.mu.RLock()
	e, ok := ks.getLocked(s, key, now, false)
	if ok && e.kind() != KindSet {
		s.mu.RUnlock()
		return ErrWrongType
	}
	fn(e.setPtr())
	s.mu.RUnlock()
	if !ok {
		ks.notifyMiss(dbi, key)
	}
	return nil
}

// Members is a read-only view of a set's members, valid only during the
// ViewMembers call that passes it.
type Members struct{ s *set }

// Len is the number of members.
func (m Members) Len() int { return m.s.len() }

// Each calls fn with every member until fn returns false. The slice is
// the set's own bytes: fn must not keep or modify it.
func (m Members) Each(fn func([]byte) bool) { m.s.each(fn) }

// ViewMembers calls fn with key's set (empty if absent) under the stripe's
// read lock, so that SMEMBERS writes its reply from the set itself rather
// than from copies of every member (one allocation each).
// It is the one exception to "nothing calls out of the package under a
// stripe lock" (doc.go), and fn must keep to what makes that safe: copy
// the members out (append them to a reply buffer), nothing more; no
// blocking, no call into the keyspace.
func (ks *Keyspace) ViewMembers(dbi int, key []byte, fn func(Members)) error {
	return ks.viewSet(dbi, key, func(s *set) { fn(Members{s}) })
}

// SIsMember reports whether each of ms is a member of key's set.
func (ks *Keyspace) SIsMember(dbi int, key []byte, ms [][]byte) ([]bool, error) {
	out := make([]bool, len(ms))
	err := ks.viewSet(dbi, key, func(s *set) {
		for i, m := range ms {
			out[i] = s.has(m)
		}
	})
	return out, err
}

// SCard returns the size of key's set.
func (ks *Keyspace) SCard(dbi int, key []byte) (int, error) {
	n := 0
	err := ks.viewSet(dbi, key, func(s *set) { n = s.len() })
	return n, err
}

// SPop removes and returns up to count random members of key's set.
func (ks *Keyspace) SPop(dbi int, key []byte, count int) ([][]byte, error) {
	var out [][]byte
	err := ks.updateSet(dbi, key, "spop", func(s *set) (*set, bool) {
		if s == nil || count == 0 {
			return s, false
		}
		out = s.random(count)
		for _, m := range out {
			s.remove(m)
		}
		return s, len(out) > 0
	})
	return out, err
}

// SRandMember returns random members of key's set: up to count distinct
// ones if count >= 0, or exactly -count possibly repeated ones.
func (ks *Keyspace) SRandMember(dbi int, key []byte, count int64) ([][]byte, error) {
	var out [][]byte
	err := ks.viewSet(dbi, key, func(s *set) {
		if s.empty() {
			return
		}
		if count >= 0 {
			out = s.random(int(min(count, int64(s.len()))))
			return
		}
		all := s.members()
		out = make([][]byte, 0, min(-count, 1<<20))
		for range -count {
			out = append(out, all[rand.IntN(len(all))])
		}
	})
	return out, err
}

// SMove moves member from src's set to dst's set and reports whether it
// was in src.
func (ks *Keyspace) SMove(dbi int, src, dst, member []byte) (bool, error) {
	db := ks.db(dbi)
	now := ks.NowMs()
	l := lockKeys(db, [][]byte{src, dst})
	ss, ds := db.stripeFor(src), db.stripeFor(dst)
	se, sok := ks.getLocked(ss, src, now, true)
	de, dok := ks.getLocked(ds, dst, now, true)
	if !sok { // as in Redis, a missing source is 0 whatever dst holds
		l.unlock()
		return false, nil
	}
	if se.kind() != KindSet || (dok && de.kind() != KindSet) {
		l.unlock()
		return false, ErrWrongType
	}
	if !se.setPtr().has(member) {
		l.unlock()
		return false, nil
	}
	if string(src) == string(dst) {
		l.unlock()
		return true, nil
	}
	se.setPtr().remove(member)
	srcGone := se.setPtr().empty()
	if srcGone {
		ss.deleteLocked(string(src), se)
	}
	if !dok {
		de = setEntry(&set{}, 0)
		ds.putLocked(string(dst), entry{}, false, de)
		de = ds.m[string(dst)] // with its slot
	}
	had := !de.setPtr().add(member)
	if !se.setPtr().empty() {
		ss.resizedLocked(string(src), se)
	}
	ds.resizedLocked(string(dst), de)
	l.unlock()
	ks.modified(dbi, string(src))
	if !had { // as in Redis, dst changed only if the member was new there
		ks.modified(dbi, string(dst))
	}
	ks.notify(dbi, EventSet, "srem", src)
	if srcGone {
		ks.notify(dbi, EventGeneric, evDel, src)
	}
	if !dok {
		ks.notifyNew(dbi, dst)
	}
	if !had {
		ks.notify(dbi, EventSet, "sadd", dst)
	}
	return true, nil
}

// SetOp is an operation over several sets.
type SetOp uint8

// The set algebra operations.
const (
	SetInter SetOp = iota
	SetUnion
	SetDiff
)

// readSetsLocked returns the live sets of keys (nil for absent). Stripes must be locked.
func (ks *Keyspace) readSetsLocked(db *DB, keys [][]byte, now int64) ([]*set, error) {
	sets := make([]*set, len(keys))
	for i, k := range keys {
		e, ok := ks.getLocked(db.stripeFor(k), k, now, true)
		if ok && e.kind() != KindSet {
			return nil, ErrWrongType
		}
		sets[i] = e.setPtr()
	}
	return sets, nil
}

func combine(op SetOp, sets []*set, limit int) *set {
	out := &set{}
	switch op {
	case SetUnion:
		for _, s := range sets {
			s.each(func(m []byte) bool { out.add(m); return true })
		}
	case SetDiff:
		if len(sets) == 0 {
			return out
		}
		sets[0].each(func(m []byte) bool {
			for _, s := range sets[1:] {
				if s.has(m) {
					return true
				}
			}
			out.add(m)
			return true
		})
	case SetInter:
		smallest := 0
		for i, s := range sets {
			if s.empty() {
				return out
			}
			if s.len() < sets[smallest].len() {
				smallest = i
			}
		}
		sets[smallest].each(func(m []byte) bool {
			for _, s := range sets {
				if !s.has(m) {
					return true
				}
			}
			out.add(m)
			return limit <= 0 || out.len() < limit
		})
	}
	return out
}

// SetCombine returns the intersection, union or difference of the sets at
// keys. For SetInter, limit > 0 stops after limit members (SINTERCARD).
func (ks *Keyspace) SetCombine(dbi int, op SetOp, keys [][]byte, limit int) ([][]byte, error) {
	db := ks.db(dbi)
	now := ks.NowMs()
	l := lockKeys(db, keys)
	sets, err := ks.readSetsLocked(db, keys, now)
	if err != nil {
		l.unlock()
		return nil, err
	}
	out := combine(op, sets, limit).members()
	l.unlock()
	ks.notifyMisses(dbi, keys, foundSets(sets))
	return out, nil
}

// SetCombineStore stores the result of op over keys in dst (deleting dst
// if it is empty) and returns its size.
func (ks *Keyspace) SetCombineStore(dbi int, op SetOp, dst []byte, keys [][]byte) (int, error) {
	db := ks.db(dbi)
	now := ks.NowMs()
	all := append([][]byte{dst}, keys...)
	l := lockKeys(db, all)
	sets, err := ks.readSetsLocked(db, keys, now)
	if err != nil {
		l.unlock()
		return 0, err
	}
	res := combine(op, sets, 0)
	ds := db.stripeFor(dst)
	de, dok := ks.getLocked(ds, dst, now, true)
	dk := string(dst)
	changed := true
	if res.empty() {
		changed = dok // an empty result only deletes dst: no change if it was absent
		if dok {
			ds.deleteLocked(dk, de)
		}
	} else {
		ds.putLocked(dk, de, dok, setEntry(res, 0))
	}
	n := res.len() // res is published: other writers may change it once unlocked
	l.unlock()
	if changed {
		ks.modified(dbi, dk)
	}
	ks.notifyMisses(dbi, keys, foundSets(sets))
	switch {
	case n > 0:
		if !dok {
			ks.notifyNew(dbi, dst)
		}
		ks.notify(dbi, EventSet, storeEvents[op], dst)
	case dok:
		ks.notify(dbi, EventGeneric, evDel, dst)
	}
	return n, nil
}

// SScan returns members of key's set matching pattern. Sets are small
// (session indexes), so the whole set is returned in one step with cursor 0.
func (ks *Keyspace) SScan(dbi int, key []byte, pattern []byte) ([][]byte, error) {
	var out [][]byte
	all := isMatchAll(pattern)
	err := ks.viewSet(dbi, key, func(s *set) {
		s.each(func(m []byte) bool {
			if all || Match(pattern, m) {
				out = append(out, bytes.Clone(m))
			}
			return true
		})
	})
	return out, err
}

var storeEvents = [...]string{SetInter: "sinterstore", SetUnion: "sunionstore", SetDiff: "sdiffstore"}

// notifyMisses reports "keymiss" for the absent keys among the sources of a
// set operation (Redis reads them with lookupKeyRead).
func (ks *Keyspace) notifyMisses(dbi int, keys [][]byte, found []bool) {
	for i, ok := range found {
		if !ok {
			ks.notifyMiss(dbi, keys[i])
		}
	}
}

// foundSets says which of sets exist, for notifyMisses.
func foundSets(sets []*set) []bool {
	found := make([]bool, len(sets))
	for i, s := range sets {
		found[i] = s != nil
	}
	return found
}
