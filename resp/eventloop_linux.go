package resp

import (
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

// Event loops (Linux). A goroutine per connection costs, per request at
// pipeline 1, a read that finds nothing (EAGAIN) before parking, a park and
// a wake-up through the scheduler: 9.7-12 µs of server CPU per GET against
// Redis's 6.3-8.9 on the bench machine, where the load generator needs one
// of the two cores. An event loop, as in Redis, waits on epoll for many
// connections at once and reads each ready one once, so that a request
// costs a read and a write.
//
// A plain TCP connection starts on a loop (one per GOMAXPROCS, or
// event-loops) and stays there while it does what a session store does.
// Anything that can wait or needs the socket to itself moves it, for good,
// to a goroutine of its own (handOff), which then serves it exactly as
// without loops: a command in leavesLoop's list or one that must wait for
// CLIENT PAUSE (dispatch defers it), a reply the socket does not
// take at once. TLS connections, and every connection
// with event-loops -1, never use a loop.
//
// Ownership: a loop's connections are read, run and written only by that
// loop's goroutine, which also closes their descriptors. Other goroutines
// (CLIENT KILL, Server.Close, the output limit) only shut the socket down
// (sock.Close); the loop then reads end of file and cleans up.

// sock is a loop connection's socket: a raw non-blocking descriptor while
// on a loop, then the net.Conn made from it by handOff.
type sock struct {
	mu     sync.Mutex // fd's closing and nc's setting, against Close
	fd     int        // -1 once closed or handed over
	nc     net.Conn   // set by handOff; then every method is nc's
	closed bool
	// pending is reply bytes the socket did not take (the loop's
	// goroutine only): the connection is handed over to write them.
	pending       []byte
	local, remote net.Addr
}

// newSock takes over nc's socket: a duplicate descriptor, with nc closed
// (which takes it out of Go's poller).
func newSock(nc net.Conn) *sock {
	tc, ok := nc.(*net.TCPConn)
	if !ok {
		return nil
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return nil
	}
	fd := -1
	rc.Control(func(f uintptr) {
		r, _, e := syscall.Syscall(syscall.SYS_FCNTL, f, syscall.F_DUPFD_CLOEXEC, 0)
		if e == 0 {
			fd = int(r)
		}
	})
	if fd < 0 {
		return nil
	}
	k := &sock{fd: fd, local: nc.LocalAddr(), remote: nc.RemoteAddr()}
	nc.Close()
	return k
}

func (k *sock) Read(p []byte) (int, error) {
	if k.nc != nil {
		return k.nc.Read(p)
	}
	for {
		n, err := rawIO(syscall.SYS_READ, k.fd, p[:min(len(p), maxRawIO)])
		switch {
		case n > 0:
			return n, nil
		case err == nil:
			return 0, io.EOF
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			return 0, errWouldBlock
		}
		return 0, err
	}
}

// Write sends what the socket takes now and keeps the rest in pending
// (after which everything is kept, in order), so a loop never waits on a
// client.
func (k *sock) Write(b []byte) (int, error) {
	if k.nc != nil {
		return k.nc.Write(b)
	}
	if len(k.pending) > 0 {
		k.pending = append(k.pending, b...)
		return len(b), nil
	}
	for n := 0; n < len(b); {
		m, err := rawIO(syscall.SYS_WRITE, k.fd, b[n:min(len(b), n+maxRawIO)])
		switch {
		case m > 0:
			n += m
		case err == syscall.EINTR:
		case err == syscall.EAGAIN:
			k.pending = append(k.pending, b[n:]...)
			return len(b), nil
		default:
			return n, err
		}
	}
	return len(b), nil
}

// maxRawIO bounds one read(2) or write(2) of a loop's socket: the runtime
// cannot preempt the raw system call rawIO makes (rawio_linux.go), so a
// stop-the-world pause waits for it; copying 256 KiB to or from the socket
// takes tens of microseconds.
const maxRawIO = 256 << 10

// Close shuts the socket down; the owner closes the descriptor (release).
// Any goroutine may call it.
func (k *sock) Close() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.nc != nil {
		return k.nc.Close()
	}
	if !k.closed && k.fd >= 0 {
		syscall.Shutdown(k.fd, syscall.SHUT_RDWR)
	}
	k.closed = true
	return nil
}

// release closes the descriptor (the owner, once the connection is over).
func (k *sock) release() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.fd >= 0 {
		syscall.Close(k.fd)
		k.fd = -1
	}
	k.closed = true
}

