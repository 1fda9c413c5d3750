package keyspace

import (
	"bytes"
	"math"
	"strconv"
)

// written is called after a write to key released its stripe lock. It
// dirties watchers and tells the scheduler about the new deadline, unless
// the deadline only moved later: the wheel already holds an entry at or
// before the old deadline, and when that entry fires early it is re-filed
// at the key's real deadline. So a session whose TTL is refreshed on every
// request keeps one wheel entry, not one per refresh. old is the key's
// previous deadline (0 if it had none or did not exist).
func (ks *Keyspace) written(dbi int, key string, old, deadline int64) {
	if deadline != 0 && (old == 0 || deadline < old) {
		ks.schedule(dbi, key, deadline)
	}
	ks.modified(dbi, key)
}

// Get returns key's string value. The slice is shared and must not be
// modified. ok is false if the key is absent or expired.
func (ks *Keyspace) Get(dbi int, key []byte) (val []byte, ok bool, err error) {
	db := ks.db(dbi)
	s := db.stripeFor(key)
	now := ks.NowMs()
	s.mu.RLock()
	e, ok := ks.getLocked(s, key, now, false)
	s.mu.RUnlock()
	ks.hit(ok)
	if !ok {
		ks.notifyMiss(dbi, key)
		return nil, false, nil
	}
	if e.kind() != KindString {
		return nil, false, ErrWrongType
	}
	return e.bytes(), true, nil
}

// SetArgs are the options of SET.
type SetArgs struct {
	NX, XX   bool  // only if absent / only if present
	Get      bool  // return the old value (it must be a string)
	KeepTTL  bool  // keep the current deadline
	Deadline int64 // absolute Unix ms; 0 means no expiry (unless KeepTTL)
	// Now is the command's time in Unix ms (see NowMsAt), by which an
	// existing key counts as expired or not; 0 reads the clock.
	Now int64
}

// SetResult is what SET did.
type SetResult struct {
	Old    []byte // the previous string value, if Get and it existed
	HadOld bool
	Done   bool // false if NX/XX prevented the write
}

// Set stores val under key with SET's semantics. val is copied.
func (ks *Keyspace) Set(dbi int, key, val []byte, a SetArgs) (SetResult, error) {
	db := ks.db(dbi)
	s := db.stripeFor(key)
	now := a.Now
	if now == 0 {
		now = ks.NowMs()
	}
	var r SetResult
	s.mu.Lock()
	e, ok := ks.getLocked(s, key, now, true)
	if a.Get && ok {
		if e.kind() != KindString {
			s.mu.Unlock()
			return r, ErrWrongType
		}
		r.Old, r.HadOld = e.bytes(), true
	}
	if (a.NX && ok) || (a.XX && !ok) {
		s.mu.Unlock()
		if a.Get && !ok {
			ks.notifyMiss(dbi, key)
		}
		return r, nil
	}
	deadline := a.Deadline
	if a.KeepTTL && ok {
		deadline = e.deadline
	}
	k := string(key)
	s.putLocked(k, e, ok, bytesEntry(KindString, bytes.Clone(val), deadline))
	s.mu.Unlock()
	r.Done = true
	old := int64(0)
	if ok {
		old = e.deadline
	}
	ks.written(dbi, k, old, deadline)
	if a.Get && !ok {
		ks.notifyMiss(dbi, key) // SET GET reads first (getGenericCommand)
	}
	if !ok {
		ks.notifyNew(dbi, key)
	}
	ks.notify(dbi, EventString, "set", key)
	if a.Deadline != 0 && !a.KeepTTL {
		ks.notify(dbi, EventGeneric, evExpire, key)
	}
	return r, nil
}

// GetExArgs are the options of GETEX.
type GetExArgs struct {
	Persist  bool
	Deadline int64 // new absolute deadline; 0 leaves it unchanged
}

