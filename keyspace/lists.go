package keyspace

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
)

// ErrIndexOutOfRange is returned by LSet for an index past either end.
var ErrIndexOutOfRange = errors.New("keyspace: index out of range")

// ErrSourceWrongType is LMove's ErrWrongType (it matches it with
// errors.Is) when the source is not a list, rather than the destination:
// a blocked BLMOVE then blocks on, where a wrong destination fails it.
var ErrSourceWrongType = fmt.Errorf("%w (source)", ErrWrongType)

// object is a value kept as an object and modified in place under the
// write lock: a sorted set or a list.
type object interface {
	comparable
	len() int
}

// updateObject runs fn on key's live value of kind kind (the zero T if
// absent) under the write lock, get reading it out of an entry and wrap
// making a new entry of it. fn returns the value to store and whether it
// changed it; an empty value deletes the key. A change reports "new" if
// it created the key, then event (of class), then "del" if it emptied the
// value.
func updateObject[T object](ks *Keyspace, dbi int, key []byte, kind Kind, class EventClass, event string,
	get func(entry) T, wrap func(T) entry, fn func(T) (T, bool, error)) error {
	db := ks.db(dbi)
	s := db.stripeFor(key)
	now := ks.NowMs()
	s.mu.Lock()
	e, ok := ks.getLocked(s, key, now, true)
	if ok && e.kind() != kind {
		s.mu.Unlock()
		return ErrWrongType
	}
	v, changed, err := fn(get(e))
	if !changed {
		s.mu.Unlock()
		return err
	}
	k := string(key)
	// Both read v under the lock: once it is published, other writers
	// may change it.
	deleted := v.len() == 0 && ok
	created := !ok && v.len() > 0
	switch {
	case deleted:
		s.deleteLocked(k, e)
	case created:
		s.putLocked(k, e, false, wrap(v))
	default:
		s.resizedLocked(k, e) // changed in place
	}
	s.mu.Unlock()
	ks.modified(dbi, k)
	if created {
		ks.notifyNew(dbi, key)
	}
	ks.notify(dbi, class, event, key)
	if deleted {
		ks.notify(dbi, EventGeneric, evDel, key)
	}
	return err
}

// viewObject runs fn on key's live value of kind kind (the zero T if
// absent) under the read lock.
func viewObject[T object](ks *Keyspace, dbi int, key []byte, kind Kind, get func(entry) T, fn func(T)) error {
	db := ks.db(dbi)
	s := db.stripeFor(key)
	now := ks.NowMs()
	s.mu.RLock()
	e, ok := ks.getLocked(s, key, now, false)
	if ok && e.kind() != kind {
		s.mu.RUnlock()
		return ErrWrongType
	}
	fn(get(e))
	s.mu.RUnlock()
	if !ok {
		ks.notifyMiss(dbi, key)
	}
	return nil
}

func (ks *Keyspace) updateList(dbi int, key []byte, event string, fn func(l *list) (*list, bool, error)) error {
	return updateObject(ks, dbi, key, KindList, EventList, event, entry.listPtr,
		func(l *list) entry { return listEntry(l, 0) }, fn)
}

func (ks *Keyspace) viewList(dbi int, key []byte, fn func(l *list)) error {
	return viewObject(ks, dbi, key, KindList, entry.listPtr, fn)
}

func pushEvent(front bool) string {
	if front {
		return "lpush"
	}
	return "rpush"
}

func popListEvent(front bool) string {
	if front {
		return "lpop"
	}
	return "rpop"
}

// LPush pushes vals onto the front (or back) of key's list, one after the
// other, as LPUSH and RPUSH do, creating the list unless onlyIfExists
// (LPUSHX, RPUSHX: then a missing key stays missing). It returns the
// list's new length, 0 for a missing key with onlyIfExists.
func (ks *Keyspace) LPush(dbi int, key []byte, front, onlyIfExists bool, vals [][]byte) (int, error) {
	n := 0
	err := ks.updateList(dbi, key, pushEvent(front), func(l *list) (*list, bool, error) {
		if l == nil {
			if onlyIfExists {
				return nil, false, nil
			}
			l = &list{}
		}
		l.push(vals, front)
		n = l.len()
		return l, true, nil
	})
	return n, err
}

