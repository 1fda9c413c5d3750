package keyspace

import (
	"slices"
	"sync"
	"sync/atomic"
)

// Blocked is a client blocked on keys by BLPOP, BZPOPMIN and the like. It
// is woken (Ready) when one of its keys is written, and learns which ones
// (Fired), in the order they were written: as in Redis, it is served from
// the first of them that has something for it, and if none has, it blocks
// on.
//
// Clients blocked on a key are served first come, first served, as in
// Redis: a write to the key wakes only the first of them (of each kind),
// and a client that was served passes the wake-up for that key on to the
// next client (Unblock), as does one that goes away with wake-ups it did
// not look at.
// A client that woke and found nothing keeps its place, and nobody behind
// it is woken: what it found empty is empty for them too.
type Blocked struct {
	ready chan struct{}
	db    int
	kind  Kind // what it pops: KindList or KindZSet
	owner any
	keys  []string
	// Guarded by the registry's mu: the keys written since it last
	// looked; whether it is in the ready queue; whether it was unblocked.
	fired        []string
	queued, gone bool
}

// Ready is signalled when one of b's keys has been written.
func (b *Blocked) Ready() <-chan struct{} { return b.ready }

// Owner is what Block was given to find the client by (PeekReady).
func (b *Blocked) Owner() any { return b.owner }

// blockRegistry maps keys to the clients blocked on them, in the order
// they blocked. Writers check n first, so that with no blocked client a
// write costs one atomic load.
type blockRegistry struct {
	n    atomic.Int64 // blocked clients
	mu   sync.Mutex
	keys map[watchKey][]*Blocked
	// ready is the clients woken and not yet Served, in the order they
	// were woken; nready its length, for a check without mu.
	ready  []*Blocked
	nready atomic.Int64
}

// Block registers a client blocked on keys of db for a value of kind (a
// list or a sorted set: a write wakes the first client of each kind, so
// that BZPOPMIN is not kept waiting behind a BLPOP). The caller must then
// look at the keys once more before it waits on Ready (a write between
// its first look and Block would otherwise go unseen), and must call
// Unblock when it stops waiting.
func (ks *Keyspace) Block(db int, keys [][]byte, kind Kind, owner any) *Blocked {
	b := &Blocked{ready: make(chan struct{}, 1), db: db, kind: kind, owner: owner}
	r := &ks.blocked
	r.mu.Lock()
	if r.keys == nil {
		r.keys = make(map[watchKey][]*Blocked)
	}
	for _, k := range keys {
		wk := watchKey{db, string(k)}
		if slices.Contains(r.keys[wk], b) {
			continue // BLPOP k k: one place in the queue
		}
		b.keys = append(b.keys, wk.key)
		r.keys[wk] = append(r.keys[wk], b)
	}
	r.n.Add(1)
	r.mu.Unlock()
	return b
}

// Fired returns the keys of b written since the last call, in the order
// they were written, and forgets them.
func (ks *Keyspace) Fired(b *Blocked) [][]byte {
	r := &ks.blocked
	r.mu.Lock()
	fired := b.fired
	b.fired = nil
	r.mu.Unlock()
	out := make([][]byte, len(fired))
	for i, k := range fired {
		out[i] = []byte(k)
	}
	return out
}

// Unblock removes b and wakes the next client blocked on each key of pass
// (the key b was served from, which may hold more, and keys it was told
// of but did not look at) and of any key written since b last looked. A
// second call does nothing.
func (ks *Keyspace) Unblock(b *Blocked, pass [][]byte) {
	r := &ks.blocked
	r.mu.Lock()
	if b.gone {
		r.mu.Unlock()
		return
	}
	b.gone = true
	for _, k := range b.keys {
		wk := watchKey{b.db, k}
		q := slices.DeleteFunc(r.keys[wk], func(o *Blocked) bool { return o == b })
		if len(q) == 0 {
			delete(r.keys, wk)
		} else {
			r.keys[wk] = q
		}
	}
	for _, k := range pass {
		r.fireLocked(b.db, string(k), true)
	}
	for _, k := range b.fired {
		r.fireLocked(b.db, k, true)
	}
	r.n.Add(-1)
	r.mu.Unlock()
}

