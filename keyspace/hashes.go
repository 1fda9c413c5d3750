package keyspace

import (
	"math"
	"math/big"
	"math/rand/v2"
	"strconv"
)

// updateHash runs fn on key's live hash (an empty writer if absent) under
// the write lock and stores the result: an empty hash deletes the key, since
// no hash is stored empty. It reports whether the key was deleted. Events
// and watchers are handled by the caller's event, after the lock is
// released, and only if fn changed something.
func (ks *Keyspace) updateHash(dbi int, key []byte, event string, fn func(w *hashWriter) error) (deleted bool, err error) {
	db := ks.db(dbi)
	s := db.stripeFor(key)
	now := ks.NowMs()
	s.mu.Lock()
	e, ok := ks.getLocked(s, key, now, true)
	if ok && e.kind() != KindHash {
		s.mu.Unlock()
		return false, ErrWrongType
	}
	w := newHashWriter(hashOf(e))
	if err := fn(w); err != nil || !w.changed {
		s.mu.Unlock()
		return false, err
	}
	k := string(key)
	h := w.result()
	switch {
	case h.len() == 0:
		if ok {
			s.deleteLocked(k, e)
			deleted = true
		}
	default:
		s.putLocked(k, e, ok, hashEntry(h, e, e.deadline))
	}
	s.mu.Unlock()
	ks.modified(dbi, k)
	if !ok {
		ks.notifyNew(dbi, key) // Redis's dbAdd reports "new" before the command's event
	}
	ks.notify(dbi, EventHash, event, key)
	if deleted {
		ks.notify(dbi, EventGeneric, evDel, key)
	}
	return deleted, nil
}

// viewHash runs fn on key's live hash (empty if absent) under the read lock.
func (ks *Keyspace) viewHash(dbi int, key []byte, fn func(h hashRef)) error {
	db := ks.db(dbi)
	s := db.stripeFor(key)
	now := ks.NowMs()
	s.mu.RLock()
	e, ok := ks.getLocked(s, key, now, false)
	if ok && e.kind() != KindHash {
		s.mu.RUnlock()
		ks.hit(true)
		return ErrWrongType
	}
	fn(hashOf(e))
	s.mu.RUnlock()
	ks.hit(ok)
	if !ok {
		ks.notifyMiss(dbi, key)
	}
	return nil
}

// HSet sets field/value pairs (flat: f1, v1, f2, v2...) in key's hash,
// creating it, and returns how many fields were new.
func (ks *Keyspace) HSet(dbi int, key []byte, pairs [][]byte) (int, error) {
	n := 0
	_, err := ks.updateHash(dbi, key, "hset", func(w *hashWriter) error {
		for i := 0; i+1 < len(pairs); i += 2 {
			if w.set(pairs[i], pairs[i+1]) {
				n++
			}
		}
		return nil
	})
	return n, err
}

// HSetNX sets field only if it is absent and reports whether it did.
func (ks *Keyspace) HSetNX(dbi int, key, field, value []byte) (bool, error) {
	done := false
	_, err := ks.updateHash(dbi, key, "hset", func(w *hashWriter) error {
		if w.ref().has(field) {
			return nil
		}
		done = w.set(field, value)
		return nil
	})
	return done, err
}

// HDel removes fields from key's hash and returns how many were there.
func (ks *Keyspace) HDel(dbi int, key []byte, fields [][]byte) (int, error) {
	n := 0
	_, err := ks.updateHash(dbi, key, "hdel", func(w *hashWriter) error {
		for _, f := range fields {
			if w.del(f) {
				n++
			}
		}
		return nil
	})
	return n, err
}

// HGet returns field's value in key's hash. The slice must not be modified.
func (ks *Keyspace) HGet(dbi int, key, field []byte) (val []byte, ok bool, err error) {
	err = ks.viewHash(dbi, key, func(h hashRef) { val, ok = h.get(field) })
	return val, ok, err
}

// HMGet returns the values of fields in key's hash, nil for absent ones
// (an empty value is a non-nil empty slice).
func (ks *Keyspace) HMGet(dbi int, key []byte, fields [][]byte) ([][]byte, error) {
	out := make([][]byte, len(fields))
	err := ks.viewHash(dbi, key, func(h hashRef) {
		for i, f := range fields {
			if v, ok := h.get(f); ok {
				if v == nil {
					v = []byte{}
				}
				out[i] = v
			}
		}
	})
	return out, err
}

// HGetAll returns the pairs of key's hash, flat (f1, v1, f2, v2...), in
// insertion order for a small hash.
func (ks *Keyspace) HGetAll(dbi int, key []byte) ([][]byte, error) {
	var out [][]byte
	err := ks.viewHash(dbi, key, func(h hashRef) { out = h.pairs() })
	return out, err
}