// GetEx returns key's value and changes its deadline as GETEX does. A
// deadline at or before now deletes the key (after returning its value).
func (ks *Keyspace) GetEx(dbi int, key []byte, a GetExArgs) (val []byte, ok bool, err error) {
	db := ks.db(dbi)
	s := db.stripeFor(key)
	now := ks.NowMs()
	s.mu.Lock()
	e, ok := ks.getLocked(s, key, now, true)
	ks.hit(ok)
	if !ok {
		s.mu.Unlock()
		ks.notifyMiss(dbi, key)
		return nil, false, nil
	}
	if e.kind() != KindString {
		s.mu.Unlock()
		return nil, false, ErrWrongType
	}
	k := string(key)
	changed := false
	event := ""
	switch {
	case a.Persist && e.deadline != 0:
		ne := e
		ne.deadline = 0
		s.putLocked(k, e, true, ne)
		changed, event = true, "persist"
	case a.Deadline != 0 && a.Deadline <= now:
		s.deleteLocked(k, e)
		changed, event = true, evDel
	case a.Deadline != 0:
		ne := e
		ne.deadline = a.Deadline
		s.putLocked(k, e, true, ne)
		changed, event = true, evExpire
	}
	s.mu.Unlock()
	if changed {
		d := a.Deadline
		if d <= now {
			d = 0
		}
		ks.written(dbi, k, e.deadline, d)
		ks.notify(dbi, EventGeneric, event, key)
	}
	return e.bytes(), true, nil
}

// GetDel returns key's string value and deletes it.
func (ks *Keyspace) GetDel(dbi int, key []byte) (val []byte, ok bool, err error) {
	db := ks.db(dbi)
	s := db.stripeFor(key)
	now := ks.NowMs()
	s.mu.Lock()
	e, ok := ks.getLocked(s, key, now, true)
	ks.hit(ok)
	if ok && e.kind() != KindString {
		s.mu.Unlock()
		return nil, false, ErrWrongType
	}
	if ok {
		s.deleteLocked(string(key), e)
	}
	s.mu.Unlock()
	if ok {
		ks.modified(dbi, string(key))
		ks.notify(dbi, EventGeneric, evDel, key)
	} else {
		ks.notifyMiss(dbi, key)
	}
	return e.bytes(), ok, nil
}

// update runs fn on key's live string value under the write lock and
// stores what it returns. fn sees ok=false for an absent key. If fn returns
// store=false nothing is written. A store reports event (class $), after
// "new" if it created the key.
func (ks *Keyspace) updateString(dbi int, key []byte, event string, fn func(cur []byte, ok bool) (next []byte, store bool, err error)) error {
	db := ks.db(dbi)
	s := db.stripeFor(key)
	now := ks.NowMs()
	s.mu.Lock()
	e, ok := ks.getLocked(s, key, now, true)
	if ok && e.kind() != KindString {
		s.mu.Unlock()
		return ErrWrongType
	}
	next, store, err := fn(e.bytes(), ok)
	if err != nil || !store {
		s.mu.Unlock()
		return err
	}
	k := string(key)
	s.putLocked(k, e, ok, bytesEntry(KindString, next, e.deadline))
	s.mu.Unlock()
	ks.modified(dbi, k)
	if !ok {
		ks.notifyNew(dbi, key)
	}
	ks.notify(dbi, EventString, event, key)
	return nil
}

// Append appends val to key's string (creating it) and returns the new length.
func (ks *Keyspace) Append(dbi int, key, val []byte) (int, error) {
	var n int
	err := ks.updateString(dbi, key, "append", func(cur []byte, ok bool) ([]byte, bool, error) {
		if len(cur)+len(val) > MaxStringLen {
			return nil, false, ErrTooLarge
		}
		next := make([]byte, len(cur)+len(val))
		copy(next, cur)
		copy(next[len(cur):], val)
		n = len(next)
		return next, true, nil
	})
	return n, err
}

// ParseInt parses a Redis integer: decimal, optional minus sign, no
// leading zeros or plus sign, no surrounding space, fits int64.
func ParseInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	if len(b) == 1 && b[0] == '0' {
		return 0, true
	}
	neg := b[0] == '-'
	d := b
	if neg {
		d = b[1:]
	}
	if len(d) == 0 || d[0] < '1' || d[0] > '9' {
		return 0, false
	}
	var v uint64
	for _, c := range d {
		if c < '0' || c > '9' {
			return 0, false
		}
		nv := v*10 + uint64(c-'0')
		if nv/10 != v {
			return 0, false
		}
		v = nv
	}
	if neg {
		if v > 1<<63 {
			return 0, false
		}
		return -int64(v), true
	}
	if v > math.MaxInt64 {
		return 0, false
	}
	return int64(v), true
}

// IncrBy adds delta to key's integer value (0 if absent) and returns the result.
func (ks *Keyspace) IncrBy(dbi int, key []byte, delta int64) (int64, error) {
	var n int64
	err := ks.updateString(dbi, key, "incrby", func(cur []byte, ok bool) ([]byte, bool, error) { // INCR, DECR, DECRBY too, as in Redis
		var v int64
		if ok {
			var good bool
			if v, good = ParseInt(cur); !good {
				return nil, false, ErrNotInteger
			}
		}
		if (delta > 0 && v > math.MaxInt64-delta) || (delta < 0 && v < math.MinInt64-delta) {
			return nil, false, ErrOverflow
		}
		n = v + delta
		return strconv.AppendInt(nil, n, 10), true, nil
	})
	return n, err
}