// LPop removes up to count elements from the front (or back) of key's
// list and returns them in the order they came off; exists reports
// whether the key held a list. A count of 0 removes nothing. The elements
// share the list's bytes (never modified) and must not be modified.
func (ks *Keyspace) LPop(dbi int, key []byte, front bool, count int) (vals [][]byte, exists bool, err error) {
	err = ks.updateList(dbi, key, popListEvent(front), func(l *list) (*list, bool, error) {
		if l == nil || count <= 0 {
			exists = l != nil
			return l, false, nil
		}
		exists = true
		vals = l.pop(front, count)
		return l, true, nil
	})
	return vals, exists, err
}

// LLen is the length of key's list, 0 if absent.
func (ks *Keyspace) LLen(dbi int, key []byte) (int, error) {
	n := 0
	err := ks.viewList(dbi, key, func(l *list) { n = l.len() })
	return n, err
}

// LIndex is the element at index i of key's list (negative counts from
// the back); ok is false if there is none. As in Redis the key is looked
// up before i is parsed (ErrNotInteger): a missing key has no element
// whatever i is.
func (ks *Keyspace) LIndex(dbi int, key, i []byte) (v []byte, ok bool, err error) {
	var perr error
	err = ks.viewList(dbi, key, func(l *list) {
		if l == nil {
			return
		}
		j, in, e := l.at(i)
		if in {
			v, ok = l.index(j), true
		}
		perr = e
	})
	return v, ok, cmp.Or(err, perr)
}

// at parses index i (negative from the back) and returns it as an offset
// from the front, if it is in the list.
func (l *list) at(i []byte) (int, bool, error) {
	n, valid := ParseInt(i)
	if !valid {
		return 0, false, ErrNotInteger
	}
	if n < 0 {
		n += int64(l.len())
	}
	return int(n), n >= 0 && n < int64(l.len()), nil
}

// LSet replaces the element at index i of key's list: ErrNoSuchKey if the
// key is absent, then ErrNotInteger if i is not an integer,
// ErrIndexOutOfRange if it is past either end, in Redis's order.
func (ks *Keyspace) LSet(dbi int, key, i, v []byte) error {
	return ks.updateList(dbi, key, "lset", func(l *list) (*list, bool, error) {
		if l == nil {
			return nil, false, ErrNoSuchKey
		}
		j, in, err := l.at(i)
		if err != nil || !in {
			return l, false, cmp.Or(err, ErrIndexOutOfRange)
		}
		l.set(j, v)
		return l, true, nil
	})
}

// span turns LRANGE's and LTRIM's start and stop (inclusive, negative
// from the back) into the range from..to-1 they select, as Redis does:
// empty if start is past stop or the end.
func (l *list) span(start, stop int64) (from, to int) {
	n := int64(l.len())
	if start < 0 {
		start += n
	}
	if stop < 0 {
		stop += n
	}
	start = max(start, 0)
	if start > stop || start >= n {
		return 0, 0
	}
	return int(start), int(min(stop, n-1)) + 1
}

// LRange is the elements of key's list from start to stop, inclusive, as
// LRANGE selects them. They share the list's bytes (never modified).
func (ks *Keyspace) LRange(dbi int, key []byte, start, stop int64) ([][]byte, error) {
	var out [][]byte
	err := ks.viewList(dbi, key, func(l *list) {
		if l != nil {
			out = l.elements(l.span(start, stop))
		}
	})
	return out, err
}

// LTrim keeps the elements of key's list from start to stop, inclusive,
// as LTRIM does; the list goes if none is left.
func (ks *Keyspace) LTrim(dbi int, key []byte, start, stop int64) error {
	return ks.updateList(dbi, key, "ltrim", func(l *list) (*list, bool, error) {
		if l == nil {
			return nil, false, nil
		}
		l.trim(l.span(start, stop))
		return l, true, nil // Redis reports ltrim even when nothing went
	})
}

