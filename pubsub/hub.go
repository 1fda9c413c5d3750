package pubsub

import (
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"sessiond/keyspace"
)

// Kind selects one of the three subscription namespaces.
type Kind uint8

// The subscription kinds.
const (
	Channel Kind = iota // SUBSCRIBE / PUBLISH
	Pattern             // PSUBSCRIBE
	Shard               // SSUBSCRIBE / SPUBLISH (one shard: a separate namespace)
)

// Limits is the pubsub class of client-output-buffer-limit. Zero disables
// a limit, as in Redis.
type Limits struct {
	Hard    int64
	Soft    int64
	SoftFor time.Duration
}

// DefaultLimits are Redis's: pubsub 32mb 8mb 60.
var DefaultLimits = Limits{Hard: 32 << 20, Soft: 8 << 20, SoftFor: 60 * time.Second}

type subSet map[*Sub]struct{}

// Hub is the registry of subscriptions. The zero value is not usable: call New.
type Hub struct {
	mu       sync.RWMutex
	reg      [3]map[string]subSet // by Kind
	nsubs    atomic.Int64         // subscriptions of every kind: zero skips all work
	events   atomic.Uint32        // notify-keyspace-events flags
	limits   atomic.Pointer[Limits]
	now      func() time.Time
	clients  atomic.Int64 // connections with at least one subscription
	dropped  atomic.Int64 // connections closed for their output limit
	messages atomic.Int64 // messages queued
}

// New returns an empty hub with Redis's default limits. now is the clock
// for the soft limit; nil means time.Now.
func New(now func() time.Time) *Hub {
	if now == nil {
		now = time.Now
	}
	h := &Hub{now: now}
	for i := range h.reg {
		h.reg[i] = map[string]subSet{}
	}
	l := DefaultLimits
	h.limits.Store(&l)
	return h
}

// SetLimits changes the output limits of every subscriber.
func (h *Hub) SetLimits(l Limits) { h.limits.Store(&l) }

// Stats are the hub's counters for INFO.
type Stats struct {
	Channels, Patterns, ShardChannels int   // distinct names with subscribers
	Clients                           int64 // connections with a subscription
	LimitDisconnections               int64 // subscribers closed for their output limit
}

// Stats returns the hub's counters.
func (h *Hub) Stats() Stats {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return Stats{
		Channels: len(h.reg[Channel]), Patterns: len(h.reg[Pattern]), ShardChannels: len(h.reg[Shard]),
		Clients: h.clients.Load(), LimitDisconnections: h.dropped.Load(),
	}
}

// Names returns the channels (Channel or Shard) with subscribers that match
// pattern (nil: all), for PUBSUB CHANNELS.
func (h *Hub) Names(kind Kind, pattern []byte) [][]byte {
	h.mu.RLock()
	defer h.mu.RUnlock()
	var out [][]byte
	for name := range h.reg[kind] {
		if pattern == nil || keyspace.Match(pattern, []byte(name)) {
			out = append(out, []byte(name))
		}
	}
	slices.SortFunc(out, func(a, b []byte) int { return compareBytes(a, b) })
	return out
}

func compareBytes(a, b []byte) int {
	switch {
	case string(a) < string(b):
		return -1
	case string(a) > string(b):
		return 1
	}
	return 0
}

// NumSub returns how many connections subscribe to name (PUBSUB NUMSUB).
func (h *Hub) NumSub(kind Kind, name []byte) int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.reg[kind][string(name)])
}

// NumPat returns the number of distinct patterns subscribed to (PUBSUB NUMPAT).
func (h *Hub) NumPat() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.reg[Pattern])
}

// Publish delivers msg on channel to its subscribers (and, unless kind is
// Shard, to matching pattern subscribers) and returns how many received
// it. It never blocks on a subscriber.
func (h *Hub) Publish(kind Kind, channel, msg []byte) int {
	if h.nsubs.Load() == 0 {
		return 0
	}
	n := 0
	h.mu.RLock()
	for s := range h.reg[kind][string(channel)] {
		if s.deliver(kind, nil, channel, msg) {
			n++
		}
	}
	if kind == Channel {
		for pat, subs := range h.reg[Pattern] {
			if !keyspace.Match([]byte(pat), channel) {
				continue
			}
			for s := range subs {
				if s.deliver(Pattern, []byte(pat), channel, msg) {
					n++
				}
			}
		}
	}
	h.mu.RUnlock()
	h.messages.Add(int64(n))
	return n
}

// Notify implements keyspace.Notifier: it publishes event on
// __keyspace@<db>__:<key> and key on __keyevent@<db>__:<event>, as
// configured by notify-keyspace-events.
func (h *Hub) Notify(db int, class keyspace.EventClass, event string, key []byte) {
	flags := Events(h.events.Load())
	if flags&Events(class) == 0 || flags&(Keyspace|Keyevent) == 0 || h.nsubs.Load() == 0 {
		return
	}
	var buf [160]byte
	prefix := len("__keyspace@")
	ch := append(buf[:0], "__keyspace@"...)
	ch = strconv.AppendInt(ch, int64(db), 10)
	ch = append(ch, "__:"...)
	head := len(ch)
	if flags&Keyspace != 0 {
		ch = append(ch, key...)
		h.Publish(Channel, ch, []byte(event))
	}
	if flags&Keyevent != 0 {
		ch = append(ch[:head], event...)
		copy(ch[2:prefix], "keyevent")
		h.Publish(Channel, ch, key)
	}
}

// SetEvents sets the notify-keyspace-events flags.
func (h *Hub) SetEvents(e Events) { h.events.Store(uint32(e)) }

var _ keyspace.Notifier = (*Hub)(nil)
