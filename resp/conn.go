package resp

import (
	"errors"
	"net"
	"sync/atomic"
	"time"

	"github.com/tidwall/redcon"

	"sessiond/config"
)

// frameConn is every client connection as the read loop (loop.go) sees it:
// reads go through
// the framer (framer.go), writes through the output buffer limit. See
// doc.go for the design. Read is only called by the connection's own
// goroutine (the read loop), as are the framer and the client
// fields it looks at.
type frameConn struct {
	net.Conn
	lim *limits // nil: Redis's defaults
	c   *client // nil until accept links it
	f   framer

	out  []byte // canonical bytes not yet handed to the read loop
	off  int    // out[off:] is still to hand over
	done int    // out[:done] ends at a request boundary
	raw  []byte // input not yet parsed (rawOff onwards)
	rOff int

	failed bool  // a protocol error: reply f.errMsg and close once out[:done] is handed over
	rerr   error // the error that ended reading

	unflushed atomic.Int64 // reply bytes written since the last flush (outWriter)

	// Set by Read for the loop (loop.go): partial, the bytes returned end
	// inside a request (the loop need not parse until more come);
	// blocked, an event loop's socket had nothing more to read
	// (errWouldBlock).
	partial, blocked bool
}

// underlying is the connection fc frames (watchHangup).
func (fc *frameConn) underlying() net.Conn { return fc.Conn }

// errWouldBlock is Read's answer when an event loop's socket (sock, in
// eventloop_linux.go) has no more input for now: the loop returns to epoll.
var errWouldBlock = errors.New("resp: no input ready")

// errProtocolClose ends a connection after a protocol error or an
// exceeded limit; the read loop then closes it.
var errProtocolClose = errors.New("resp: protocol error")

// errOutputLimit ends a connection over its output buffer limit.
var errOutputLimit = errors.New("resp: client output buffer limit reached")

// bigBuf: a framer buffer larger than this is freed once empty, so an idle
// connection does not keep the memory of its largest request.
const bigBuf = 64 << 10

func (c *frameConn) Read(p []byte) (int, error) {
	c.partial = false
	if len(p) == 0 {
		return 0, nil
	}
	for {
		if c.done > c.off { // complete requests first
			n := copy(p, c.out[c.off:c.done])
			c.off += n
			c.compactOut()
			return n, nil
		}
		if c.failed {
			return 0, c.failNow()
		}
		if pending := len(c.out) - c.off; pending >= len(p) && !c.f.hold {
			// An incomplete request larger than the loop's free space: hand
			// over a piece, which makes the loop grow its buffer.
			n := copy(p, c.out[c.off:])
			c.off += n
			c.compactOut()
			c.partial = true
			return n, nil
		}
		if c.rOff < len(c.raw) {
			c.parseStaged()
			continue
		}
		if c.rerr != nil {
			return 0, c.rerr
		}
		if c.f.hold || c.f.st == stInline || c.f.pendingHeader() {
			c.readStaged()
		} else if n := c.readInPlace(p); n > 0 {
			return n, nil
		}
		if c.blocked {
			c.blocked = false
			return 0, errWouldBlock
		}
	}
}

// buffered reports input the loop has not been handed yet: an event loop
// must drain it before waiting on the socket again, which will not signal
// for bytes already read.
func (c *frameConn) buffered() bool {
	return len(c.out) > c.off || c.rOff < len(c.raw) || c.failed
}

// readInPlace is the fast path: the network's bytes land in the loop's
// buffer and are checked there, in place; only a trailing incomplete
// request is copied aside, so that the loop is always handed whole requests
// (a parser rescans an incomplete one on every read).
func (c *frameConn) readInPlace(p []byte) int {
	k := copy(p, c.out[c.off:]) // a staged incomplete request; it fits (see Read)
	c.out, c.off, c.done = c.out[:0], 0, 0
	w := k
	for {
		mid := c.f.st != stCmd // this read continues a request
		n, err := c.Conn.Read(p[w:])
		if err == errWouldBlock {
			// An event loop's socket has nothing more now: hand over the
			// incomplete request read so far (the framer continues it on
			// the next read, as after a full buffer), or nothing.
			if w > 0 {
				c.partial = true
				return w
			}
			c.blocked = true
			return 0
		}
		if err != nil {
			c.rerr = err
		}
		if n > 0 {
			c.setLimits()
			dst, used, ev := c.f.parse(p[:w], p[w:w+n], true)
			if mid || c.f.st != stCmd {
				c.arrived() // part of a request: idle.go
			}
			rest := p[w+used : w+n]
			w = len(dst)
			b := c.f.boundary
			if ev == evError {
				c.failed = true
				return max(b, 0) // requests before the error run first
			}
			if ev == evOne || ev == evInline {
				c.raw, c.rOff = append(c.raw[:0], rest...), 0
			}
			if b > 0 {
				c.out = append(c.out, p[b:w]...)
				return b
			}
			if ev != evNone || c.f.hold || c.f.pendingHeader() {
				// A header line split across reads is emitted when complete,
				// which in place could overwrite input not read yet: the
				// slow path takes it from here.
				c.out = append(c.out, p[:w]...)
				return 0
			}
			if w == len(p) {
				c.partial = true
				return w
			}
		}
		if c.rerr != nil {
			return 0 // an incomplete request at the end of input is dropped, as Redis does
		}
	}
}

