package resp

import (
	"bytes"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/tidwall/redcon"
)

// MONITOR
//
// A redcon.Conn may only be written by the goroutine serving it, but
// monitor lines come from every other connection's goroutine. So MONITOR
// detaches the connection from redcon (redcon.Conn.Detach) and serves it
// from two goroutines of its own:
//
//   - a writer that owns every write to the socket: it sends whatever is
//     pending in the monitor's buffer. Feeding a line only appends to that
//     buffer under the monitor's mutex, so a slow monitor never blocks the
//     commands it watches; past monitorMaxPending it is disconnected.
//   - a reader that keeps running the client's own commands (RESET leaves
//     monitor mode, QUIT closes), their replies going through the same
//     buffer, in order.
//
// When nobody monitors, the command path pays one atomic load.

// monitorMaxPending is how much output a monitor may have waiting before
// it is disconnected (Redis's limit for normal clients is unlimited; an
// unbounded buffer behind a stalled reader would take the server down).
var monitorMaxPending = 64 << 20 // a var for tests

type monitorConn struct {
	s    *Server
	c    *client
	dc   redcon.DetachedConn
	nc   net.Conn
	mu   sync.Mutex
	buf  []byte // pending output
	dead bool
	on   bool // receiving monitor lines (RESET turns it off)
	// closeAfter: close once the pending output is written (QUIT).
	closeAfter bool
	wake       chan struct{}
	done       chan struct{}
	once       sync.Once
}

// detachedConn stands in for the redcon.Conn of a detached client, so that
// commands closing their own connection (QUIT) flush their reply first.
type detachedConn struct {
	redcon.DetachedConn
	m *monitorConn
}

func (d detachedConn) Close() error {
	// The reply is not queued yet: readLoop closes once it is (closing).
	d.m.c.closing.Store(true)
	return nil
}

func monitorCommands() []*command {
	return []*command{
		{name: "monitor", arity: 1, flags: flagAdmin | flagNoScript | flagLoading | flagStale, group: "server", since: "1.0.0", summary: "Listen for all requests received by the server in real time", run: cmdMonitor},
	}
}

func cmdMonitor(x *call) {
	c := x.c
	if c.mon != nil {
		if !c.mon.on {
			c.mon.mu.Lock()
			c.mon.on = true
			c.mon.mu.Unlock()
			x.s.addMonitor(c.mon)
		}
		x.r.ok()
		return
	}
	var conn redcon.Conn
	switch w := x.r.w.(type) {
	case *outWriter: // the connection's own writer, counting output (conn.go)
		conn = w.Conn
	case redcon.Conn:
		conn = w
	}
	if conn == nil || conn != c.conn {
		// Inside EXEC (or any path that is not the connection's own): Redis
		// refuses for clients that expect one reply per command.
		x.r.error("ERR MONITOR isn't allowed for DENY BLOCKING client")
		return
	}
	x.r.ok()
	dc := conn.Detach()
	m := &monitorConn{s: x.s, c: c, dc: dc, nc: dc.NetConn(), on: true, wake: make(chan struct{}, 1), done: make(chan struct{})}
	c.mon = m
	c.conn = detachedConn{dc, m}
	c.detached.Store(true)
	// Registered before +OK is written, as Redis does: a client that reads
	// the reply and then sends commands on other connections sees them all.
	// Lines queue in m until writeLoop starts, after the flush.
	x.s.addMonitor(m)
	if err := dc.Flush(); err != nil { // +OK, and the replies pipelined before it
		m.close()
		return
	}
	start := func() {
		go m.writeLoop()
		go m.readLoop()
	}
	if lc, ok := conn.(*loopConn); ok {
		// The reading goroutine reuses c's reply and call records, which
		// this command is still using: it starts once the command is done.
		lc.afterDetach = start
	} else {
		start()
	}
}

func (s *Server) addMonitor(m *monitorConn) {
	s.monMu.Lock()
	if s.monSet == nil {
		s.monSet = map[*monitorConn]struct{}{}
	}
	if _, ok := s.monSet[m]; !ok {
		s.monSet[m] = struct{}{}
		s.monitors.Add(1)
	}
	s.monMu.Unlock()
}

func (s *Server) removeMonitor(m *monitorConn) {
	s.monMu.Lock()
	if _, ok := s.monSet[m]; ok {
		delete(s.monSet, m)
		s.monitors.Add(-1)
	}
	s.monMu.Unlock()
}

// stopMonitor takes c out of monitor mode (RESET).
func (s *Server) stopMonitor(c *client) {
	if c.mon == nil {
		return
	}
	s.removeMonitor(c.mon)
	c.mon.mu.Lock()
	c.mon.on = false
	c.mon.mu.Unlock()
}

// closeMonitors closes every detached connection (server shutdown).
func (s *Server) closeMonitors() {
	s.mu.Lock()
	var ms []*monitorConn
	for _, c := range s.clients {
		if c.detached.Load() && c.mon != nil {
			ms = append(ms, c.mon)
		}
	}
	s.mu.Unlock()
	for _, m := range ms {
		m.close()
	}
}

