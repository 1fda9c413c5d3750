package keyspace

import (
	"math/rand/v2"
)

// updateSet runs fn on key's live set (nil if absent) under the write lock.
// fn returns the set to store; an empty or nil set deletes the key, since no
// set is ever stored empty.
func (ks *Keyspace) updateSet(dbi int, key []byte, fn func(set map[string]struct{}) (map[string]struct{}, bool)) error {
	db := ks.db(dbi)
	s := db.stripeFor(key)
	now := ks.NowMs()
	s.mu.Lock()
	e, ok := ks.getLocked(s, key, now, true)
	if ok && e.kind != KindSet {
		s.mu.Unlock()
		return ErrWrongType
	}
	set, changed := fn(e.set)
	if !changed {
		s.mu.Unlock()
		return nil
	}
	k := string(key)
	switch {
	case len(set) == 0 && ok:
		s.deleteLocked(k, e)
	case len(set) > 0 && !ok:
		s.putLocked(k, e, false, entry{kind: KindSet, set: set})
	}
	s.mu.Unlock()
	ks.modified(dbi, k)
	return nil
}

// SAdd adds members to key's set and returns how many were new.
func (ks *Keyspace) SAdd(dbi int, key []byte, members [][]byte) (int, error) {
	n := 0
	err := ks.updateSet(dbi, key, func(set map[string]struct{}) (map[string]struct{}, bool) {
		if set == nil {
			set = make(map[string]struct{}, len(members))
		}
		for _, m := range members {
			if _, ok := set[string(m)]; !ok {
				set[string(m)] = struct{}{}
				n++
			}
		}
		return set, n > 0
	})
	return n, err
}

// SRem removes members from key's set and returns how many were there.
func (ks *Keyspace) SRem(dbi int, key []byte, members [][]byte) (int, error) {
	n := 0
	err := ks.updateSet(dbi, key, func(set map[string]struct{}) (map[string]struct{}, bool) {
		for _, m := range members {
			if _, ok := set[string(m)]; ok {
				delete(set, string(m))
				n++
			}
		}
		return set, n > 0
	})
	return n, err
}

// viewSet runs fn on key's live set (nil if absent) under the read lock.
func (ks *Keyspace) viewSet(dbi int, key []byte, fn func(set map[string]struct{})) error {
	db := ks.db(dbi)
	s := db.stripeFor(key)
	now := ks.NowMs()
	s.mu.RLock()
	defer s.mu.RUnlock()
	e, ok := ks.getLocked(s, key, now, false)
	if ok && e.kind != KindSet {
		return ErrWrongType
	}
	fn(e.set)
	return nil
}

func members(set map[string]struct{}) [][]byte {
	out := make([][]byte, 0, len(set))
	for m := range set {
		out = append(out, []byte(m))
	}
	return out
}

// SMembers returns the members of key's set.
func (ks *Keyspace) SMembers(dbi int, key []byte) ([][]byte, error) {
	var out [][]byte
	err := ks.viewSet(dbi, key, func(set map[string]struct{}) { out = members(set) })
	return out, err
}

// SIsMember reports whether each of ms is a member of key's set.
func (ks *Keyspace) SIsMember(dbi int, key []byte, ms [][]byte) ([]bool, error) {
	out := make([]bool, len(ms))
	err := ks.viewSet(dbi, key, func(set map[string]struct{}) {
		for i, m := range ms {
			_, out[i] = set[string(m)]
		}
	})
	return out, err
}

// SCard returns the size of key's set.
func (ks *Keyspace) SCard(dbi int, key []byte) (int, error) {
	n := 0
	err := ks.viewSet(dbi, key, func(set map[string]struct{}) { n = len(set) })
	return n, err
}

// SPop removes and returns up to count random members of key's set.
func (ks *Keyspace) SPop(dbi int, key []byte, count int) ([][]byte, error) {
	var out [][]byte
	err := ks.updateSet(dbi, key, func(set map[string]struct{}) (map[string]struct{}, bool) {
		for m := range set { // map iteration order is random
			if len(out) == count {
				break
			}
			out = append(out, []byte(m))
			delete(set, m)
		}
		return set, len(out) > 0
	})
	return out, err
}

