package resp_test

import (
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"sessiond/internal/testserver"
	"sessiond/resp"
)

// idleTargets runs f against sessiond on event loops, sessiond with a
// goroutine per connection, and redis-server, in parallel (each takes
// seconds of waiting).
func idleTargets(t *testing.T, f func(t *testing.T, addr string)) {
	for _, m := range []struct{ name, loops string }{{"loops", "0"}, {"goroutines", "-1"}} {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			f(t, testserver.Start(t, testserver.WithConfig("event-loops", m.loops)).Addr)
		})
	}
	t.Run("redis", func(t *testing.T) {
		t.Parallel()
		f(t, testserver.StartRedis(t).Addr)
	})
}

func dialIdle(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// ctl sends one command on a connection of its own (a control connection
// kept open would be idle too).
func ctl(t *testing.T, addr, req, want string) {
	t.Helper()
	c := dialIdle(t, addr)
	require.Equal(t, rawOutcome{reply: want}, roundTrip(t, c, req))
	c.Close()
}

// closedWithin reports whether c is closed by the server within d (it
// must not have been sent anything).
func closedWithin(c net.Conn, d time.Duration) bool {
	c.SetReadDeadline(time.Now().Add(d))
	_, err := c.Read(make([]byte, 1))
	return errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || (err != nil && strings.Contains(err.Error(), "reset"))
}

// readUntil reads from c until what it read contains want, or d passes.
func readUntil(t *testing.T, c net.Conn, want string, d time.Duration) string {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(d))
	var got []byte
	buf := make([]byte, 4096)
	for !strings.Contains(string(got), want) {
		n, err := c.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			break
		}
	}
	return string(got)
}

// TestIdleTimeoutSetAtRunTime: CONFIG SET timeout applies to every client
// at once, as Redis's clientsCron does: clients already idle when it is
// raised from 0, or lowered, are closed within about a second; a client
// that keeps sending, a subscriber, a MONITOR and a client held by CLIENT
// PAUSE are not; and timeout 0 stops the closing, also for a client
// already idle.
func TestIdleTimeoutSetAtRunTime(t *testing.T) {
	idleTargets(t, func(t *testing.T, addr string) {
		fromZero := dialIdle(t, addr) // connected under timeout 0, never sends
		pinged := dialIdle(t, addr)
		require.Equal(t, rawOutcome{reply: "+PONG\r\n"}, roundTrip(t, pinged, "PING\r\n"))
		busy, sub, mon, held := dialIdle(t, addr), dialIdle(t, addr), dialIdle(t, addr), dialIdle(t, addr)
		require.Equal(t, rawOutcome{reply: "*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n"}, roundTrip(t, sub, "SUBSCRIBE ch\r\n"))
		require.Equal(t, rawOutcome{reply: "+OK\r\n"}, roundTrip(t, mon, "MONITOR\r\n"))
		require.Equal(t, rawOutcome{reply: "+PONG\r\n"}, roundTrip(t, held, "PING\r\n"))

		ctl(t, addr, "CONFIG SET timeout 100\r\n", "+OK\r\n")
		lowered := dialIdle(t, addr) // connected under timeout 100
		time.Sleep(1200 * time.Millisecond)
		require.False(t, closedWithin(lowered, 10*time.Millisecond), "closed under timeout 100")
		require.False(t, closedWithin(fromZero, 10*time.Millisecond), "closed under timeout 100")

		ctl(t, addr, "CONFIG SET timeout 1\r\n", "+OK\r\n")
		ctl(t, addr, "CLIENT PAUSE 2000 WRITE\r\n", "+OK\r\n")
		_, err := held.Write([]byte("SET k v\r\n")) // waits for the pause to end
		require.NoError(t, err)
		start := time.Now()
		for time.Since(start) < 3*time.Second {
			require.Equal(t, rawOutcome{reply: "+PONG\r\n"}, roundTrip(t, busy, "PING\r\n"))
			time.Sleep(200 * time.Millisecond)
		}
		for name, c := range map[string]net.Conn{"connected under timeout 0": fromZero, "pinged": pinged, "connected under timeout 100": lowered} {
			require.True(t, closedWithin(c, 500*time.Millisecond), "%s: still open 3.5 s after CONFIG SET timeout 1", name)
		}
		require.Equal(t, "+OK\r\n", readUntil(t, held, "\r\n", time.Second), "a client held by CLIENT PAUSE is not idle")
		ctl(t, addr, "PUBLISH ch hello\r\n", ":1\r\n")
		require.Contains(t, readUntil(t, sub, "hello", time.Second), "hello")
		require.Contains(t, readUntil(t, mon, `"PUBLISH" "ch" "hello"`, time.Second), `"PUBLISH" "ch" "hello"`)

		// timeout 0 again: a client idle for most of a second is left alone.
		waiting := dialIdle(t, addr)
		require.Equal(t, rawOutcome{reply: "+PONG\r\n"}, roundTrip(t, waiting, "PING\r\n"))
		time.Sleep(600 * time.Millisecond)
		ctl(t, addr, "CONFIG SET timeout 0\r\n", "+OK\r\n")
		time.Sleep(2 * time.Second)
		require.Equal(t, rawOutcome{reply: "+PONG\r\n"}, roundTrip(t, waiting, "PING\r\n"))
		require.Equal(t, rawOutcome{reply: "+PONG\r\n"}, roundTrip(t, busy, "PING\r\n"))
	})
}