// toGo turns the descriptor into a net.Conn in Go's poller.
func (k *sock) toGo() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.closed {
		return net.ErrClosed
	}
	f := os.NewFile(uintptr(k.fd), "")
	nc, err := net.FileConn(f) // a duplicate
	f.Close()
	k.fd = -1
	if err != nil {
		k.closed = true
		return err
	}
	k.nc = nc
	return nil
}

// underlying is the connection k handed over to (watchHangup), or k.
func (k *sock) underlying() net.Conn {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.nc == nil {
		return nil
	}
	return k.nc
}

func (k *sock) LocalAddr() net.Addr  { return k.local }
func (k *sock) RemoteAddr() net.Addr { return k.remote }

// Deadlines apply once handed over; a loop connection has none (the idle
// timeout is a sweep: idle.go).
func (k *sock) SetDeadline(t time.Time) error {
	return k.goConn(func(nc net.Conn) error { return nc.SetDeadline(t) })
}
func (k *sock) SetReadDeadline(t time.Time) error {
	return k.goConn(func(nc net.Conn) error { return nc.SetReadDeadline(t) })
}
func (k *sock) SetWriteDeadline(t time.Time) error {
	return k.goConn(func(nc net.Conn) error { return nc.SetWriteDeadline(t) })
}

func (k *sock) goConn(f func(net.Conn) error) error {
	k.mu.Lock()
	nc := k.nc
	k.mu.Unlock()
	if nc == nil {
		return nil
	}
	return f(nc)
}

// eventLoop is one epoll instance and the goroutine that serves its
// connections.
type eventLoop struct {
	s    *Server
	epfd int
	ep   *os.File        // epfd, registered with Go's netpoller (wait)
	rc   syscall.RawConn // ep's
	// poll is wait's non-blocking epoll_wait into events, made once: a
	// closure made per call would allocate.
	poll   func(uintptr) bool
	events []syscall.EpollEvent
	ready  int      // events poll found
	perr   error    // poll's error
	polls  int      // poll's calls in this wait: more than one means it (almost always) parked
	cpu    cpuShare // when to yield the CPU (wait)
	wake   [2]int   // a pipe: a byte on it stops the loop
	mu     sync.Mutex
	conns  map[int32]*loopConn // by descriptor
	stop   bool                // stopping: add refuses
	done   bool                // the descriptors are closed
	ended  chan struct{}       // closed when run returns
}

// startLoops starts the event loops (config "event-loops": 0, one per
// GOMAXPROCS; -1, none). Without them every connection has a goroutine.
func (s *Server) startLoops(n int) {
	for range n {
		l, err := newEventLoop(s)
		if err != nil {
			s.log.Warn("event loop not started: connections get a goroutine each", "err", err)
			return
		}
		s.loops = append(s.loops, l)
		go l.run()
	}
}

func newEventLoop(s *Server) (*eventLoop, error) {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	// Non-blocking, so that os.NewFile registers it with the netpoller.
	if err := syscall.SetNonblock(epfd, true); err != nil {
		syscall.Close(epfd)
		return nil, err
	}
	l := &eventLoop{s: s, epfd: epfd, ep: os.NewFile(uintptr(epfd), "epoll"), conns: map[int32]*loopConn{}, ended: make(chan struct{})}
	rc, err := l.ep.SyscallConn()
	if err != nil {
		l.ep.Close()
		return nil, err
	}
	l.rc = rc
	// A file the netpoller did not take cannot be waited on (wait would
	// fail at once): refuse the loop, so connections get goroutines.
	if err := l.ep.SetDeadline(time.Time{}); err != nil {
		l.ep.Close()
		return nil, err
	}
	l.events = make([]syscall.EpollEvent, 256)
	l.poll = func(uintptr) bool {
		// epoll_pwait with no signal mask is epoll_wait, and exists on
		// every Linux architecture (arm64 has no epoll_wait).
		l.polls++
		r, _, e := syscall.RawSyscall6(syscall.SYS_EPOLL_PWAIT, uintptr(l.epfd), uintptr(unsafe.Pointer(&l.events[0])), uintptr(len(l.events)), 0, 0, 0)
		l.ready, l.perr = int(r), nil
		if e != 0 {
			l.ready, l.perr = 0, e
		}
		return l.ready > 0 || l.perr != nil
	}
	if err := syscall.Pipe2(l.wake[:], syscall.O_CLOEXEC|syscall.O_NONBLOCK); err != nil {
		l.ep.Close()
		return nil, err
	}
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(l.wake[0])}
	if err := syscall.EpollCtl(epfd, syscall.EPOLL_CTL_ADD, l.wake[0], &ev); err != nil {
		l.ep.Close()
		syscall.Close(l.wake[0])
		syscall.Close(l.wake[1])
		return nil, err
	}
	return l, nil
}