// SRandMember returns random members of key's set: up to count distinct
// ones if count >= 0, or exactly -count possibly repeated ones.
func (ks *Keyspace) SRandMember(dbi int, key []byte, count int64) ([][]byte, error) {
	var out [][]byte
	err := ks.viewSet(dbi, key, func(set map[string]struct{}) {
		if len(set) == 0 {
			return
		}
		if count >= 0 {
			for m := range set {
				if int64(len(out)) == count {
					break
				}
				out = append(out, []byte(m))
			}
			rand.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
			return
		}
		all := members(set)
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
	if se.kind != KindSet || (dok && de.kind != KindSet) {
		l.unlock()
		return false, ErrWrongType
	}
	m := string(member)
	if _, ok := se.set[m]; !ok {
		l.unlock()
		return false, nil
	}
	if string(src) == string(dst) {
		l.unlock()
		return true, nil
	}
	delete(se.set, m)
	if len(se.set) == 0 {
		ss.deleteLocked(string(src), se)
	}
	if !dok {
		de = entry{kind: KindSet, set: make(map[string]struct{}, 1)}
		ds.putLocked(string(dst), entry{}, false, de)
	}
	_, had := de.set[m]
	de.set[m] = struct{}{}
	l.unlock()
	ks.modified(dbi, string(src))
	if !had { // as in Redis, dst changed only if the member was new there
		ks.modified(dbi, string(dst))
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
func (ks *Keyspace) readSetsLocked(db *DB, keys [][]byte, now int64) ([]map[string]struct{}, error) {
	sets := make([]map[string]struct{}, len(keys))
	for i, k := range keys {
		e, ok := ks.getLocked(db.stripeFor(k), k, now, true)
		if ok && e.kind != KindSet {
			return nil, ErrWrongType
		}
		sets[i] = e.set
	}
	return sets, nil
}

func combine(op SetOp, sets []map[string]struct{}, limit int) map[string]struct{} {
	out := make(map[string]struct{})
	switch op {
	case SetUnion:
		for _, s := range sets {
			for m := range s {
				out[m] = struct{}{}
			}
		}
	case SetDiff:
		if len(sets) == 0 {
			return out
		}
	next:
		for m := range sets[0] {
			for _, s := range sets[1:] {
				if _, ok := s[m]; ok {
					continue next
				}
			}
			out[m] = struct{}{}
		}
	case SetInter:
		smallest := 0
		for i, s := range sets {
			if len(s) == 0 {
				return out
			}
			if len(s) < len(sets[smallest]) {
				smallest = i
			}
		}
	inter:
		for m := range sets[smallest] {
			for _, s := range sets {
				if _, ok := s[m]; !ok {
					continue inter
				}
			}
			out[m] = struct{}{}
			if limit > 0 && len(out) >= limit {
				break
			}
		}
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
	out := members(combine(op, sets, limit))
	l.unlock()
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
	if len(res) == 0 {
		changed = dok // an empty result only deletes dst: no change if it was absent
		if dok {
			ds.deleteLocked(dk, de)
		}
	} else {
		ds.putLocked(dk, de, dok, entry{kind: KindSet, set: res})
	}
	n := len(res) // res is published: other writers may change it once unlocked
	l.unlock()
	if changed {
		ks.modified(dbi, dk)
	}
	return n, nil
}

// SScan returns members of key's set matching pattern. Sets are small
// (session indexes), so the whole set is returned in one step with cursor 0.
func (ks *Keyspace) SScan(dbi int, key []byte, pattern []byte) ([][]byte, error) {
	var out [][]byte
	all := isMatchAll(pattern)
	err := ks.viewSet(dbi, key, func(set map[string]struct{}) {
		for m := range set {
			if all || Match(pattern, []byte(m)) {
				out = append(out, []byte(m))
			}
		}
	})
	return out, err
}