// parseStaged parses c.raw into c.out (inline requests, held requests,
// one request at a time before AUTH).
func (c *frameConn) parseStaged() {
	c.setLimits()
	dst, used, ev := c.f.parse(c.out, c.raw[c.rOff:], false)
	c.out = dst
	c.rOff += used
	if c.f.boundary >= 0 {
		c.done = c.f.boundary
	}
	if c.rOff == len(c.raw) {
		c.raw, c.rOff = c.raw[:0], 0
		if cap(c.raw) > bigBuf {
			c.raw = nil
		}
	}
	if ev == evError {
		c.failed = true
		c.out = c.out[:max(c.done, c.off)] // the incomplete request is not handed over
	}
}

// readStaged reads from the network into c.raw (the slow path).
func (c *frameConn) readStaged() {
	if cap(c.raw) == 0 {
		c.raw = make([]byte, 0, 16<<10)
	}
	n, err := c.Conn.Read(c.raw[:cap(c.raw)])
	c.raw, c.rOff = c.raw[:n], 0
	if n > 0 {
		c.arrived() // input, which the slow path reads within a request (idle.go)
	}
	switch {
	case err == errWouldBlock:
		c.blocked = true
	case err != nil:
		c.rerr = err
	}
}

func (c *frameConn) compactOut() {
	if c.off < len(c.out) {
		return
	}
	c.out, c.off, c.done = c.out[:0], 0, 0
	if cap(c.out) > bigBuf {
		c.out = nil
	}
}

// failNow sends the protocol error, if any, and ends the connection. Every
// reply before it has been flushed: the loop reads only after flushing.
func (c *frameConn) failNow() error {
	if msg := c.f.errMsg; msg != "" {
		c.Conn.SetWriteDeadline(time.Now().Add(time.Second))
		c.Conn.Write([]byte("-ERR " + msg + "\r\n"))
		c.f.errMsg = ""
	}
	return errProtocolClose
}

func (c *frameConn) setLimits() {
	l := c.lim
	if l == nil {
		l = defaultLimits
	}
	c.f.maxBulk = l.protoMaxBulk.Load()
	c.f.maxQuery = l.queryLimit.Load()
	c.f.unauth = c.c != nil && !c.c.authed
}

// Write applies the normal class's client-output-buffer-limit to the
// replies the loop flushes (one batch, or 64 KB: see outWriter). The bytes
// of one Write are the client's pending output until the kernel takes them.
//
// Empty writes are skipped: the loop flushes an empty buffer after every
// batch, and once a subscriber's queue owns the socket (package pubsub)
// that empty write would wait behind a slow client's pending data.
func (c *frameConn) Write(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	c.unflushed.Store(0)
	var lim OutputLimit
	if c.lim != nil {
		lim = c.lim.output(classNormal)
	}
	pending := int64(len(b))
	if lim.Hard > 0 && pending >= lim.Hard {
		c.Conn.Close()
		return 0, errOutputLimit
	}
	if lim.Soft == 0 {
		return c.Conn.Write(b)
	}
	if pending < lim.Soft {
		return c.writeUnderSoft(b, lim)
	}
	// Over the soft limit: the client must take the whole batch within
	// soft-seconds. Not just
	// the part over the limit: the connection reads no more commands
	// until the batch is written, so a client that stopped reading would
	// otherwise wait for ever on the rest, where in Redis its pipelined
	// commands' replies would pile up over the limit and close it.
	w, err := c.writeWithin(b, lim)
	if err != nil {
		c.Conn.Close()
		return w, errOutputLimit
	}
	return w, nil
}

// writeWithin writes b, giving up after the soft limit's seconds (Redis
// counts whole seconds: "more than").
func (c *frameConn) writeWithin(b []byte, lim OutputLimit) (int, error) {
	c.Conn.SetWriteDeadline(time.Now().Add(time.Duration(lim.SoftSeconds+1) * time.Second))
	w, err := c.Conn.Write(b)
	c.Conn.SetWriteDeadline(time.Time{})
	return w, err
}

// writeUnderSoft writes b, under the soft limit, for a client that may
// not be reading. The connection reads no more requests until b is
// written, where Redis would run those it has and hold their replies; so
// once b has waited soft-seconds, a client whose socket holds more
// requests counts as over the limit (in Redis their replies would be) and
// is closed. One that has sent nothing more just waits, as in Redis.
// Requests already read into the connection's buffers are not counted
// (they belong to the read loop's goroutine, and a subscriber's messages
// are written from another), nor, outside Linux, the socket's.
func (c *frameConn) writeUnderSoft(b []byte, lim OutputLimit) (int, error) {
	w := 0
	for {
		n, err := c.writeWithin(b[w:], lim)
		w += n
		var ne net.Error
		if err == nil || !errors.As(err, &ne) || !ne.Timeout() {
			return w, err
		}
		if socketHasInput(c.Conn) {
			c.Conn.Close()
			return w, errOutputLimit
		}
	}
}