// waitLoops waits until every loop's goroutine has returned (stopLoops
// first).
func waitLoops(loops []*eventLoop) {
	for _, l := range loops {
		<-l.ended
	}
}

// stopLoops makes every loop close its connections and end.
func stopLoops(loops []*eventLoop) {
	for _, l := range loops {
		l.mu.Lock()
		l.stop = true
		if !l.done { // under mu: close may not free the pipe meanwhile
			syscall.Write(l.wake[1], []byte{0})
		}
		l.mu.Unlock()
	}
}

// newConn wraps an accepted connection, taking its socket for a loop when
// there are loops and it is plain TCP.
func (s *Server) newConn(nc net.Conn) *loopConn {
	if len(s.loops) > 0 {
		if k := newSock(nc); k != nil {
			return newLoopConn(k)
		}
	}
	return newLoopConn(nc)
}

// startOnLoop gives c to a loop; false if c is not a loop connection.
func (s *Server) startOnLoop(c *loopConn) bool {
	k := c.sock()
	if k == nil {
		return false
	}
	if cl, _ := c.ctx.(*client); cl != nil {
		cl.onLoop = true
	}
	// Round-robin; a loop that stopped (it failed) refuses, and the next
	// one is tried. When all refuse the server is closing.
	n := uint32(len(s.loops))
	first := s.nextLoop.Add(1)
	var err error
	for i := range n {
		if err = s.loops[(first+i)%n].add(c, k.fd); err == nil {
			return true
		}
	}
	c.fc.Close()
	k.release()
	s.untrack(c)
	s.closedConn(c, err)
	return true
}

// hasPending reports replies a loop's socket has not taken yet.
func (c *loopConn) hasPending() bool {
	k := c.sock()
	return k != nil && len(k.pending) > 0
}

func (c *loopConn) sock() *sock {
	k, _ := c.fc.Conn.(*sock)
	return k
}

// release closes the descriptor of a loop connection that never ran.
func (c *loopConn) release() {
	if k := c.sock(); k != nil {
		k.release()
	}
}

// writePending sends, on the connection's own goroutine, the replies its
// loop could not (the first thing after handOff).
func (c *loopConn) writePending() error {
	k := c.sock()
	if k == nil || len(k.pending) == 0 {
		return nil
	}
	p := k.pending
	k.pending = nil
	_, err := c.fc.Write(p) // the output limits apply here
	return err
}

// add registers c under mu, so that a stopping loop either ends it or
// never has it.
func (l *eventLoop) add(c *loopConn, fd int) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stop {
		return net.ErrClosed
	}
	// Level-triggered: a connection left with unread input is reported
	// again, so each wake-up needs one read.
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP, Fd: int32(fd)}
	if err := syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_ADD, fd, &ev); err != nil {
		return err
	}
	l.conns[int32(fd)] = c
	return nil
}

func (l *eventLoop) remove(c *loopConn) {
	fd := c.sock().fd
	syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_DEL, fd, nil)
	l.mu.Lock()
	delete(l.conns, int32(fd))
	l.mu.Unlock()
}

func (l *eventLoop) run() {
	defer close(l.ended)
	var ready []*loopConn
	for {
		events, err := l.wait()
		if err != nil {
			if err == syscall.EINTR {
				continue
			}
			l.s.log.Error("event loop failed", "err", err)
			l.close()
			return
		}
		ready = ready[:0]
		l.mu.Lock()
		stop := l.stop
		for _, ev := range events {
			if c := l.conns[ev.Fd]; c != nil {
				ready = append(ready, c)
			}
		}
		l.mu.Unlock()
		if stop {
			l.close()
			return
		}
		for _, c := range ready {
			l.serve(c)
		}
		clear(ready)
	}
}