// LRem removes elements equal to v from key's list as LREM does: count
// of them from the front, -count from the back, all for 0. It returns how
// many it removed.
func (ks *Keyspace) LRem(dbi int, key []byte, count int64, v []byte) (int, error) {
	removed := 0
	err := ks.updateList(dbi, key, "lrem", func(l *list) (*list, bool, error) {
		if l == nil {
			return nil, false, nil
		}
		removed = l.remove(v, count)
		return l, removed > 0, nil
	})
	return removed, err
}

// LInsert inserts v before (or after) the first element equal to pivot
// and returns the new length: -1 if there is no such element, 0 if the
// key is absent.
func (ks *Keyspace) LInsert(dbi int, key []byte, after bool, pivot, v []byte) (int, error) {
	n := 0
	err := ks.updateList(dbi, key, "linsert", func(l *list) (*list, bool, error) {
		if l == nil {
			return nil, false, nil
		}
		if !l.insert(pivot, v, after) {
			n = -1
			return l, false, nil
		}
		n = l.len()
		return l, true, nil
	})
	return n, err
}

// LPosArgs are LPOS's options: Rank (never 0; negative searches from the
// back), Count (0: all matches) and MaxLen (0: no limit).
type LPosArgs struct {
	Rank, Count, MaxLen int64
}

// LPos returns the indices (from the front) of the elements equal to v in
// key's list as LPOS finds them: skipping |Rank|-1 matches, at most Count
// of them, comparing at most MaxLen elements. exists reports whether the
// key held a list.
func (ks *Keyspace) LPos(dbi int, key, v []byte, a LPosArgs) (idx []int, exists bool, err error) {
	err = ks.viewList(dbi, key, func(l *list) {
		if l == nil {
			return
		}
		exists = true
		rank, rev := a.Rank, a.Rank < 0
		if rev {
			rank = -rank // Redis's long: -LONG_MIN stays negative, and every match counts
		}
		n, seen, matches := l.len(), int64(0), int64(0)
		l.each(0, n, rev, func(e []byte) bool {
			if a.MaxLen != 0 && seen >= a.MaxLen {
				return false
			}
			pos := int(seen)
			if rev {
				pos = n - 1 - pos
			}
			seen++
			if !bytes.Equal(e, v) {
				return true
			}
			if matches++; matches >= rank {
				idx = append(idx, pos)
				// With a rank of LONG_MIN Redis's count test overflows
				// and never stops it.
				return a.Count == 0 || rank < 0 || int64(len(idx)) < a.Count
			}
			return true
		})
	})
	return idx, exists, err
}

// LMove pops an element from the front (or back) of src's list and pushes
// it onto the front (or back) of dst's, as LMOVE does, and returns it; ok
// is false if src is absent. As in Redis, a missing src is not an error
// whatever dst holds.
func (ks *Keyspace) LMove(dbi int, src, dst []byte, fromFront, toFront bool) (v []byte, ok bool, err error) {
	db := ks.db(dbi)
	now := ks.NowMs()
	lk := lockKeys(db, [][]byte{src, dst})
	ss, ds := db.stripeFor(src), db.stripeFor(dst)
	se, sok := ks.getLocked(ss, src, now, true)
	if !sok {
		lk.unlock()
		return nil, false, nil
	}
	if se.kind() != KindList {
		lk.unlock()
		return nil, false, ErrSourceWrongType
	}
	de, dok := ks.getLocked(ds, dst, now, true)
	if dok && de.kind() != KindList {
		lk.unlock()
		return nil, false, ErrWrongType
	}
	v = se.listPtr().pop(fromFront, 1)[0]
	if !dok {
		de = listEntry(&list{}, 0)
		ds.putLocked(string(dst), entry{}, false, de)
		de = ds.m[string(dst)] // with its slot
	}
	de.listPtr().push([][]byte{v}, toFront)
	srcGone := se.listPtr().len() == 0
	if srcGone {
		ss.deleteLocked(string(src), se)
	} else {
		ss.resizedLocked(string(src), se)
	}
	ds.resizedLocked(string(dst), de)
	lk.unlock()
	ks.modified(dbi, string(dst))
	ks.modified(dbi, string(src))
	if !dok {
		ks.notifyNew(dbi, dst)
	}
	ks.notify(dbi, EventList, pushEvent(toFront), dst)
	ks.notify(dbi, EventList, popListEvent(fromFront), src)
	if srcGone {
		ks.notify(dbi, EventGeneric, evDel, src)
	}
	return v, true, nil
}