// HLen returns the number of fields in key's hash.
func (ks *Keyspace) HLen(dbi int, key []byte) (int, error) {
	n := 0
	err := ks.viewHash(dbi, key, func(h hashRef) { n = h.len() })
	return n, err
}

// HExists reports whether field is in key's hash.
func (ks *Keyspace) HExists(dbi int, key, field []byte) (bool, error) {
	ok := false
	err := ks.viewHash(dbi, key, func(h hashRef) { ok = h.has(field) })
	return ok, err
}

// HStrlen returns the length of field's value in key's hash (0 if absent).
func (ks *Keyspace) HStrlen(dbi int, key, field []byte) (int, error) {
	n := 0
	err := ks.viewHash(dbi, key, func(h hashRef) { n = h.valueLen(field) })
	return n, err
}

// HIncrBy adds delta to field's integer value (0 if absent) and returns
// the result.
func (ks *Keyspace) HIncrBy(dbi int, key, field []byte, delta int64) (int64, error) {
	var n int64
	_, err := ks.updateHash(dbi, key, "hincrby", func(w *hashWriter) error {
		var v int64
		if cur, ok := w.ref().get(field); ok {
			var good bool
			if v, good = ParseInt(cur); !good {
				return ErrHashNotInteger
			}
		}
		if (delta < 0 && v < 0 && delta < math.MinInt64-v) || (delta > 0 && v > 0 && delta > math.MaxInt64-v) {
			return ErrOverflow
		}
		n = v + delta
		w.set(field, strconv.AppendInt(nil, n, 10))
		return nil
	})
	return n, err
}

// HIncrByFloat adds incr, a number as text, to field's numeric value and
// returns the new value as stored, with Redis's checks in Redis's order:
// the increment (ErrNotFloat, ErrIncrNaN), the key's type, the current
// value (ErrHashNotFloat), the sum (ErrNaN). The arithmetic and format are
// an x86-64 long double's (longdouble.go), as for INCRBYFLOAT.
func (ks *Keyspace) HIncrByFloat(dbi int, key, field, incr []byte) ([]byte, error) {
	d, ok := parseLongDouble(incr)
	if !ok {
		return nil, ErrNotFloat
	}
	if d.inf != 0 {
		return nil, ErrIncrNaN
	}
	var out []byte
	_, err := ks.updateHash(dbi, key, "hincrbyfloat", func(w *hashWriter) error {
		v := longDouble{r: new(big.Rat)}
		if cur, ok := w.ref().get(field); ok {
			if v, ok = parseLongDouble(cur); !ok {
				return ErrHashNotFloat
			}
		}
		if v.inf != 0 {
			return ErrNaN
		}
		sum, ok := roundLongDouble(new(big.Rat).Add(v.r, d.r))
		if !ok {
			return ErrNaN
		}
		out = []byte(formatLongDouble(sum))
		w.set(field, out)
		return nil
	})
	return out, err
}

// HRandField returns random pairs of key's hash (flat: f1, v1, ...; the
// values are included only if withValues). With count >= 0 they are up to
// count distinct fields: the whole hash in order if count reaches its size,
// as Redis does. With count < 0 they are exactly -count fields, possibly
// repeated.
func (ks *Keyspace) HRandField(dbi int, key []byte, count int64, withValues bool) ([][]byte, error) {
	var all [][]byte
	err := ks.viewHash(dbi, key, func(h hashRef) {
		if h.len() > 0 && count != 0 {
			all = h.pairs()
		}
	})
	if err != nil || len(all) == 0 {
		return nil, err
	}
	size := int64(len(all) / 2)
	var idx []int
	switch {
	case count < 0:
		idx = make([]int, 0, min(-count, 1<<20))
		for range -count {
			idx = append(idx, rand.IntN(int(size)))
		}
	case count >= size:
		if withValues {
			return all, nil
		}
		keys := make([][]byte, 0, size)
		for i := 0; i < len(all); i += 2 {
			keys = append(keys, all[i])
		}
		return keys, nil
	default:
		idx = rand.Perm(int(size))[:count]
	}
	out := make([][]byte, 0, len(idx)*2)
	for _, i := range idx {
		out = append(out, all[2*i])
		if withValues {
			out = append(out, all[2*i+1])
		}
	}
	return out, nil
}

// HScan returns the pairs of key's hash whose field matches pattern (flat).
// Hashes are small (sessions), so the whole hash is returned in one step
// with cursor 0, as Redis does for a listpack-encoded hash.
func (ks *Keyspace) HScan(dbi int, key []byte, pattern []byte) ([][]byte, error) {
	var out [][]byte
	all := isMatchAll(pattern)
	err := ks.viewHash(dbi, key, func(h hashRef) {
		h.each(func(f, v []byte) bool {
			if all || Match(pattern, f) {
				out = append(out, append([]byte{}, f...), append([]byte{}, v...))
			}
			return true
		})
	})
	return out, err
}
