package resp

import (
	"errors"
	"net"
	"time"

	"github.com/tidwall/redcon"
)

// Connections are served by the loop below rather than by redcon.Server.
// redcon's server copies every request (Command.Raw) and allocates its
// argument list, about 700 bytes of garbage per command: at 50,000
// commands a second that kept the collector running and its headroom in
// the RSS (bench/README.md, "What each change bought"). The loop reads the
// framer's checked requests into one reused buffer and slices the
// arguments out of it with redcon.ReadNextCommand; replies still go
// through redcon's Writer, and commands still see a redcon.Conn.
//
// Arguments therefore alias the read buffer, which the next read reuses:
// anything kept after a command returns (MULTI's queue, the slow log,
// names, subscriptions) must be copied. Tests poison the consumed part of
// the buffer after every batch (poisonReads) to catch a violation.

// readBufSize is a connection's initial read buffer. It grows only for a
// request larger than its free space (the framer hands over whole
// requests, keeping a trailing incomplete one aside), and a buffer grown
// past bigBuf is dropped once it is empty, so that an idle connection does
// not keep the memory of its largest request.
const readBufSize = 4 << 10

// poisonReads overwrites consumed requests before the buffer is reused
// (set by tests: export_test.go).
var poisonReads = false

// loopConn is one client connection: a redcon.Conn whose reads are
// sessiond's. Only the connection's goroutine uses it, except Close
// (CLIENT KILL, the output limit, Server.Close), which closes the socket
// and so makes the goroutine's read fail.
type loopConn struct {
	fc         *frameConn
	wr         *redcon.Writer
	addr       string
	ctx        any
	buf        []byte
	start, end int // buf[start:end] is read but not yet parsed
	args       [][]byte
	closed     bool // Close was called by the connection's goroutine
	detached   bool
	// afterDetach runs on the connection's goroutine once the command that
	// detached it has finished (MONITOR starts its loops there).
	afterDetach func()
}

func newLoopConn(nc net.Conn) *loopConn {
	fc := &frameConn{Conn: nc}
	return &loopConn{fc: fc, wr: redcon.NewWriter(fc), addr: nc.RemoteAddr().String()}
}

var _ redcon.Conn = (*loopConn)(nil)

func (c *loopConn) RemoteAddr() string          { return c.addr }
func (c *loopConn) WriteError(msg string)       { c.wr.WriteError(msg) }
func (c *loopConn) WriteString(str string)      { c.wr.WriteString(str) }
func (c *loopConn) WriteBulk(bulk []byte)       { c.wr.WriteBulk(bulk) }
func (c *loopConn) WriteBulkString(bulk string) { c.wr.WriteBulkString(bulk) }
func (c *loopConn) WriteInt(num int)            { c.wr.WriteInt(num) }
func (c *loopConn) WriteInt64(num int64)        { c.wr.WriteInt64(num) }
func (c *loopConn) WriteUint64(num uint64)      { c.wr.WriteUint64(num) }
func (c *loopConn) WriteArray(count int)        { c.wr.WriteArray(count) }
func (c *loopConn) WriteNull()                  { c.wr.WriteNull() }
func (c *loopConn) WriteRaw(data []byte)        { c.wr.WriteRaw(data) }
func (c *loopConn) WriteAny(v any)              { c.wr.WriteAny(v) }
func (c *loopConn) Context() any                { return c.ctx }
func (c *loopConn) SetContext(v any)            { c.ctx = v }
func (c *loopConn) SetReadBuffer(int)           {}
func (c *loopConn) NetConn() net.Conn           { return c.fc }
func (c *loopConn) ReadPipeline() []redcon.Command {
	return nil
}
func (c *loopConn) PeekPipeline() []redcon.Command { return nil }

// Close flushes pending replies and closes the connection, as redcon's does.
// Only the connection's goroutine calls it. On an event loop, replies the
// socket has not taken yet are written first (eventLoop.end).
func (c *loopConn) Close() error {
	c.wr.Flush()
	c.closed = true
	if c.hasPending() {
		return nil
	}
	return c.fc.Close()
}

// Detach hands the connection to its caller (MONITOR): the loop stops
// reading, and the requests already read stay in the buffer for
// ReadCommand.
func (c *loopConn) Detach() redcon.DetachedConn {
	c.detached = true
	return detachedLoopConn{c}
}

type detachedLoopConn struct{ *loopConn }

func (d detachedLoopConn) Flush() error { return d.wr.Flush() }

// ReadCommand returns the next request, its arguments copied (the
// detached reader keeps them past the next read).
func (d detachedLoopConn) ReadCommand() (redcon.Command, error) {
	args, err := d.next()
	if err != nil {
		return redcon.Command{}, err
	}
	return redcon.Command{Args: copyArgs(args)}, nil
}

// copyArgs copies a request's arguments out of the read buffer, for what
// outlives the command (MULTI's queue, a detached reader). An empty
// argument stays non-nil.
func copyArgs(args [][]byte) [][]byte {
	q := make([][]byte, len(args))
	for i, a := range args {
		q[i] = append([]byte{}, a...)
	}
	return q
}

// next returns the next request's arguments, reading when the buffer holds
// no whole request.
func (c *loopConn) next() ([][]byte, error) {
	for {
		if args, ok, err := c.parse(); ok || err != nil {
			return args, err
		}
		if err := c.fill(); err != nil {
			return nil, err
		}
	}
}

// errUnparsed ends a connection whose checked request redcon's parser
// rejects: a disagreement between the framer and the parser, which would
// otherwise leave the request waiting forever for more bytes.
var errUnparsed = errors.New("resp: request rejected by the parser after the framer accepted it")

