package keyspace

import (
	"bytes"

	"sessiond/hll"
)

// HyperLogLog commands. An HLL is a string value in Redis's format
// (package hll); these are read-modify-writes of such strings. Stored
// strings are never modified, so each change stores a new value.

// PFAdd adds elems to the HLL at key, creating it, and reports whether
// PFADD answers 1 (a register changed or the key was created).
// sparseMax is hll-sparse-max-bytes.
func (ks *Keyspace) PFAdd(dbi int, key []byte, elems [][]byte, sparseMax int) (bool, error) {
	db := ks.db(dbi)
	s := db.stripeFor(key)
	now := ks.NowMs()
	s.mu.Lock()
	e, ok := ks.getLocked(s, key, now, true) // lookupKeyWrite: no hit or miss counted
	if ok && e.kind() != KindString {
		s.mu.Unlock()
		return false, ErrWrongType
	}
	var cur []byte
	if ok {
		if cur = e.bytes(); !hll.IsHLL(cur) {
			s.mu.Unlock()
			return false, ErrNotHLL
		}
	} else {
		cur = hll.New()
	}
	out, changed, err := hll.Add(cur, elems, sparseMax)
	if err != nil {
		// Redis edits the value in place and keeps what it did before the
		// damage stopped it, without announcing the change.
		if ok && !bytes.Equal(out, cur) {
			s.putLocked(string(key), e, true, bytesEntry(KindString, out, e.deadline))
		}
		s.mu.Unlock()
		return false, ErrHLLCorrupt
	}
	updated := changed
	if !ok {
		updated++
	}
	if updated == 0 {
		s.mu.Unlock()
		return false, nil
	}
	hll.InvalidateCache(out) // out is private: a new value, or the new HLL
	k := string(key)         // not before: adding elements already counted stores nothing
	s.putLocked(k, e, ok, bytesEntry(KindString, out, e.deadline))
	s.mu.Unlock()
	ks.modified(dbi, k)
	ks.dirty.Add(int64(updated - 1)) // Redis counts one change per update
	if !ok {
		ks.notifyNew(dbi, key)
	}
	ks.notify(dbi, EventString, "pfadd", key)
	return true, nil
}

// PFCount is PFCOUNT. For one key it returns the cached cardinality, or
// computes it and writes it into the value (wrote: a change Redis counts
// and announces to WATCH and client tracking, without a keyspace event).
// For several keys it counts their union without changing anything.
func (ks *Keyspace) PFCount(dbi int, keys [][]byte) (n int64, wrote bool, err error) {
	if len(keys) > 1 {
		n, err = ks.pfCountUnion(dbi, keys)
		return n, false, err
	}
	key := keys[0]
	db := ks.db(dbi)
	s := db.stripeFor(key)
	now := ks.NowMs()
	s.mu.Lock()
	e, ok := ks.getLocked(s, key, now, true)
	ks.hit(ok)
	if !ok {
		s.mu.Unlock()
		ks.notifyMiss(dbi, key)
		return 0, false, nil
	}
	v := e.bytes()
	switch {
	case e.kind() != KindString:
		err = ErrWrongType
	case !hll.IsHLL(v):
		err = ErrNotHLL
	}
	if err != nil {
		s.mu.Unlock()
		return 0, false, err
	}
	if c, ok := hll.Cached(v); ok {
		s.mu.Unlock()
		return int64(c), false, nil
	}
	c, valid := hll.Count(v)
	if !valid {
		s.mu.Unlock()
		return 0, false, ErrHLLCorrupt
	}
	k := string(key)
	s.putLocked(k, e, true, bytesEntry(KindString, hll.WithCache(v, c), e.deadline))
	s.mu.Unlock()
	ks.modified(dbi, k)
	return int64(c), true, nil
}

// readHLLsLocked merges the HLLs at keys into r, as Redis reads PFCOUNT's
// and PFMERGE's sources (lookupKeyRead, in order, stopping at the first
// error). It returns which keys were absent, up to the error, and whether
// any source was dense. The stripes must be locked.
func (ks *Keyspace) readHLLsLocked(db *DB, keys [][]byte, now int64, r *hll.Regs) (missing []int, dense bool, err error) {
	for i, k := range keys {
		e, ok := ks.getLocked(db.stripeFor(k), k, now, true)
		ks.hit(ok)
		if !ok {
			missing = append(missing, i)
			continue
		}
		v := e.bytes()
		switch {
		case e.kind() != KindString:
			return missing, dense, ErrWrongType
		case !hll.IsHLL(v):
			return missing, dense, ErrNotHLL
		}
		dense = dense || hll.IsDense(v)
		if !r.Merge(v) {
			return missing, dense, ErrHLLCorrupt
		}
	}
	return missing, dense, nil
}

func (ks *Keyspace) pfCountUnion(dbi int, keys [][]byte) (int64, error) {
	db := ks.db(dbi)
	now := ks.NowMs()
	r := new(hll.Regs)
	l := lockKeys(db, keys)
	missing, _, err := ks.readHLLsLocked(db, keys, now, r)
	l.unlock()
	for _, i := range missing {
		ks.notifyMiss(dbi, keys[i])
	}
	if err != nil {
		return 0, err
	}
	return int64(r.Count()), nil
}

// PFMerge merges the HLLs at srcs and dst into dst, creating it, as
// PFMERGE does: dst becomes dense if any of them is, and otherwise stays
// sparse while it fits in sparseMax bytes.
func (ks *Keyspace) PFMerge(dbi int, dst []byte, srcs [][]byte, sparseMax int) error {
	db := ks.db(dbi)
	now := ks.NowMs()
	all := append([][]byte{dst}, srcs...) // Redis reads dst as a source too
	r := new(hll.Regs)
	l := lockKeys(db, all)
	missing, dense, err := ks.readHLLsLocked(db, all, now, r)
	var out []byte
	ds := db.stripeFor(dst)
	de, dok := ks.getLocked(ds, dst, now, true)
	if err == nil {
		var cur []byte
		if dok {
			cur = de.bytes()
		} else {
			cur = hll.New()
		}
		if out, err = hll.Merged(cur, r, dense, sparseMax); err != nil {
			err = ErrHLLCorrupt
		}
	}
	dk := string(dst)
	if err == nil {
		ds.putLocked(dk, de, dok, bytesEntry(KindString, out, de.deadline))
	}
	l.unlock()
	for _, i := range missing {
		ks.notifyMiss(dbi, all[i])
	}
	if err != nil {
		return err
	}
	ks.modified(dbi, dk)
	if !dok {
		ks.notifyNew(dbi, dst)
	}
	ks.notify(dbi, EventString, "pfadd", dst) // Redis's event for PFMERGE too
	return nil
}