// limits are the request and output limits, kept current from the config.
type limits struct {
	protoMaxBulk atomic.Int64
	queryLimit   atomic.Int64
	obuf         atomic.Pointer[[numClasses]OutputLimit]
	flushAt      atomic.Int64 // flushThreshold
}

var defaultLimits = func() *limits {
	l := new(limits)
	l.protoMaxBulk.Store(512 << 20)
	l.queryLimit.Store(1 << 30)
	return l
}()

func (l *limits) output(class int) OutputLimit {
	if p := l.obuf.Load(); p != nil {
		return p[class]
	}
	return OutputLimit{}
}

// watchLimits loads the limits from the configuration and follows
// CONFIG SET.
func (s *Server) watchLimits() {
	load := func(string) {
		s.lim.protoMaxBulk.Store(s.cfg.Int("proto-max-bulk-len"))
		s.lim.queryLimit.Store(s.cfg.Int("client-query-buffer-limit"))
		all, err := config.ParseOutputBufferLimits(s.cfg.Get("client-output-buffer-limit"))
		if err != nil {
			return
		}
		var t [numClasses]OutputLimit
		t[classNormal], t[classReplica], t[classPubSub] = all["normal"], all["replica"], all["pubsub"]
		s.lim.obuf.Store(&t)
		s.lim.flushAt.Store(s.lim.flushThreshold())
	}
	load("")
	for _, name := range []string{"proto-max-bulk-len", "client-query-buffer-limit", "client-output-buffer-limit"} {
		s.cfg.OnSet(name, load)
	}
}

// link ties a new connection to its server and client (called by accept).
func (s *Server) link(conn redcon.Conn, c *client) {
	fc, ok := conn.NetConn().(*frameConn)
	if !ok {
		return
	}
	fc.lim, fc.c = &s.lim, c
	c.ow = outWriter{Conn: conn, fc: fc}
}

// flushAt: replies are flushed once this much is pending, even in the
// middle of a pipelined batch. A client that sends without reading then
// blocks on its own socket, with at most this plus one reply held for it,
// instead of the writer buffering every reply of the batch. With a normal-class
// output limit set, replies accumulate up to that limit instead (and the
// flush applies it), so that such a client is disconnected as in Redis.
const flushAt = 64 << 10

// flushThreshold is flushAt, or the normal class's lower limit above it.
func (l *limits) flushThreshold() int64 {
	o := l.output(classNormal)
	t := int64(flushAt)
	for _, v := range []int64{o.Hard, o.Soft} {
		if v > t {
			t = v
		}
	}
	if o.Hard > 0 && o.Soft > 0 {
		t = max(flushAt, min(o.Hard, o.Soft))
	}
	return t
}

// writer is where c's replies go: through outWriter when the connection
// is a frameConn, so that afterCommand knows how much is pending.
func (c *client) writer(conn redcon.Conn) rawWriter {
	if c.ow.fc != nil {
		return &c.ow
	}
	return conn
}

// afterCommand flushes when enough replies are pending (flushAt). A flush
// that fails (the output limit closed the connection) stops the rest of
// the batch, as Redis drops the queries of a client it closes.
func (s *Server) afterCommand(c *client, conn redcon.Conn) {
	fc := c.ow.fc
	if fc == nil {
		return
	}
	if n := fc.unflushed.Load(); n < flushAt || (fc.lim != nil && n < fc.lim.flushAt.Load()) {
		return
	}
	if w := baseWriter(conn); w != nil && w.Flush() != nil {
		c.closing.Store(true)
	}
}

// outWriter counts the bytes of replies on their way to the reply buffer.
type outWriter struct {
	redcon.Conn
	fc *frameConn
}

func (w *outWriter) add(n int) { w.fc.unflushed.Add(int64(n)) }

func (w *outWriter) WriteString(s string)     { w.add(len(s) + 3); w.Conn.WriteString(s) }
func (w *outWriter) WriteBulk(b []byte)       { w.add(len(b) + 16); w.Conn.WriteBulk(b) }
func (w *outWriter) WriteBulkString(s string) { w.add(len(s) + 16); w.Conn.WriteBulkString(s) }
func (w *outWriter) WriteInt64(n int64)       { w.add(22); w.Conn.WriteInt64(n) }
func (w *outWriter) WriteError(msg string)    { w.add(len(msg) + 3); w.Conn.WriteError(msg) }
func (w *outWriter) WriteArray(n int)         { w.add(14); w.Conn.WriteArray(n) }
func (w *outWriter) WriteNull()               { w.add(5); w.Conn.WriteNull() }
func (w *outWriter) WriteRaw(b []byte)        { w.add(len(b)); w.Conn.WriteRaw(b) }