// TestIdleSweep runs sweeps at chosen times: the idle clients are closed
// at once, the exempt ones never, and a client seen busy counts its idle
// time from that sweep, not from its command's start.
func TestIdleSweep(t *testing.T) {
	sd := testserver.Start(t, testserver.WithConfig("timeout", "100"))
	idle, sub, mon, held, list := dialIdle(t, sd.Addr), dialIdle(t, sd.Addr), dialIdle(t, sd.Addr), dialIdle(t, sd.Addr), dialIdle(t, sd.Addr)
	require.Equal(t, rawOutcome{reply: "*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n"}, roundTrip(t, sub, "SUBSCRIBE ch\r\n"))
	require.Equal(t, rawOutcome{reply: "+OK\r\n"}, roundTrip(t, mon, "MONITOR\r\n"))
	require.Equal(t, rawOutcome{reply: "+OK\r\n"}, roundTrip(t, idle, "CLIENT PAUSE 100000 WRITE\r\n"))
	_, err := held.Write([]byte("SET k v\r\n"))
	require.NoError(t, err)
	require.Eventually(t, func() bool { // held's SET waits for the pause
		_, err := list.Write([]byte("CLIENT LIST\r\n"))
		require.NoError(t, err)
		return strings.Contains(readUntil(t, list, "\n\r\n", time.Second), "cmd=set")
	}, 5*time.Second, 20*time.Millisecond)

	busy := func(n int) { // replies are written before the busy mark is cleared
		require.Eventually(t, func() bool { return resp.BusyClientsForTest(sd.Server) == n }, 5*time.Second, time.Millisecond)
	}
	busy(1) // held
	later := time.Now().Add(101 * time.Second)
	require.Equal(t, 0, resp.SweepIdleForTest(sd.Server, time.Now()))
	require.Equal(t, 2, resp.SweepIdleForTest(sd.Server, later))
	require.True(t, closedWithin(idle, time.Second))
	require.True(t, closedWithin(list, time.Second))
	for _, c := range []net.Conn{sub, mon, held} {
		require.False(t, closedWithin(c, 10*time.Millisecond))
	}

	unpause := dialIdle(t, sd.Addr)
	require.Equal(t, rawOutcome{reply: "+OK\r\n"}, roundTrip(t, unpause, "CLIENT UNPAUSE\r\n"))
	require.Equal(t, "+OK\r\n", readUntil(t, held, "\r\n", time.Second))
	busy(0)
	require.Equal(t, 1, resp.SweepIdleForTest(sd.Server, later), "unpause's client only: held was seen busy then")
	require.True(t, closedWithin(unpause, time.Second))
	require.False(t, closedWithin(held, 10*time.Millisecond))
	require.Equal(t, 1, resp.SweepIdleForTest(sd.Server, later.Add(102*time.Second))) // a sweep's hold is one period (1 s)
	require.True(t, closedWithin(held, time.Second))
	for _, c := range []net.Conn{sub, mon} {
		require.False(t, closedWithin(c, 10*time.Millisecond))
	}
}

// TestIdleTimeoutKeepsLoops: with a timeout set, connections stay on
// their event loop (the sweep needs no goroutine of theirs).
func TestIdleTimeoutKeepsLoops(t *testing.T) {
	if runtime.GOOS != "linux" || os.Getenv("SESSIOND_TEST_EVENT_LOOPS") == "-1" {
		t.Skip("event loops are Linux only")
	}
	sd := testserver.Start(t, testserver.WithConfig("timeout", "1"), testserver.WithConfig("event-loops", "1"))
	c := dialIdle(t, sd.Addr)
	require.Equal(t, rawOutcome{reply: "+PONG\r\n"}, roundTrip(t, c, "PING\r\n"))
	require.Equal(t, 1, resp.LoopConns(sd.Server))
	require.True(t, closedWithin(c, 3*time.Second))
	require.Eventually(t, func() bool { return resp.LoopConns(sd.Server) == 0 }, time.Second, 10*time.Millisecond)
}

// TestIdleTimeoutSlowRequest: as in Redis, where every read counts as
// interaction, a request that takes longer than the timeout to arrive is
// not cut off while its bytes keep coming; one left half sent is.
func TestIdleTimeoutSlowRequest(t *testing.T) {
	idleTargets(t, func(t *testing.T, addr string) {
		ctl(t, addr, "CONFIG SET timeout 1\r\n", "+OK\r\n")
		slow, stalled := dialIdle(t, addr), dialIdle(t, addr)
		const size, chunks = 60000, 10
		_, err := slow.Write([]byte("*3\r\n$3\r\nSET\r\n$4\r\nslow\r\n$60000\r\n"))
		require.NoError(t, err)
		_, err = stalled.Write([]byte("*3\r\n$3\r\nSET\r\n$7\r\nstalled\r\n$60000\r\nabc"))
		require.NoError(t, err)
		chunk := []byte(strings.Repeat("x", size/chunks))
		for range chunks {
			time.Sleep(300 * time.Millisecond)
			_, err = slow.Write(chunk)
			require.NoError(t, err, "closed while its request was arriving")
		}
		_, err = slow.Write([]byte("\r\n"))
		require.NoError(t, err)
		require.Equal(t, "+OK\r\n", readUntil(t, slow, "\r\n", 2*time.Second))
		require.True(t, closedWithin(stalled, 500*time.Millisecond), "a half-sent request kept the client open")
	})
}
