//go:build unix

package resp

import (
	"errors"
	"net"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// watchHangup reports, by closing gone, that the peer of nc closed the
// connection (or it failed, or CLIENT KILL closed it) while the connection
// waits in a blocking command: Redis frees a blocked client that
// disconnects, and a waiter nobody listens to must not take an element
// off a list. It peeks at the socket (MSG_PEEK) once it is readable. Input
// that arrives instead (a pipelined command) stays for the read loop; from
// then on a peek would always find it, so the watch polls every
// hangupPoll for the peer's shutdown (POLLRDHUP, Linux) or a hang-up.
// stop ends the watch and must be called before the read loop reads
// again.
func watchHangup(nc net.Conn) (gone <-chan struct{}, stop func()) {
	rc, ok := rawSocket(nc) // a TLS alert (close_notify) is input: the poll below sees the FIN
	if !ok {
		return nil, func() {}
	}
	ch, quit, done := make(chan struct{}), make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		var buf [1]byte
		hup, input := false, false
		err := rc.Read(func(fd uintptr) bool {
			n, _, err := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
			switch {
			case errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EINTR):
				return false // nothing yet: wait for the poller
			case err != nil || n == 0:
				hup = true
			default:
				input = true
			}
			return true
		})
		switch {
		case hup || (err != nil && !errors.Is(err, os.ErrDeadlineExceeded)):
			close(ch)
			return
		case !input:
			return // stopped
		}
		t := time.NewTicker(hangupPoll)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
			}
			if peerGone(rc) {
				close(ch)
				return
			}
		}
	}()
	return ch, func() {
		close(quit)
		nc.SetReadDeadline(time.Unix(1, 0)) // wakes the poller
		<-done
		nc.SetReadDeadline(time.Time{})
	}
}

// hangupPoll is how often a blocked client with unread input is checked.
const hangupPoll = 100 * time.Millisecond

// peerGone reports whether the peer of rc's socket has shut down or the
// socket has failed or been closed.
func peerGone(rc syscall.RawConn) bool {
	gone := false
	err := rc.Control(func(fd uintptr) {
		p := []unix.PollFd{{Fd: int32(fd), Events: pollRDHUP}}
		n, err := unix.Poll(p, 0)
		gone = err == nil && n > 0 && p[0].Revents&(pollRDHUP|unix.POLLHUP|unix.POLLERR|unix.POLLNVAL) != 0
	})
	return gone || err != nil
}

// rawSocket finds nc's socket: through the framer, the event loop's
// handover, TLS.
func rawSocket(nc net.Conn) (syscall.RawConn, bool) {
	for {
		if u, ok := nc.(interface{ underlying() net.Conn }); ok {
			nc = u.underlying()
		} else if t, ok := nc.(interface{ NetConn() net.Conn }); ok {
			nc = t.NetConn()
		} else {
			break
		}
	}
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nil, false
	}
	rc, err := sc.SyscallConn()
	return rc, err == nil
}