// IncrByFloat adds incr, a number as text, to key's numeric value and
// returns the new value as stored. As in Redis the key's type and value are
// checked before incr (ErrWrongType, then ErrNotFloat for either), and the
// arithmetic and format are those of an x86-64 long double (longdouble.go).
func (ks *Keyspace) IncrByFloat(dbi int, key []byte, incr []byte) ([]byte, error) {
	var out []byte
	err := ks.updateString(dbi, key, "incrbyfloat", func(cur []byte, ok bool) ([]byte, bool, error) {
		var err error
		out, err = incrByLongDouble(cur, ok, incr)
		return out, err == nil, err
	})
	return out, err
}

// Strlen returns the length of key's string value (0 if absent).
func (ks *Keyspace) Strlen(dbi int, key []byte) (int, error) {
	v, _, err := ks.Get(dbi, key)
	return len(v), err
}

// GetRange returns the substring of key's value between start and end
// inclusive, with negative offsets counting from the end, as GETRANGE does.
func (ks *Keyspace) GetRange(dbi int, key []byte, start, end int64) ([]byte, error) {
	v, _, err := ks.Get(dbi, key)
	if err != nil {
		return nil, err
	}
	n := int64(len(v))
	if start < 0 && end < 0 && start > end {
		return nil, nil
	}
	if start < 0 {
		start += n
	}
	if end < 0 {
		end += n
	}
	if start < 0 {
		start = 0
	}
	if end < 0 {
		end = 0
	}
	if end >= n {
		end = n - 1
	}
	if n == 0 || start > end {
		return nil, nil
	}
	return v[start : end+1], nil
}

// SetRange overwrites key's value from offset with val, zero-padding, and
// returns the new length.
func (ks *Keyspace) SetRange(dbi int, key []byte, offset int64, val []byte) (int, error) {
	var n int
	err := ks.updateString(dbi, key, "setrange", func(cur []byte, ok bool) ([]byte, bool, error) {
		if len(val) == 0 {
			n = len(cur)
			return nil, false, nil
		}
		if offset > MaxStringLen-int64(len(val)) { // no overflow for huge offsets
			return nil, false, ErrTooLarge
		}
		size := max(int64(len(cur)), offset+int64(len(val)))
		next := make([]byte, size)
		copy(next, cur)
		copy(next[offset:], val)
		n = len(next)
		return next, true, nil
	})
	return n, err
}

// MGet returns the string values of keys; absent keys and keys of another
// kind are nil.
func (ks *Keyspace) MGet(dbi int, keys [][]byte) [][]byte {
	out := make([][]byte, len(keys))
	for i, k := range keys {
		v, ok, err := ks.Get(dbi, k)
		if ok && err == nil {
			if v == nil {
				v = []byte{} // an empty string, not a miss
			}
			out[i] = v
		}
	}
	return out
}

// MSet stores pairs (key, value, key, value...) atomically. With nx, it
// stores nothing and returns false if any key exists.
func (ks *Keyspace) MSet(dbi int, pairs [][]byte, nx bool) bool {
	db := ks.db(dbi)
	keys := make([][]byte, 0, len(pairs)/2)
	for i := 0; i < len(pairs); i += 2 {
		keys = append(keys, pairs[i])
	}
	now := ks.NowMs()
	l := lockKeys(db, keys)
	if nx {
		for _, k := range keys {
			if _, ok := ks.getLocked(db.stripeFor(k), k, now, true); ok {
				l.unlock()
				return false
			}
		}
	}
	created := make([]bool, len(keys))
	for i := 0; i < len(pairs); i += 2 {
		s := db.stripeFor(pairs[i])
		e, ok := ks.getLocked(s, pairs[i], now, true)
		created[i/2] = !ok // a key given twice exists the second time
		s.putLocked(string(pairs[i]), e, ok, bytesEntry(KindString, bytes.Clone(pairs[i+1]), 0))
	}
	l.unlock()
	ks.modifiedKeys(dbi, keys)
	for i, k := range keys {
		if created[i] {
			ks.notifyNew(dbi, k)
		}
		ks.notify(dbi, EventString, "set", k)
	}
	return true
}