// wait returns the ready events (valid until the next wait), parking the
// loop's goroutine until there are some. It does not block in
// epoll_wait(2): a thread blocked in a system call keeps its P, and when
// every P is so held (one loop per P, each idle for a moment) the runtime's
// sysmon takes the Ps back after 20 µs and wakes every 20 µs to do so, and
// a loop's thread must find a P again when epoll returns. Instead the epoll
// descriptor itself is watched by Go's netpoller (it is readable while it
// has events), so an idle loop parks like a goroutine waiting on a socket.
// Measured (GET at pipeline 1, 50 clients, 2 loops on 2 Ps, alternating
// runs): 100-112k requests/s at 8.3-9.3 µs of CPU each, against 74-90k at
// 10.1-12.9 µs blocking, with a fifth of the context switches.
//
// A loop that always finds work never parks, and then another loop's
// goroutine, whose descriptor became readable, was seen waiting 10-20 ms
// to run (GET at pipeline 16 with 2 loops: p99 16-18 ms against 2-3 ms
// blocking in epoll_wait), until the busy loop was preempted; yielding the
// P lets the scheduler poll the network and run it. With the yield the
// p99 is 2.1-3.0 ms. A loop yields its P only after running goschedEvery
// without parking, not before every wait: see cpuShare for why, and for
// the thread's CPU, which Gosched does not share.
func (l *eventLoop) wait() ([]syscall.EpollEvent, error) {
	now := time.Since(loopEpoch)
	if l.cpu.due(now) {
		osYield()
	}
	if l.cpu.pDue(now) {
		runtime.Gosched()
	}
	l.polls = 0
	if err := l.rc.Read(l.poll); err != nil {
		return nil, err
	}
	if l.polls > 1 {
		l.cpu.slept(time.Since(loopEpoch))
	}
	return l.events[:l.ready], l.perr
}

// close ends the loop's connections and frees its descriptors.
func (l *eventLoop) close() {
	l.mu.Lock()
	l.stop = true
	conns := make([]*loopConn, 0, len(l.conns))
	for _, c := range l.conns {
		conns = append(conns, c)
	}
	l.mu.Unlock()
	for _, c := range conns {
		l.end(c, net.ErrClosed)
	}
	l.mu.Lock()
	l.done = true
	l.ep.Close()
	syscall.Close(l.wake[0])
	syscall.Close(l.wake[1])
	l.mu.Unlock()
}

// serve runs what c has sent: one read, then every whole request, then one
// flush, as readLoop does for a batch, and back to epoll.
func (l *eventLoop) serve(c *loopConn) {
	s := l.s
	cl, _ := c.ctx.(*client)
	err := c.fill()
	for err == nil {
		for {
			args, ok, perr := c.parse()
			if perr != nil {
				s.log.Error("closing connection", "err", perr, "client", c.addr)
				l.end(c, perr)
				return
			}
			if !ok {
				break
			}
			s.handle(c, args)
			if cl != nil && cl.deferred { // dispatch left it for a goroutine
				cl.deferred = false
				l.handOff(c, args)
				return
			}
			if c.closed || c.detached {
				l.end(c, nil)
				return
			}
			if c.hasPending() { // the client is not reading: wait on a goroutine
				l.handOff(c, nil)
				return
			}
		}
		// Flushed before the framer is read again: a protocol error it
		// holds is written by that read, after every earlier reply.
		if err := c.wr.Flush(); err != nil {
			l.end(c, err)
			return
		}
		if c.hasPending() {
			l.handOff(c, nil)
			return
		}
		if !c.fc.buffered() {
			break
		}
		err = c.fill() // the framer's input, without a system call
	}
	if err != nil && err != errWouldBlock {
		l.end(c, err)
		return
	}
	c.waitInput()
}

// handOff moves c to a goroutine of its own, for good, with first (when
// not nil) as its next command.
func (l *eventLoop) handOff(c *loopConn, first [][]byte) {
	l.remove(c)
	if err := c.sock().toGo(); err != nil {
		l.end(c, err)
		return
	}
	if cl, _ := c.ctx.(*client); cl != nil {
		cl.onLoop = false
	}
	go l.s.serveConn(c, first)
}

// end closes c and forgets it, as serveConn does at the end. Replies the
// socket has not taken (QUIT's, those before a protocol error) are written
// first, by a goroutine, within a second, as a goroutine connection's
// Close would flush them.
func (l *eventLoop) end(c *loopConn, err error) {
	k := c.sock()
	if k.fd >= 0 {
		l.remove(c)
	}
	finish := func() {
		c.fc.Close()
		k.release()
		l.s.untrack(c)
		l.s.closedConn(c, err)
	}
	if len(k.pending) > 0 && k.toGo() == nil {
		p := k.pending
		k.pending = nil
		go func() {
			k.nc.SetWriteDeadline(time.Now().Add(time.Second))
			k.nc.Write(p)
			finish()
		}()
		return
	}
	finish()
}

// loopConns counts the connections on event loops (tests).
func (s *Server) loopConns() int {
	s.mu.Lock()
	loops := s.loops
	s.mu.Unlock()
	n := 0
	for _, l := range loops {
		l.mu.Lock()
		n += len(l.conns)
		l.mu.Unlock()
	}
	return n
}