// BlockedClients is the number of blocked clients (INFO blocked_clients).
func (ks *Keyspace) BlockedClients() int { return int(ks.blocked.n.Load()) }

// fireLocked tells the first client of each kind blocked on key in db
// that key was written, and if queue is set puts it in the ready queue for
// the writer to serve (PeekReady). r.mu must be held.
func (r *blockRegistry) fireLocked(db int, key string, queue bool) {
	var lists, zsets bool
	for _, b := range r.keys[watchKey{db, key}] {
		switch {
		case b.kind == KindList && !lists:
			lists = true
		case b.kind == KindZSet && !zsets:
			zsets = true
		case b.kind == KindStream:
			// Redis serves every client blocked on a stream
			// (serveClientsBlockedOnStreamKey); one that finds nothing
			// new blocks on.
		default:
			continue
		}
		if !slices.Contains(b.fired, key) {
			b.fired = append(b.fired, key)
		}
		select {
		case b.ready <- struct{}{}:
		default: // already signalled
		}
		if queue && !b.queued {
			b.queued = true
			r.ready = append(r.ready, b)
			r.nready.Add(1)
		}
	}
}

// wakeKey tells the first client blocked on key in db, if any, that key
// was written; queue as for fireLocked.
func (r *blockRegistry) wakeKey(db int, key string, queue bool) {
	if r.n.Load() == 0 {
		return
	}
	r.mu.Lock()
	r.fireLocked(db, key, queue)
	r.mu.Unlock()
}

// wakeDB tells the first client blocked on each key of db that the key
// may have changed (FLUSHDB, SWAPDB).
func (r *blockRegistry) wakeDB(db int) {
	if r.n.Load() == 0 {
		return
	}
	r.mu.Lock()
	for k := range r.keys {
		if k.db == db {
			r.fireLocked(db, k.key, true)
		}
	}
	r.mu.Unlock()
}

// PeekReady returns the first client in the ready queue (woken by a
// write and not yet served), in the order they were woken, or nil. The
// front end calls it after each command that may have written, and
// serves those clients before the writer's next command, as Redis does
// (handleClientsBlockedOnKeys); each client is also woken (Ready), so it
// serves itself if nobody does. The client stays first in the queue until
// Served: a writer that finds it there waits for whoever is serving it,
// so no writer runs its next command before the clients its writes woke
// were served.
func (ks *Keyspace) PeekReady() *Blocked {
	r := &ks.blocked
	if r.nready.Load() == 0 {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for len(r.ready) > 0 {
		b := r.ready[0]
		if !b.gone {
			return b
		}
		r.ready[0] = nil
		r.ready = r.ready[1:]
		r.nready.Add(-1)
		b.queued = false
	}
	r.ready = nil // drop the array once drained
	return nil
}

// Queued reports whether b is in the ready queue: a writer will serve it
// before its next command (PeekReady), after reporting its own events.
func (ks *Keyspace) Queued(b *Blocked) bool {
	r := &ks.blocked
	r.mu.Lock()
	defer r.mu.Unlock()
	return b.queued
}

// Served takes b out of the ready queue.
func (ks *Keyspace) Served(b *Blocked) {
	r := &ks.blocked
	r.mu.Lock()
	defer r.mu.Unlock()
	if i := slices.Index(r.ready, b); i >= 0 {
		r.ready = slices.Delete(r.ready, i, i+1)
		r.nready.Add(-1)
		b.queued = false
	}
}

// Requeue puts b back at the end of the ready queue, unless it is gone or
// still queued: a client a busy script held off, to be served after it.
func (ks *Keyspace) Requeue(b *Blocked) {
	r := &ks.blocked
	r.mu.Lock()
	defer r.mu.Unlock()
	if !b.gone && !b.queued {
		b.queued = true
		r.ready = append(r.ready, b)
		r.nready.Add(1)
	}
}
