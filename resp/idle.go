package resp

import (
	"slices"
	"sync"
	"time"
)

// Idle clients ("timeout"). As Redis's clientsCron does, a sweep looks at
// every client's idle time and closes those idle for more than timeout
// seconds, whenever the timeout was set: raising it with CONFIG SET closes
// clients that were already idle, and lowering it or setting 0 takes
// effect at the next sweep. A client's idle time runs from its last
// command (client.lastCmd, which a read of part of a request also
// refreshes, as every read refreshes Redis's lastinteraction); a client
// marks itself busy while it runs commands and writes their replies
// (client.busy: two atomic operations per request, no timers, no locks).
// Every mode is served the same way: an event loop's connection stays on
// its loop (the sweep shuts its socket down and the loop reads the end of
// file), and goroutine and TLS connections set no read deadlines.
//
// Exempt, as in Redis (timeout.c, clientsCronHandleTimeout): MONITOR
// (detached), a client subscribed to anything (Redis's CLIENT_PUBSUB), and
// a busy client, which covers Redis's blocked clients (a command held by
// CLIENT PAUSE waits inside it) and its refreshing of lastinteraction when
// a reply is written. Unlike Redis, a client that stops reading its
// replies stays busy, so only the output limits close it.

// idleSweep runs the sweeps (idleSweeper).
type idleSweep struct {
	kick chan struct{} // the timeout changed
	stop chan struct{} // closed by Close
	once sync.Once
}

func (s *Server) initIdle() {
	s.sweep = idleSweep{kick: make(chan struct{}, 1), stop: make(chan struct{})}
}

func (s *Server) stopIdleSweep() { s.sweep.once.Do(func() { close(s.sweep.stop) }) }

// sweepPeriod: a tenth of the timeout, at most a second, so that a client
// is closed at most 10% (or a second) after its timeout, and 10,000
// clients cost a sweep of the map ten times a second at timeout 1.
func sweepPeriod(timeout time.Duration) time.Duration {
	return min(timeout/10, time.Second)
}

// idleSweeper sweeps while a timeout is set, and waits for one otherwise.
func (s *Server) idleSweeper() {
	t := time.NewTimer(time.Hour)
	t.Stop()
	defer t.Stop()
	for {
		var tick <-chan time.Time
		if d := time.Duration(s.idle.Load()); d > 0 {
			t.Reset(sweepPeriod(d))
			tick = t.C
		} else {
			t.Stop()
		}
		select {
		case <-s.sweep.stop:
			return
		case <-s.sweep.kick:
		case now := <-tick:
			s.sweepIdle(now)
		}
	}
}

// kickIdleSweep tells the sweeper that the timeout changed.
func (s *Server) kickIdleSweep() {
	select {
	case s.sweep.kick <- struct{}{}:
	default:
	}
}

// sweepIdle closes the clients idle for more than the timeout at now, and
// returns how many. A client's idle time runs from its last command's
// start, or from a sweep that found it busy (plus one period, so that a
// long command or a slow write is never counted as idle time).
func (s *Server) sweepIdle(now time.Time) int {
	timeout := time.Duration(s.idle.Load())
	if timeout <= 0 {
		return 0
	}
	nowMs, limit := now.UnixMilli(), timeout.Milliseconds()
	hold := nowMs + sweepPeriod(timeout).Milliseconds()
	var idle []*client
	s.mu.Lock()
	for _, c := range s.clients {
		if c.closing.Load() || c.detached.Load() {
			continue
		}
		if c.busy.Load() {
			c.idleFrom = hold
			continue
		}
		if nowMs-max(c.lastCmd.Load(), c.idleFrom) > limit {
			idle = append(idle, c)
		}
	}
	s.mu.Unlock()
	// Subscribers last, outside mu: the check takes the hub's lock.
	idle = slices.DeleteFunc(idle, (*client).pubsubFlag)
	if len(idle) > 0 {
		// Off the sweeper: a TLS close sends an alert, which a client that
		// does not read can hold for seconds.
		go func() {
			for _, c := range idle {
				s.log.Debug("closing idle client", "client", c.addr)
				s.kill(c, nil)
			}
		}()
	}
	return len(idle)
}

// waitInput marks the connection idle again: its commands have run and
// their replies are written, and it goes back to waiting for input.
func (c *loopConn) waitInput() {
	if cl, _ := c.ctx.(*client); cl != nil && cl.busy.Load() {
		cl.busy.Store(false)
	}
}

// arrived notes that part of a request was read, which Redis counts as
// interaction too (every read refreshes lastinteraction): a large request
// arriving slowly is not idle, one left half sent is. Requests that arrive
// whole do not come here; their command sets lastCmd.
func (c *frameConn) arrived() {
	if c.c != nil {
		c.c.lastCmd.Store(time.Now().UnixMilli())
	}
}
