package keyspace

// Keyspace events (notify.go) are reported with Redis's names and classes
// (t_string.c, t_set.c, db.c, expire.c), in Redis's order, by the
// operation that causes them, after its stripe locks are released. The
// one exception is lazy expiry: a writer that finds an expired key deletes
// it under the stripe lock and reports "expired" there (expiredLocked), so
// that it precedes the writer's own events as in Redis. That is safe
// because a Notifier takes no keyspace lock and does not block.

// Event names shared by several operations.
const (
	evNew     = "new"
	evDel     = "del"
	evExpire  = "expire"
	evExpired = "expired"
	evKeyMiss = "keymiss"
)

// notifyNew reports a key created by a write ("new", class n).
func (ks *Keyspace) notifyNew(dbi int, key []byte) { ks.notify(dbi, EventNew, evNew, key) }

// notifyMiss reports a read of an absent key ("keymiss", class m).
func (ks *Keyspace) notifyMiss(dbi int, key []byte) { ks.notify(dbi, EventKeyMiss, evKeyMiss, key) }

// expiredLocked reports the lazy deletion of key from stripe s, with s
// locked. The stripe knows its DB but not that DB's number (SWAPDB
// moves databases), so the number is found by address.
func (ks *Keyspace) expiredLocked(s *stripe, key []byte) {
	if ks.notifier.Load() == nil {
		return
	}
	for i := range ks.dbs {
		if ks.dbs[i].Load() == s.db {
			ks.notify(i, EventExpired, evExpired, key)
			return
		}
	}
}
