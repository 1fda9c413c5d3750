package pubsub

import (
	"errors"

	"sessiond/keyspace"
)

// Events is the parsed value of notify-keyspace-events: keyspace.EventClass
// bits for the classes, plus the K and E channel selectors.
type Events uint32

// The flags beyond the event classes.
const (
	Keyspace Events = 1 << 16 // K: __keyspace@<db>__:<key> channels
	Keyevent Events = 1 << 17 // E: __keyevent@<db>__:<event> channels
	Module   Events = 1 << 18 // d: module events (none here; kept for the round trip)

	// All is A: every class but key-miss and new (Redis's NOTIFY_ALL).
	All = Events(keyspace.EventGeneric|keyspace.EventString|keyspace.EventList|keyspace.EventSet|
		keyspace.EventHash|keyspace.EventZSet|keyspace.EventExpired|keyspace.EventEvicted|
		keyspace.EventStream) | Module
)

// ErrEvents is CONFIG SET's message for a bad notify-keyspace-events.
var ErrEvents = errors.New("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.") //nolint:staticcheck // Redis's text

var eventLetters = []struct {
	c byte
	f Events
}{
	{'g', Events(keyspace.EventGeneric)}, {'$', Events(keyspace.EventString)}, {'l', Events(keyspace.EventList)},
	{'s', Events(keyspace.EventSet)}, {'h', Events(keyspace.EventHash)}, {'z', Events(keyspace.EventZSet)},
	{'x', Events(keyspace.EventExpired)}, {'e', Events(keyspace.EventEvicted)}, {'t', Events(keyspace.EventStream)},
	{'d', Module}, {'n', Events(keyspace.EventNew)},
}

// ParseEvents parses notify-keyspace-events letters as Redis does
// (notify.c keyspaceEventsStringToFlags).
func ParseEvents(s string) (Events, error) {
	var f Events
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case 'A':
			f |= All
		case 'K':
			f |= Keyspace
		case 'E':
			f |= Keyevent
		case 'm':
			f |= Events(keyspace.EventKeyMiss)
		default:
			found := false
			for _, l := range eventLetters {
				if l.c == c {
					f |= l.f
					found = true
				}
			}
			if !found {
				return 0, ErrEvents
			}
		}
	}
	return f, nil
}

// String is the canonical form CONFIG GET shows (keyspaceEventsFlagsToString):
// "A" or the class letters in Redis's order, then K, E and m. One
// difference: Redis prints "A" alone when n is also set, and so loses n
// when the value is read back and set again; sessiond prints "An", because
// the configuration keeps only the canonical string.
func (f Events) String() string {
	var b []byte
	if f&All == All {
		b = append(b, 'A')
		if f&Events(keyspace.EventNew) != 0 {
			b = append(b, 'n')
		}
	} else {
		for _, l := range eventLetters {
			if f&l.f != 0 {
				b = append(b, l.c)
			}
		}
	}
	if f&Keyspace != 0 {
		b = append(b, 'K')
	}
	if f&Keyevent != 0 {
		b = append(b, 'E')
	}
	if f&Events(keyspace.EventKeyMiss) != 0 {
		b = append(b, 'm')
	}
	return string(b)
}

// CanonicalEvents validates a notify-keyspace-events value and returns
// its canonical form.
func CanonicalEvents(s string) (string, error) {
	f, err := ParseEvents(s)
	if err != nil {
		return "", err
	}
	return f.String(), nil
}