// parse slices the next whole request out of the buffer. The framer hands
// over only well-formed requests, so ReadNextCommand should not fail here;
// an empty request (*0) is skipped, as Redis skips it.
func (c *loopConn) parse() ([][]byte, bool, error) {
	if c.fc.partial {
		return nil, false, nil // the rest is one incomplete request: no rescan
	}
	for c.start < c.end {
		complete, args, _, rest, err := redcon.ReadNextCommand(c.buf[c.start:c.end], c.args[:0])
		if err != nil {
			return nil, false, errUnparsed
		}
		if !complete {
			return nil, false, nil
		}
		c.args = args[:0] // keep a grown argument list for the next request
		c.start = c.end - len(rest)
		if len(args) > 0 {
			return args, true, nil
		}
	}
	return nil, false, nil
}

// fill reads more requests into the buffer, first moving an incomplete one
// to its front (or growing the buffer when it already fills it).
func (c *loopConn) fill() error {
	if poisonReads {
		for i := range c.buf[:c.start] {
			c.buf[i] = 0xAA
		}
	}
	switch {
	case c.start == c.end:
		c.start, c.end = 0, 0
		if len(c.buf) > bigBuf {
			c.buf = nil // do not keep the memory of the largest request
		}
	case c.start > 0:
		c.end = copy(c.buf, c.buf[c.start:c.end])
		c.start = 0
	}
	if c.buf == nil {
		c.buf = make([]byte, readBufSize)
	} else if c.end == len(c.buf) {
		c.buf = append(c.buf, make([]byte, len(c.buf))...)
	}
	n, err := c.fc.Read(c.buf[c.end:])
	c.end += n
	if n > 0 {
		return nil
	}
	return err
}

// serveConn runs c's requests on its own goroutine until it closes, is
// closed or detaches. Replies are flushed after each batch of pipelined
// requests (and every flushAt bytes within one: afterCommand). first, when
// not nil, is a request already parsed: an event loop hands a connection
// over with the command it does not run itself (eventloop_linux.go).
func (s *Server) serveConn(c *loopConn, first [][]byte) {
	err := s.readLoop(c, first)
	if !c.detached {
		c.fc.Close()
	}
	s.untrack(c)
	s.closedConn(c, err)
	if c.detached && c.afterDetach != nil {
		c.afterDetach()
	}
}

func (s *Server) readLoop(c *loopConn, first [][]byte) error {
	if err := c.writePending(); err != nil { // replies an event loop could not send
		return err
	}
	if first != nil {
		s.handle(c, first)
		if c.detached || c.closed {
			return nil
		}
	}
	for {
		for {
			args, ok, err := c.parse()
			if err != nil {
				s.log.Error("closing connection", "err", err, "client", c.addr)
				return err
			}
			if !ok {
				break
			}
			s.handle(c, args)
			if c.detached || c.closed {
				return nil
			}
		}
		if err := c.wr.Flush(); err != nil {
			return err
		}
		c.waitInput()
		if err := c.fill(); err != nil {
			return err
		}
	}
}

// acceptLoop accepts connections on ln until it is closed.
func (s *Server) acceptLoop(ln net.Listener) error {
	var delay time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.isClosed() || errors.Is(err, net.ErrClosed) {
				return nil
			}
			// Out of file descriptors and the like: back off rather than
			// spin, as net/http does.
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			s.log.Warn("accept failed", "err", err, "retry_in", delay)
			time.Sleep(delay)
			continue
		}
		delay = 0
		c := s.newConn(nc)
		if !s.track(c) {
			c.fc.Close()
			c.release()
			return nil
		}
		if !s.accept(c) {
			s.untrack(c)
			c.Close()
			c.release()
			continue
		}
		if !s.startOnLoop(c) {
			go s.serveConn(c, nil)
		}
	}
}

// leavesLoop reports whether c, on an event loop, must move to a
// goroutine before cmd runs (dispatch defers it): commands that wait or
// take over the socket (flagOffLoop: scripts, which SCRIPT KILL must be
// able to interrupt from any connection; MONITOR; subscriptions, whose
// replies a writer goroutine owns; SAVE and SHUTDOWN), unless MULTI only
// queues them, and EXEC of a transaction holding one. A command that must
// wait for CLIENT PAUSE is deferred by waitPause.
func (s *Server) leavesLoop(c *client, cmd *command) bool {
	if c.inMulti && cmd.flags&flagRunsInMulti == 0 {
		return false // queued
	}
	if cmd.name == "exec" {
		for _, q := range c.queue {
			if qc := s.table.lookup(q[0]); qc != nil && qc.flags&flagOffLoop != 0 {
				return true
			}
		}
	}
	return cmd.flags&flagOffLoop != 0
}

// markOffLoop flags the commands an event loop does not run (leavesLoop).
func markOffLoop(t commandTable) {
	for _, name := range []string{"eval", "eval_ro", "evalsha", "evalsha_ro", "fcall", "fcall_ro", "monitor",
		"subscribe", "psubscribe", "ssubscribe", "unsubscribe", "punsubscribe", "sunsubscribe",
		"save", "shutdown", "debug"} {
		t[name].flags |= flagOffLoop
	}
}

// track registers c so that Close can close it; false once closed.
func (s *Server) track(c *loopConn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *Server) untrack(c *loopConn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// baseWriter is the reply buffer of conn, nil when conn is not one of the
// loop's connections (a detached one, in tests).
func baseWriter(conn redcon.Conn) *redcon.Writer {
	if c, ok := conn.(*loopConn); ok {
		return c.wr
	}
	return nil
}
