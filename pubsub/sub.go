package pubsub

import (
	"net"
	"strconv"
	"sync"
	"time"
)

const (
	// writeChunk bounds one socket write, so that the unwritten count
	// (and a waiting connection goroutine) advances on a slow socket.
	writeChunk = 64 << 10
	// ownBacklog is how many unwritten bytes the connection's own replies
	// may leave before its goroutine waits for the writer.
	ownBacklog = 256 << 10
	// keepSpare is the largest drained buffer kept for reuse.
	keepSpare = 1 << 20
)

// Sub is one subscribed connection: its subscriptions and its outbound
// queue. Methods other than Write, Close and CloseWhenDrained take the hub
// lock; all are safe for concurrent use.
type Sub struct {
	hub  *Hub
	conn net.Conn

	// Guarded by hub.mu (written with it held for writing).
	names [3]map[string]struct{}

	mu         sync.Mutex
	progress   sync.Cond // broadcast when the writer wrote or the Sub closed
	buf        []byte    // queued, not yet taken by the writer
	spare      []byte
	inflight   int // taken by the writer, not yet written
	resp3      bool
	softSince  time.Time // when the backlog went over the soft limit (zero: under it)
	closed     bool      // the connection is gone or over its limit: drop everything
	closeAfter bool      // close the connection once the queue is written (QUIT)

	wake chan struct{}
	done chan struct{}
}

// NewSub makes conn's outbound queue, starting with pending (replies
// already produced for it, which are copied), and starts its writer. From
// now on only the Sub writes to conn.
func (h *Hub) NewSub(conn net.Conn, resp3 bool, pending []byte) *Sub {
	s := &Sub{hub: h, conn: conn, resp3: resp3, wake: make(chan struct{}, 1), done: make(chan struct{})}
	for i := range s.names {
		s.names[i] = map[string]struct{}{}
	}
	s.progress.L = &s.mu
	s.buf = append(s.buf, pending...)
	go s.writer()
	if len(s.buf) > 0 {
		s.signal()
	}
	return s
}

// SetRESP3 changes the protocol messages are encoded in (HELLO).
func (s *Sub) SetRESP3(on bool) {
	s.mu.Lock()
	s.resp3 = on
	s.mu.Unlock()
}

// Count returns the number of subscriptions of kind.
func (s *Sub) Count(kind Kind) int {
	s.hub.mu.RLock()
	defer s.hub.mu.RUnlock()
	return len(s.names[kind])
}

// Subscribed reports whether s has any subscription (RESP2's subscriber mode).
func (s *Sub) Subscribed() bool {
	s.hub.mu.RLock()
	defer s.hub.mu.RUnlock()
	return s.totalLocked() > 0
}

func (s *Sub) totalLocked() int {
	return len(s.names[Channel]) + len(s.names[Pattern]) + len(s.names[Shard])
}

// countFor is the count a (un)subscribe confirmation reports: channels
// plus patterns, or shard channels alone (pubsub.c subscriptionCount).
func (s *Sub) countFor(kind Kind) int {
	if kind == Shard {
		return len(s.names[Shard])
	}
	return len(s.names[Channel]) + len(s.names[Pattern])
}

var confirmWords = [3][2]string{
	Channel: {"subscribe", "unsubscribe"},
	Pattern: {"psubscribe", "punsubscribe"},
	Shard:   {"ssubscribe", "sunsubscribe"},
}

// Subscribe adds names of kind and queues one confirmation per name, as
// Redis does (a name given twice is confirmed twice, counted once).
func (s *Sub) Subscribe(kind Kind, names [][]byte) {
	h := s.hub
	h.mu.Lock()
	before := s.totalLocked()
	s.mu.Lock()
	for _, n := range names {
		if _, ok := s.names[kind][string(n)]; !ok {
			k := string(n)
			s.names[kind][k] = struct{}{}
			set := h.reg[kind][k]
			if set == nil {
				set = subSet{}
				h.reg[kind][k] = set
			}
			set[s] = struct{}{}
			h.nsubs.Add(1)
		}
		s.buf = s.confirm(s.buf, confirmWords[kind][0], n, false, s.countFor(kind))
	}
	s.mu.Unlock()
	if before == 0 && s.totalLocked() > 0 {
		h.clients.Add(1)
	}
	h.mu.Unlock()
	s.signal()
}

