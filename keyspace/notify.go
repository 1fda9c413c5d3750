package keyspace

// EventClass is the class of a keyspace event, one bit per letter of
// Redis's notify-keyspace-events: g generic, $ string, l list, s set, h
// hash, z sorted set, x expired, e evicted, t stream, n new key, m key
// miss.
type EventClass uint16

// The event classes. They match Redis's NOTIFY_* flags by meaning, not by
// value: the flag letters are parsed in one place (the notifier).
const (
	EventGeneric EventClass = 1 << iota // g: DEL, EXPIRE, RENAME, ...
	EventString                         // $
	EventList                           // l
	EventSet                            // s
	EventHash                           // h
	EventZSet                           // z
	EventExpired                        // x
	EventEvicted                        // e
	EventStream                         // t
	EventKeyMiss                        // m
	EventNew                            // n
)

// Notifier receives keyspace events, as Redis's notifyKeyspaceEvent does.
// Notify is called after the change is visible (normally after the stripe
// lock is released; lazy expiry reports "expired" with it held, see
// events.go), from the goroutine that made the change. It must not
// block and must not call back into the keyspace. key is only valid for
// the duration of the call.
type Notifier interface {
	Notify(db int, class EventClass, event string, key []byte)
}

// SetNotifier installs n (nil removes it). Safe to call at any time.
func (ks *Keyspace) SetNotifier(n Notifier) {
	if n == nil {
		ks.notifier.Store(nil)
		return
	}
	ks.notifier.Store(&n)
}

// notify reports one event to the notifier, if any. Without a notifier it
// costs one atomic load.
func (ks *Keyspace) notify(db int, class EventClass, event string, key []byte) {
	if n := ks.notifier.Load(); n != nil {
		(*n).Notify(db, class, event, key)
	}
}
