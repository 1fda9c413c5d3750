package keyspace

import (
	"sync"
	"sync/atomic"
)

// Watch is one connection's set of WATCHed keys. It becomes dirty when any
// of them is modified, deleted or expired, or its database is flushed or
// swapped. EXEC aborts a dirty transaction.
type Watch struct {
	dirty atomic.Bool
	keys  []watchKey
	live  []bool // keys[i] was live (present, not expired) when watched
}

// Dirty reports whether a watched key was written since it was watched.
// EXEC uses Keyspace.WatchDirty, which also sees keys that expired.
func (w *Watch) Dirty() bool { return w.dirty.Load() }

// WatchDirty reports whether EXEC must abort: a watched key was written,
// or a key that was live when watched has expired since (deleted lazily or
// not yet deleted at all), as Redis's isWatchedKeyExpired and the deletion
// of an expired key decide. A key already expired when watched does not
// count.
func (ks *Keyspace) WatchDirty(w *Watch) bool {
	if w.dirty.Load() {
		return true
	}
	now := ks.NowMs()
	for i, k := range w.keys {
		if w.live[i] && !ks.db(k.db).live(k.key, now) {
			return true
		}
	}
	return false
}

// Len is the number of keys watched.
func (w *Watch) Len() int { return len(w.keys) }

type watchKey struct {
	db  int
	key string
}

// watchRegistry maps watched keys to their watchers, as Redis's
// db->watched_keys does. Writers check n first so that the common case (no
// WATCH anywhere) costs one atomic load.
type watchRegistry struct {
	n    atomic.Int64 // registered (key, watcher) pairs
	mu   sync.Mutex
	keys map[watchKey]map[*Watch]struct{}
}

func (r *watchRegistry) init() { r.keys = make(map[watchKey]map[*Watch]struct{}) }

// WatchKey adds key in db to w.
func (ks *Keyspace) WatchKey(w *Watch, db int, key []byte) {
	r := &ks.watch
	k := watchKey{db, string(key)}
	r.mu.Lock()
	defer r.mu.Unlock()
	ws := r.keys[k]
	if ws == nil {
		ws = make(map[*Watch]struct{})
		r.keys[k] = ws
	}
	if _, ok := ws[w]; ok {
		return
	}
	ws[w] = struct{}{}
	w.keys = append(w.keys, k)
	// Registered first: a write from now on dirties w, whatever this reads.
	w.live = append(w.live, ks.db(db).live(k.key, ks.NowMs()))
	r.n.Add(1)
}

// Unwatch forgets all of w's keys and clears its dirty flag.
func (ks *Keyspace) Unwatch(w *Watch) {
	r := &ks.watch
	r.mu.Lock()
	for _, k := range w.keys {
		if ws := r.keys[k]; ws != nil {
			delete(ws, w)
			r.n.Add(-1)
			if len(ws) == 0 {
				delete(r.keys, k)
			}
		}
	}
	r.mu.Unlock()
	w.keys = w.keys[:0]
	w.live = w.live[:0]
	w.dirty.Store(false)
}

// touch marks the watchers of key dirty. It is called after the stripe lock
// is released, while the command still holds the executor's shared lock, so
// an EXEC cannot slip between a write and its touch.
func (r *watchRegistry) touch(db int, key string) {
	if r.n.Load() == 0 {
		return
	}
	r.mu.Lock()
	for w := range r.keys[watchKey{db, key}] {
		w.dirty.Store(true)
	}
	r.mu.Unlock()
}

func (r *watchRegistry) touchKeys(db int, keys [][]byte) {
	if r.n.Load() == 0 {
		return
	}
	for _, k := range keys {
		r.touch(db, string(k))
	}
}

// touchDB marks dirty the watchers of the keys in db for which exists
// reports true: as in Redis (touchAllWatchedKeysInDb), FLUSHDB and SWAPDB
// change only the keys that were there before or are there after.
func (r *watchRegistry) touchDB(db int, exists func(key string) bool) {
	if r.n.Load() == 0 {
		return
	}
	r.mu.Lock()
	for k, ws := range r.keys {
		if k.db == db && exists(k.key) {
			for w := range ws {
				w.dirty.Store(true)
			}
		}
	}
	r.mu.Unlock()
}

// modified records a write to key: it counts the change for the snapshot
// scheduler, dirties the key's watchers and wakes a client blocked on it
// (block.go: a write that creates a list or sorted set is one that may
// serve it). Call it after the stripe lock is released.
func (ks *Keyspace) modified(db int, key string) {
	ks.dirty.Add(1)
	ks.watch.touch(db, key)
	ks.blocked.wakeKey(db, key, true)
}

// expired is modified for a key the expiry wheel deleted. No command runs
// after the deletion to serve the clients it woke (the front end's
// serveBlocked), so they are not queued and serve themselves: a client
// blocked in XREADGROUP on a stream that expired gets its error at once,
// as in Redis, instead of waiting for some other client's next command.
func (ks *Keyspace) expired(db int, key string) {
	ks.dirty.Add(1)
	ks.watch.touch(db, key)
	ks.blocked.wakeKey(db, key, false)
}

func (ks *Keyspace) modifiedKeys(db int, keys [][]byte) {
	ks.dirty.Add(int64(len(keys)))
	ks.watch.touchKeys(db, keys)
	for _, k := range keys {
		ks.blocked.wakeKey(db, string(k), true)
	}
}

func (ks *Keyspace) modifiedDB(db int, exists func(key string) bool) {
	ks.dirty.Add(1)
	ks.watch.touchDB(db, exists)
	ks.blocked.wakeDB(db)
}

// Dirty returns the number of changes since the keyspace was created; the
// snapshot scheduler subtracts the value it saw at its last save.
func (ks *Keyspace) Dirty() int64 { return ks.dirty.Load() }

// AddDirty counts n changes that are not to keys (FUNCTION LOAD and
// DELETE), so that the snapshot scheduler saves them.
func (ks *Keyspace) AddDirty(n int64) { ks.dirty.Add(n) }