// Unsubscribe removes names of kind (all of them if names is empty) and
// queues one confirmation per name; with nothing to remove it queues one
// with a null name. quiet removes without confirmations (RESET).
func (s *Sub) Unsubscribe(kind Kind, names [][]byte, quiet bool) {
	h := s.hub
	h.mu.Lock()
	before := s.totalLocked()
	s.mu.Lock()
	if len(names) == 0 {
		for k := range s.names[kind] {
			names = append(names, []byte(k))
		}
		if len(names) == 0 && !quiet {
			s.buf = s.confirm(s.buf, confirmWords[kind][1], nil, true, s.countFor(kind))
		}
	}
	for _, n := range names {
		s.removeLocked(kind, string(n))
		if !quiet {
			s.buf = s.confirm(s.buf, confirmWords[kind][1], n, false, s.countFor(kind))
		}
	}
	s.mu.Unlock()
	if before > 0 && s.totalLocked() == 0 {
		h.clients.Add(-1)
	}
	h.mu.Unlock()
	s.signal()
}

// removeLocked drops one subscription. h.mu must be held for writing.
func (s *Sub) removeLocked(kind Kind, k string) {
	if _, ok := s.names[kind][k]; !ok {
		return
	}
	h := s.hub
	delete(s.names[kind], k)
	set := h.reg[kind][k]
	delete(set, s)
	if len(set) == 0 {
		delete(h.reg[kind], k) // no empty entries: PUBSUB CHANNELS lists live ones
	}
	h.nsubs.Add(-1)
}

// Close removes every subscription and stops the writer; queued bytes are
// dropped. Call it when the connection has closed.
func (s *Sub) Close() {
	h := s.hub
	h.mu.Lock()
	if s.totalLocked() > 0 {
		h.clients.Add(-1)
	}
	for kind := range s.names {
		for k := range s.names[kind] {
			s.removeLocked(Kind(kind), k)
		}
	}
	h.mu.Unlock()
	s.mu.Lock()
	s.shutLocked()
	s.mu.Unlock()
}

// shutLocked marks s closed and wakes everyone. s.mu must be held.
func (s *Sub) shutLocked() {
	if s.closed {
		return
	}
	s.closed = true
	s.buf, s.spare = nil, nil
	close(s.done)
	s.progress.Broadcast()
}

// CloseWhenDrained closes the connection once everything queued so far is
// written (QUIT, CLIENT KILL of itself).
func (s *Sub) CloseWhenDrained() {
	s.mu.Lock()
	s.closeAfter = true
	s.mu.Unlock()
	s.signal()
}

// Write queues the connection's own replies (resp flushes its reply writer
// into it). It waits while the backlog is large, as a socket write would.
func (s *Sub) Write(p []byte) (int, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return 0, net.ErrClosed
	}
	s.buf = append(s.buf, p...)
	s.mu.Unlock()
	s.signal()
	s.mu.Lock()
	for !s.closed && len(s.buf)+s.inflight > ownBacklog {
		s.progress.Wait()
	}
	s.mu.Unlock()
	return len(p), nil
}

// Push queues a message that is not one of the connection's replies (an
// invalidation another client's command caused: package resp's client
// tracking). Unlike Write it never waits for the connection to read: its
// caller may hold locks others need. A subscribed connection is subject
// to the output limits, as a delivered message is; others are not (Redis
// applies the normal class, unlimited by default). It reports false if s
// is closed.
func (s *Sub) Push(msg []byte) bool {
	h := s.hub
	h.mu.RLock()
	subscribed := s.totalLocked() > 0
	s.mu.Lock()
	h.mu.RUnlock()
	if s.closed {
		s.mu.Unlock()
		return false
	}
	s.buf = append(s.buf, msg...)
	over := subscribed && s.overLimitLocked()
	if over {
		s.shutLocked()
	}
	s.mu.Unlock()
	if over {
		h.dropped.Add(1)
		s.conn.Close()
		return true
	}
	s.signal()
	return true
}