// LMPop pops up to count elements from the first of keys that exists, as
// LMPOP does (ErrWrongType if that is not a list), and returns that key
// and the elements; no key if none exists.
func (ks *Keyspace) LMPop(dbi int, keys [][]byte, front bool, count int) ([]byte, [][]byte, error) {
	return mpop(ks, dbi, keys, KindList, EventList, popListEvent(front), count, entry.listPtr,
		func(l *list) [][]byte { return l.pop(front, count) })
}

// mpop pops with pop from the first of keys that exists (LMPOP, ZMPOP and
// the blocking pops): ErrWrongType if that is not of kind kind; no key if none
// exists or count is not positive. It holds every key's stripe, so it sees
// the keys at one moment, as a Redis command does, and reports event (of
// class), then "del" if it emptied the key.
func mpop[T object, R any](ks *Keyspace, dbi int, keys [][]byte, kind Kind, class EventClass, event string, count int,
	get func(entry) T, pop func(T) R) ([]byte, R, error) {
	var out R
	if count <= 0 {
		return nil, out, nil
	}
	db := ks.db(dbi)
	now := ks.NowMs()
	lk := lockKeys(db, keys)
	var key []byte
	var e entry
	for _, kk := range keys {
		var ok bool
		if e, ok = ks.getLocked(db.stripeFor(kk), kk, now, true); ok {
			key = kk
			break
		}
	}
	switch {
	case key == nil:
		lk.unlock()
		return nil, out, nil
	case e.kind() != kind:
		lk.unlock()
		return nil, out, ErrWrongType
	}
	v, s, k := get(e), db.stripeFor(key), string(key)
	out = pop(v)
	deleted := v.len() == 0
	if deleted {
		s.deleteLocked(k, e)
	} else {
		s.resizedLocked(k, e)
	}
	lk.unlock()
	ks.modified(dbi, k)
	ks.notify(dbi, class, event, key)
	if deleted {
		ks.notify(dbi, EventGeneric, evDel, key)
	}
	return key, out, nil
}

// StoreList replaces dst, whatever it held, with a list of vals (copied)
// and no deadline, or deletes dst if vals is empty, as SORT ... STORE does.
// It reports "new" if it created dst, then event (class l), or "del" if
// it deleted dst; nothing if there was nothing to delete.
func (ks *Keyspace) StoreList(dbi int, dst []byte, vals [][]byte, event string) {
	var l *list
	if len(vals) > 0 {
		l = newListOf(vals) // before the lock: packing copies every element
	}
	db := ks.db(dbi)
	s := db.stripeFor(dst)
	now := ks.NowMs()
	k := string(dst)
	s.mu.Lock()
	e, ok := ks.getLocked(s, dst, now, true)
	switch {
	case l != nil:
		s.putLocked(k, e, ok, listEntry(l, 0))
	case ok:
		s.deleteLocked(k, e)
	}
	s.mu.Unlock()
	switch {
	case l != nil && !ok:
		ks.modified(dbi, k) // a new list: it wakes a client blocked on it
		ks.notifyNew(dbi, dst)
		ks.notify(dbi, EventList, event, dst)
	case l != nil:
		// Redis 7.0 overwrites with dbOverwrite, which wakes no one: a
		// client blocked on a key that since got another type stays
		// blocked until the next push.
		ks.dirty.Add(1)
		ks.watch.touch(dbi, k)
		ks.notify(dbi, EventList, event, dst)
	case ok:
		ks.dirty.Add(1) // a deletion serves no blocked client
		ks.watch.touch(dbi, k)
		ks.notify(dbi, EventGeneric, evDel, dst)
	}
}