// feedMonitors sends the command line to every monitor, in Redis's format:
// +<unix time with µs> [<db> <source>] "arg" "arg"..., where the source is
// the client's address, or "lua" for a command a script ran.
func (s *Server) feedMonitors(db int, source string, cmd *command, args [][]byte) {
	if s.loading.Load() {
		return
	}
	now := time.Now()
	line := make([]byte, 0, 64)
	line = append(line, '+')
	line = strconv.AppendInt(line, now.Unix(), 10)
	line = append(line, '.')
	us := now.Nanosecond() / 1000
	for d := 100000; d > 1 && us < d; d /= 10 {
		line = append(line, '0')
	}
	line = strconv.AppendInt(line, int64(us), 10)
	line = append(line, " ["...)
	line = strconv.AppendInt(line, int64(db), 10)
	line = append(line, ' ')
	line = append(line, source...)
	line = append(line, "] "...)
	for j, a := range redactArgs(cmd, args) {
		if j > 0 {
			line = append(line, ' ')
		}
		line = appendRepr(line, a)
	}
	line = append(line, "\r\n"...)
	var over []*monitorConn
	s.monMu.Lock()
	for m := range s.monSet {
		if m.send(line, true) {
			over = append(over, m)
		}
	}
	s.monMu.Unlock()
	for _, m := range over { // close takes monMu (removeMonitor): after the loop
		m.close()
	}
}

// appendRepr quotes b as Redis's sdscatrepr does.
func appendRepr(dst, b []byte) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for _, ch := range b {
		switch ch {
		case '\\', '"':
			dst = append(dst, '\\', ch)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		case '\a':
			dst = append(dst, '\\', 'a')
		case '\b':
			dst = append(dst, '\\', 'b')
		default:
			if ch >= 0x20 && ch < 0x7f { // isprint in the C locale
				dst = append(dst, ch)
			} else {
				dst = append(dst, '\\', 'x', hex[ch>>4], hex[ch&15])
			}
		}
	}
	return append(dst, '"')
}

// send queues output; monitorLine output is dropped once monitoring stopped.
// It reports overflow (over monitorMaxPending) instead of closing the
// connection itself: the caller may hold monMu, which close takes.
func (m *monitorConn) send(b []byte, monitorLine bool) (overflow bool) {
	m.mu.Lock()
	if m.dead || (monitorLine && !m.on) {
		m.mu.Unlock()
		return false
	}
	if len(m.buf)+len(b) > monitorMaxPending {
		m.mu.Unlock()
		m.s.log.Warn("closing monitor client: output buffer limit reached", "client", m.c.addr, "pending", len(m.buf))
		return true
	}
	m.buf = append(m.buf, b...)
	m.mu.Unlock()
	select {
	case m.wake <- struct{}{}:
	default:
	}
	return false
}

func (m *monitorConn) writeLoop() {
	var spare []byte
	for {
		select {
		case <-m.wake:
		case <-m.done:
			return
		}
		m.mu.Lock()
		out := m.buf
		m.buf = spare[:0]
		closeAfter := m.closeAfter
		m.mu.Unlock()
		if len(out) > 0 {
			if _, err := m.nc.Write(out); err != nil {
				m.close()
				return
			}
		}
		if closeAfter {
			m.close()
			return
		}
		if cap(out) <= 1<<20 { // keep a modest buffer, drop a huge one
			spare = out
		} else {
			spare = nil
		}
	}
}

// readLoop runs the commands the detached client still sends.
func (m *monitorConn) readLoop() {
	var out bytes.Buffer
	w := redcon.NewWriter(&out)
	for {
		cmd, err := m.dc.ReadCommand()
		if err != nil || m.c.closing.Load() {
			m.close()
			return
		}
		out.Reset()
		m.c.rep = reply{w: w, resp3: m.c.resp3}
		m.s.dispatch(m.c, &m.c.rep, cmd.Args)
		w.Flush()
		if m.send(out.Bytes(), false) {
			m.close()
			return
		}
		if m.c.closing.Load() {
			m.flushAndClose()
			return
		}
	}
}

// flushAndClose closes the connection once what is pending is written
// (QUIT): the writer does it, so the reply is not overtaken.
func (m *monitorConn) flushAndClose() {
	m.mu.Lock()
	m.closeAfter = true
	m.mu.Unlock()
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

func (m *monitorConn) close() {
	m.mu.Lock()
	already := m.dead
	m.dead = true
	m.mu.Unlock()
	if already {
		return
	}
	m.once.Do(func() { close(m.done) })
	m.s.removeMonitor(m)
	m.nc.Close()
	// The client was kept registered after redcon let go of it: drop it now.
	m.s.ks.Unwatch(&m.c.watch)
	m.s.disableTracking(m.c)
	m.s.mu.Lock()
	delete(m.s.clients, m.c.id)
	m.s.mu.Unlock()
}

func (m *monitorConn) isOn() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.on
}