func (s *Sub) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// deliver queues a message (pattern is nil for a channel message) and
// enforces the output limits. It reports false if s is closed (dropped for
// its limit, its connection not yet cleaned up). Called with h.mu held for
// reading.
func (s *Sub) deliver(kind Kind, pattern, channel, msg []byte) bool {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return false
	}
	n := 3
	if pattern != nil {
		n = 4
	}
	s.buf = s.header(s.buf, n)
	switch {
	case pattern != nil:
		s.buf = appendBulk(s.buf, "pmessage")
		s.buf = appendBulkBytes(s.buf, pattern)
	case kind == Shard:
		s.buf = appendBulk(s.buf, "smessage")
	default:
		s.buf = appendBulk(s.buf, "message")
	}
	s.buf = appendBulkBytes(s.buf, channel)
	s.buf = appendBulkBytes(s.buf, msg)
	over := s.overLimitLocked()
	if over {
		s.shutLocked()
	}
	s.mu.Unlock()
	if over {
		s.hub.dropped.Add(1)
		s.conn.Close() // the connection's read loop fails and cleans up
		return true
	}
	s.signal()
	return true
}

// overLimitLocked applies client-output-buffer-limit pubsub to the backlog.
func (s *Sub) overLimitLocked() bool {
	l := s.hub.limits.Load()
	used := int64(len(s.buf) + s.inflight)
	if l.Hard > 0 && used >= l.Hard {
		return true
	}
	if l.Soft > 0 && used >= l.Soft {
		now := s.hub.now()
		if s.softSince.IsZero() {
			s.softSince = now
			return false
		}
		return now.Sub(s.softSince) > l.SoftFor
	}
	s.softSince = time.Time{}
	return false
}

// Backlog returns the bytes queued or being written (CLIENT LIST omem).
func (s *Sub) Backlog() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.buf) + s.inflight
}

// writer is the only goroutine that writes to the connection once the Sub
// exists.
func (s *Sub) writer() {
	for {
		select {
		case <-s.wake:
		case <-s.done:
			return
		}
		for {
			s.mu.Lock()
			if s.closed {
				s.mu.Unlock()
				return
			}
			if len(s.buf) == 0 {
				closeNow := s.closeAfter
				if closeNow {
					s.shutLocked()
				}
				s.mu.Unlock()
				if closeNow {
					s.conn.Close()
					return
				}
				break
			}
			out := s.buf
			s.buf, s.spare = s.spare[:0], nil
			s.inflight = len(out)
			s.mu.Unlock()
			for len(out) > 0 {
				n := min(len(out), writeChunk)
				_, err := s.conn.Write(out[:n])
				out = out[n:]
				s.mu.Lock()
				s.inflight -= n
				if err != nil {
					s.shutLocked()
				}
				s.progress.Broadcast()
				closed := s.closed
				s.mu.Unlock()
				if err != nil {
					s.conn.Close()
					return
				}
				if closed {
					return
				}
			}
			s.mu.Lock()
			if !s.closed && cap(out) <= keepSpare {
				s.spare = out[:0]
			}
			s.mu.Unlock()
		}
	}
}

func (s *Sub) header(b []byte, n int) []byte {
	if s.resp3 {
		b = append(b, '>')
	} else {
		b = append(b, '*')
	}
	b = strconv.AppendInt(b, int64(n), 10)
	return append(b, '\r', '\n')
}

// confirm appends a (un)subscribe confirmation; null sends a null name
// (unsubscribing with no subscriptions).
func (s *Sub) confirm(b []byte, word string, name []byte, null bool, count int) []byte {
	b = s.header(b, 3)
	b = appendBulk(b, word)
	switch {
	case !null:
		b = appendBulkBytes(b, name)
	case s.resp3:
		b = append(b, "_\r\n"...)
	default:
		b = append(b, "$-1\r\n"...)
	}
	b = append(b, ':')
	b = strconv.AppendInt(b, int64(count), 10)
	return append(b, '\r', '\n')
}

func appendBulk(b []byte, s string) []byte {
	b = append(b, '$')
	b = strconv.AppendInt(b, int64(len(s)), 10)
	b = append(b, '\r', '\n')
	b = append(b, s...)
	return append(b, '\r', '\n')
}

func appendBulkBytes(b, s []byte) []byte {
	b = append(b, '$')
	b = strconv.AppendInt(b, int64(len(s)), 10)
	b = append(b, '\r', '\n')
	b = append(b, s...)
	return append(b, '\r', '\n')
}
